import { DataType, makeModel, node, tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { createSession, ort } from '../../core/runtime/ort-session.ts';

/**
 * The indices of the k largest predictions of every held-out row, for PLS predictions yMean + Xh R C (Xh:
 * the standardised held-out rows, R: the x rotations of c components, C: the y loadings in prediction
 * units), as a four-node ONNX graph (Gemm -> Gemm -> TopK -> Cast) on onnxruntime's CPU provider. The component search scores ~10^9 predictions per
 * Buchanan layer; forming them row by row in JS and keeping a top-k list cost ~10 ms per count and inner
 * fold (h 1,675 rows x q 1,174 features), MLAS's float64 GEMM and ORT's TopK ~4.5 ms, and the [h, q]
 * predictions never reach the JS heap (they were 15.7 MB per inner fold of garbage).
 * TopK's order is ONNX's: larger first, the lower index first among equal values, so the selected set
 * is the one core/numeric/vectors.ts topK and metrics.ts f1AtK take (a test checks it with ties).
 * One session per thread (symbolic shapes), one intra-op thread: the layer pool runs one worker per core.
 */
let session: Promise<ort.InferenceSession> | undefined;

function topKModel(): Uint8Array {
  const D = DataType.DOUBLE;
  const m = makeModel({
    name: 'pls-topk',
    nodes: [
      // Rt and C hold one component per row, so the first c components are a prefix of each buffer
      node('Gemm', ['Rt', 'Xh'], ['Tt'], { transB: 1 }),
      node('Gemm', ['Tt', 'C', 'yMean'], ['P'], { transA: 1 }),
      node('TopK', ['P', 'k'], ['V', 'I64'], { axis: -1, largest: 1, sorted: 1 }),
      node('Cast', ['I64'], ['I'], { to: DataType.INT32 }),
    ],
    initializers: [],
    inputs: [tensorValueInfo('Xh', D, ['h', 'p']), tensorValueInfo('Rt', D, ['c', 'p']), tensorValueInfo('C', D, ['c', 'q']), tensorValueInfo('yMean', D, ['q']), tensorValueInfo('k', DataType.INT64, [1])],
    outputs: [tensorValueInfo('I', DataType.INT32, ['h', 'k'])],
  });
  return encodeOnnx(m);
}

/**
 * Rows per run: the [rows, q] predictions of a block stay in cache (2.4 MB at Buchanan's q) between the GEMM
 * that writes them and the TopK that reads them; one run over all 1,675 held rows (15.7 MB) was 20-30%
 * slower, more when other work shares the memory bus.
 */
const ROW_BLOCK = 256;

/**
 * Top-k feature indices [h, k'] (k' = min(k, q), best first) of yMean + Xh Rt[0..c)^T C[0..c). Xh is
 * [h, p]; `Rt` holds at least c rows of p rotations, `C` at least c rows of q loadings; c >= 1.
 */
export async function topKPredictionsOnOrt(Xh: Float64Array, Rt: Float64Array, C: Float64Array, yMean: Float64Array, c: number, h: number, k: number): Promise<Int32Array> {
  const q = yMean.length;
  const p = Xh.length / h;
  const kk = Math.min(k, q);
  session ??= createSession(topKModel(), 'pls-topk', { threads: 1 });
  const s = await session;
  const fixed = {
    Rt: new ort.Tensor('float64', Rt.subarray(0, c * p), [c, p]),
    C: new ort.Tensor('float64', C.subarray(0, c * q), [c, q]),
    yMean: new ort.Tensor('float64', yMean, [q]),
    k: new ort.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
  };
  const top = new Int32Array(h * kk);
  for (let start = 0; start < h; start += ROW_BLOCK) {
    const rows = Math.min(ROW_BLOCK, h - start);
    const out = await s.run({ ...fixed, Xh: new ort.Tensor('float64', Xh.subarray(start * p, (start + rows) * p), [rows, p]) });
    top.set(out.I.data as Int32Array, start * kk);
  }
  return top;
}
