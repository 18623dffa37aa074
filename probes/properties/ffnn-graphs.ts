import { DataType, makeModel, node, scalarInitializer, tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import type { NodeProto, TensorProto } from '../../core/onnx/proto.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { int64Tensor } from '../../core/onnx/tensor-data.ts';
import { createSession, ort } from '../../core/runtime/ort-session.ts';

/**
 * The FFNN's batched products as two tiny ONNX graphs run by onnxruntime's CPU provider (MLAS GEMM with
 * AVX2 / AVX-512; float32 like the hand-written loops' storage): the forward pass, and one training step's
 * gradients of the mean squared error. Shapes are symbolic (batch B, sizes from the weights), so one
 * session per graph serves every fit of the process. Why not hand-written JS: the per-row loops ran at
 * scalar speed (~6.5 CPU s per McRae fit); the same products as GEMMs are ~20-60x faster (bench/results).
 */
const F = DataType.FLOAT;

function forwardNodes(): NodeProto[] {
  return [
    // z = x W1^T + b1 [B, h]; a = relu(z); out = a W2^T + b2 [B, q]
    node('Gemm', ['x', 'W1', 'b1'], ['z'], { transB: 1 }),
    node('Relu', ['z'], ['a']),
    node('Gemm', ['a', 'W2', 'b2'], ['out'], { transB: 1 }),
  ];
}

const weightInputs = () => [
  tensorValueInfo('x', F, ['B', 'p']), tensorValueInfo('W1', F, ['h', 'p']), tensorValueInfo('b1', F, ['h']),
  tensorValueInfo('W2', F, ['q', 'h']), tensorValueInfo('b2', F, ['q']),
];

function forwardModel(): Uint8Array {
  const m = makeModel({ name: 'ffnn-forward', nodes: forwardNodes(), initializers: [], inputs: weightInputs(), outputs: [tensorValueInfo('out', F, ['B', 'q'])] });
  return encodeOnnx(m);
}

/** One step's gradients of the batch MSE: d(loss)/d(out) = (out - y) * scale, scale = 2 / (B q). */
function gradientModel(): Uint8Array {
  const inits: TensorProto[] = [int64Tensor('axis0', [1], [0])];
  scalarInitializer(inits, 'zero', 0);
  const nodes = [
    ...forwardNodes(),
    node('Sub', ['out', 'y'], ['err']),
    node('Mul', ['err', 'scale'], ['d']),
    node('Gemm', ['d', 'a'], ['gW2'], { transA: 1 }),
    node('ReduceSum', ['d', 'axis0'], ['gb2'], { keepdims: 0 }),
    node('MatMul', ['d', 'W2'], ['dA']),
    // ReLU's derivative: the units with z > 0
    node('Greater', ['z', 'zero'], ['on']),
    node('Cast', ['on'], ['mask'], { to: F }),
    node('Mul', ['dA', 'mask'], ['dZ']),
    node('Gemm', ['dZ', 'x'], ['gW1'], { transA: 1 }),
    node('ReduceSum', ['dZ', 'axis0'], ['gb1'], { keepdims: 0 }),
  ];
  const m = makeModel({
    name: 'ffnn-gradients', nodes, initializers: inits,
    inputs: [...weightInputs(), tensorValueInfo('y', F, ['B', 'q']), tensorValueInfo('scale', F, [])],
    outputs: [tensorValueInfo('gW1', F, ['h', 'p']), tensorValueInfo('gb1', F, ['h']), tensorValueInfo('gW2', F, ['q', 'h']), tensorValueInfo('gb2', F, ['q'])],
  });
  return encodeOnnx(m);
}

export interface FfnnWeights { W1: Float32Array; b1: Float32Array; W2: Float32Array; b2: Float32Array; p: number; h: number; q: number }

export interface FfnnSessions {
  forward(w: FfnnWeights, x: Float32Array, rows: number): Promise<Float32Array>;
  gradients(w: FfnnWeights, x: Float32Array, y: Float32Array, rows: number, scale: number): Promise<Float32Array[]>;
}

let sessions: Promise<FfnnSessions> | undefined;

/** The process's two FFNN sessions (one intra-op thread: the layer pool already runs one worker per core). */
export function ffnnSessions(): Promise<FfnnSessions> {
  sessions ??= (async () => {
    const fwd = await createSession(forwardModel(), 'ffnn-forward', { threads: 1 });
    const grad = await createSession(gradientModel(), 'ffnn-gradients', { threads: 1 });
    const feeds = (w: FfnnWeights, x: Float32Array, rows: number): Record<string, ort.Tensor> => ({
      x: new ort.Tensor('float32', x.subarray(0, rows * w.p), [rows, w.p]),
      W1: new ort.Tensor('float32', w.W1, [w.h, w.p]), b1: new ort.Tensor('float32', w.b1, [w.h]),
      W2: new ort.Tensor('float32', w.W2, [w.q, w.h]), b2: new ort.Tensor('float32', w.b2, [w.q]),
    });
    return {
      async forward(w, x, rows) { return (await fwd.run(feeds(w, x, rows), ['out'])).out.data as Float32Array; },
      async gradients(w, x, y, rows, scale) {
        const r = await grad.run({
          ...feeds(w, x, rows), y: new ort.Tensor('float32', y.subarray(0, rows * w.q), [rows, w.q]),
          scale: new ort.Tensor('float32', Float32Array.of(scale), []),
        });
        return [r.gW1.data, r.gb1.data, r.gW2.data, r.gb2.data] as Float32Array[];
      },
    };
  })();
  return sessions;
}
