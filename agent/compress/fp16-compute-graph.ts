import { DataType, node } from '../../core/onnx/graph-builder.ts';
import { inferElemTypes } from '../../core/onnx/elem-types.ts';
import { cloneForEdit, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { dimsOf, elementCount, float16Tensor, readFloats } from '../../core/onnx/tensor-data.ts';
import { FP16_MAX, FP16_MIN_ELEMENTS } from './fp16-graph.ts';

/**
 * Ops kept in float32 inside an fp16-compute graph, because their fp16 results are wrong, not just
 * less precise: Softmax (exp of large scores, sums of many small terms), the statistics of LayerNorm
 * (Pow of activations overflows fp16's 65504; ReduceMean of squares loses the variance), Sqrt, and
 * ConstantOfShape (its value attribute is typed). Fused LayerNormalization accumulates in fp32 on CUDA
 * anyway, but is kept fp32 here too so CPU and GPU agree.
 */
const FP32_OPS = new Set(['Softmax', 'ReduceMean', 'Pow', 'Sqrt', 'LayerNormalization', 'SkipLayerNormalization', 'ConstantOfShape']);
/** Elementwise ops that stay fp32 when they consume one of those statistics (mean, variance, std). */
const FOLLOWERS = new Set(['Sub', 'Add', 'Div', 'Mul']);
const STATISTIC_OPS = new Set(['ReduceMean', 'Pow', 'Sqrt']);

export interface Fp16ComputeStats { fp16Nodes: number; fp32Nodes: number; casts: number; convertedInitializers: number; saturated: number }

/**
 * fp16 compute: every float tensor becomes float16 except around FP32_OPS, with Casts inserted where
 * the two precisions meet; graph inputs and outputs stay float32 (Casts at the boundary). Meant for
 * execution providers with fp16 kernels (CUDA on Jetson). On the CPU EP onnxruntime's
 * InsertCastTransformer runs the fp16 nodes it has no kernels for in fp32, so a CPU run checks the
 * rewrite's correctness but not fp16 arithmetic.
 */
export function computeInFp16(source: ModelProto): { model: ModelProto; stats: Fp16ComputeStats } {
  const model = cloneForEdit(source);
  const graph = model.graph;
  const types = inferElemTypes(graph);
  const isFloat = (t: string): boolean => types.get(t) === DataType.FLOAT;
  const stats: Fp16ComputeStats = { fp16Nodes: 0, fp32Nodes: 0, casts: 0, convertedInitializers: 0, saturated: 0 };

  // precision each float tensor has after the rewrite
  const precision = new Map<string, number>();
  const graphInputs = new Set(graph.input.map((i) => i.name));
  graph.initializer = graph.initializer.map((t): TensorProto => {
    if (t.dataType !== DataType.FLOAT || graphInputs.has(t.name) || elementCount(dimsOf(t)) < FP16_MIN_ELEMENTS) {
      if (t.dataType === DataType.FLOAT) precision.set(t.name, DataType.FLOAT);
      return t;
    }
    const v = readFloats(t);
    for (const x of v) if (Math.abs(x) > FP16_MAX) stats.saturated++;
    stats.convertedInitializers++;
    precision.set(t.name, DataType.FLOAT16);
    return float16Tensor(t.name, dimsOf(t), v.map((x) => Math.max(-FP16_MAX, Math.min(FP16_MAX, x))));
  });
  for (const i of graph.input) if (isFloat(i.name)) precision.set(i.name, DataType.FLOAT);

  const producerOp = new Map<string, string>();
  const casts = new Map<string, string>();
  const out: NodeProto[] = [];
  const castTo = (tensor: string, to: number): string => {
    if ((precision.get(tensor) ?? DataType.FLOAT) === to) return tensor;
    const key = `${tensor}|${to}`;
    let name = casts.get(key);
    if (!name) {
      name = `${tensor}/edgeprobe_as_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`;
      out.push(node('Cast', [tensor], [name], { to }, name));
      precision.set(name, to);
      casts.set(key, name);
      stats.casts++;
    }
    return name;
  };

  for (const n of graph.node) {
    const floatOutputs = n.output.filter((o) => o && isFloat(o));
    const floatInputs = n.input.filter((i) => i && isFloat(i));
    if (floatOutputs.length === 0 && floatInputs.length === 0) { out.push(n); continue; }
    const keep32 = FP32_OPS.has(n.opType)
      || (FOLLOWERS.has(n.opType) && n.input.some((i) => STATISTIC_OPS.has(producerOp.get(i) ?? '')))
      || n.opType === 'Constant' || (n.domain ?? '') !== '';
    const p = keep32 ? DataType.FLOAT : DataType.FLOAT16;
    // ops whose float inputs are data (not e.g. Shape, which reads any type) get them in their precision
    const inputs = n.opType === 'Shape' ? n.input : n.input.map((i) => (i && isFloat(i) ? castTo(i, p) : i));
    let rewritten = n;
    if (n.opType === 'Cast' && Number(n.attribute.find((a) => a.name === 'to')?.i) === DataType.FLOAT && !keep32) {
      rewritten = node('Cast', inputs, [...n.output], { to: DataType.FLOAT16 }, n.name);
    } else if (inputs.some((x, k) => x !== n.input[k])) {
      rewritten = { ...n, input: inputs } as NodeProto;
    }
    out.push(rewritten);
    for (const o of floatOutputs) { precision.set(o, n.opType === 'Constant' ? DataType.FLOAT : p); producerOp.set(o, n.opType); }
    if (keep32) stats.fp32Nodes++; else stats.fp16Nodes++;
  }
  // float32 at the graph boundary: an output computed in fp16 is renamed and cast back
  for (const o of graph.output) {
    if (precision.get(o.name) !== DataType.FLOAT16) continue;
    const inner = `${o.name}/edgeprobe_fp16`;
    // nodes are shared with the source model, so renamed ones are copies
    const rename = (x: string): string => (x === o.name ? inner : x);
    for (let k = 0; k < out.length; k++) {
      const n = out[k];
      if (n.output.includes(o.name) || n.input.includes(o.name)) out[k] = { ...n, input: n.input.map(rename), output: n.output.map(rename) } as NodeProto;
    }
    out.push(node('Cast', [inner], [o.name], { to: DataType.FLOAT }, `${o.name}/edgeprobe_output_fp32`));
    stats.casts++;
  }
  graph.node = out;
  graph.valueInfo = []; // element types changed; stale value_info would contradict them
  return { model, stats };
}
