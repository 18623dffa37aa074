import { DataType, makeModel, node, tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { createSession, ort } from '../../core/runtime/ort-session.ts';

/**
 * G = A^T A of a row-major [rows, width] float64 matrix, as a one-node ONNX graph (Gemm with transA) on
 * onnxruntime's CPU provider: MLAS's double-precision GEMM (AVX2 / AVX-512 kernels). The PLS kernel
 * S S^T (p^2 q / 2 multiply-adds per fit) was the hand-written loop's largest single cost; in float64 the
 * result equals the loop's up to rounding (~1e-15 relative, checked in test/properties-plsr.test.ts).
 * One session per process (symbolic shapes), one intra-op thread: the layer pool runs one worker per core.
 */
let session: Promise<ort.InferenceSession> | undefined;

function gramModel(): Uint8Array {
  const D = DataType.DOUBLE;
  const m = makeModel({
    name: 'gram', nodes: [node('Gemm', ['A', 'A'], ['G'], { transA: 1 })], initializers: [],
    inputs: [tensorValueInfo('A', D, ['rows', 'width'])], outputs: [tensorValueInfo('G', D, ['width', 'width'])],
  });
  return encodeOnnx(m);
}

export async function gramOnOrt(A: Float64Array, rows: number, width: number): Promise<Float64Array> {
  session ??= createSession(gramModel(), 'gram', { threads: 1 });
  const s = await session;
  const out = await s.run({ A: new ort.Tensor('float64', A.subarray(0, rows * width), [rows, width]) });
  return out.G.data as Float64Array;
}
