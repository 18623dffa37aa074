import { DataType, node } from '../../core/onnx/graph-builder.ts';
import { GraphIndex } from '../../core/onnx/graph-index.ts';
import { cloneForEdit, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { dimsOf, floatTensor, int8Tensor, readFloats, uint8Tensor } from '../../core/onnx/tensor-data.ts';
import { quantizePerColumn } from './int8-quantize.ts';

/** Observed range of an activation tensor over a calibration corpus. */
export interface TensorRange { min: number; max: number }

export interface QdqStats { weights: number; activations: number }

/**
 * The tensors a static QDQ quantization puts QuantizeLinear -> DequantizeLinear pairs on, as
 * onnxruntime quantize_static (QuantFormat.QDQ) does for MatMul: every computed input of a MatMul
 * (which includes the attention probabilities, i.e. the Softmax output) and the normalised input of a
 * LayerNorm's scale Mul. Returns tensor names in graph order.
 */
export function qdqActivationSites(graph: GraphProto): string[] {
  const g = new GraphIndex(graph);
  const out = new Set<string>();
  for (const n of graph.node) if (isSite(g, n)) n.input.filter((i) => i && !g.isConstant(i)).forEach((i) => out.add(i));
  return [...out];
}

// The Softmax input is left in fp32: it holds the additive attention mask (-10000 on padding), so one
// per-tensor uint8 range over it has a step of ~40 and rounds every real score away (measured on the
// shared model: pooled cosine 0.916 with it, see NOTES). The Softmax output (probabilities in [0, 1]) is
// quantized, as the input of the probs x V MatMul.
function isSite(g: GraphIndex, n: NodeProto): boolean {
  return n.opType === 'MatMul' || (n.opType === 'Mul' && n.input.some((i) => isVector(g, i)));
}

function isVector(g: GraphIndex, name: string): boolean {
  const t = g.initializers.get(name);
  return t !== undefined && t.dataType === DataType.FLOAT && dimsOf(t).length === 1 && dimsOf(t)[0] > 1;
}

/** uint8 asymmetric parameters covering [min, max] and 0 exactly (so padding and masked zeros stay zero). */
export function uint8Params(r: TensorRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = hi > lo ? (hi - lo) / 255 : 1;
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/**
 * Static int8 in QDQ format: MatMul weights [K, N] become int8 symmetric per output channel behind
 * DequantizeLinear(axis=1); each calibrated activation gets one QuantizeLinear (uint8, per tensor)
 * followed by one DequantizeLinear, read by every consumer. onnxruntime fuses DQ -> MatMul -> Q into
 * integer kernels at load, so the file is the portable description and the speed comes from the EP.
 */
export function quantizeQdq(source: ModelProto, ranges: ReadonlyMap<string, TensorRange>): { model: ModelProto; stats: QdqStats } {
  const model = cloneForEdit(source);
  const graph = model.graph;
  const g = new GraphIndex(graph);
  const added: TensorProto[] = [];
  const dequantized = new Map<string, string>();
  const stats: QdqStats = { weights: 0, activations: 0 };
  const out: NodeProto[] = [];
  const weightDq = new Map<string, string>();

  const activation = (x: string): string => {
    const done = dequantized.get(x);
    if (done) return done;
    const r = ranges.get(x);
    if (!r) return x;
    const { scale, zeroPoint } = uint8Params(r);
    const p = `${x}/edgeprobe_qdq`;
    added.push(floatTensor(`${p}/scale`, [], Float32Array.of(scale)), uint8Tensor(`${p}/zero_point`, [], Uint8Array.of(zeroPoint)));
    out.push(node('QuantizeLinear', [x, `${p}/scale`, `${p}/zero_point`], [`${p}/q`], {}, `${p}/QuantizeLinear`));
    out.push(node('DequantizeLinear', [`${p}/q`, `${p}/scale`, `${p}/zero_point`], [`${p}/dq`], {}, `${p}/DequantizeLinear`));
    dequantized.set(x, `${p}/dq`);
    stats.activations++;
    return `${p}/dq`;
  };
  const weight = (t: TensorProto): string => {
    const done = weightDq.get(t.name);
    if (done) return done;
    const [rows, cols] = dimsOf(t);
    const qt = quantizePerColumn(readFloats(t), rows, cols);
    const p = `${t.name}.qdq8`;
    added.push(int8Tensor(p, [rows, cols], qt.values), floatTensor(`${p}.scale`, [cols], qt.scales), int8Tensor(`${p}.zero_point`, [cols], new Int8Array(cols)));
    out.push(node('DequantizeLinear', [p, `${p}.scale`, `${p}.zero_point`], [`${p}/dq`], { axis: 1 }, `${p}/DequantizeLinear`));
    weightDq.set(t.name, `${p}/dq`);
    stats.weights++;
    return `${p}/dq`;
  };

  for (const n of graph.node) {
    // only the quantized ops read the dequantized tensors; residual Adds keep the float originals
    if (!isSite(g, n)) { out.push(n); continue; }
    const w = n.opType === 'MatMul' ? g.initializers.get(n.input[1]) : undefined;
    const float2d = w && w.dataType === DataType.FLOAT && dimsOf(w).length === 2;
    const inputs = n.input.map((i, k) => (float2d && k === 1 ? weight(w) : g.isConstant(i) ? i : activation(i)));
    out.push(inputs.every((i, k) => i === n.input[k]) ? n : { ...n, input: inputs } as NodeProto);
  }
  graph.node = out;
  graph.initializer = [...graph.initializer.filter((t) => !weightDq.has(t.name)), ...added];
  return { model, stats };
}
