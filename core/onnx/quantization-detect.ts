import { GraphIndex } from './graph-index.ts';
import { DataType, type GraphProto } from './proto.ts';
import { dimsOf, elementCount } from './tensor-data.ts';

/**
 * Which quantization a graph contains, read from its ops and initializer types alone, so a file made by
 * any tool (onnxruntime quantize_dynamic / quantize_static, Optimum, Neural Compressor, NNCF, our own
 * variants) is described the same way. A file with any of these forms is not an fp32 model.
 */
export const QUANTIZATION_FORMS = ['QDQ', 'MatMulInteger', 'QLinearMatMul', 'MatMulNBits', 'DynamicQuantizeMatMul', 'int8-embeddings', 'fp16'] as const;
export type QuantizationForm = (typeof QUANTIZATION_FORMS)[number];

export interface QuantizationReport {
  /** forms found, in QUANTIZATION_FORMS order; empty for a plain fp32 graph */
  forms: QuantizationForm[];
  /** true when the graph holds any quantized or half-precision weights */
  quantized: boolean;
  /** QDQ detail: activations quantized too (QuantizeLinear/DynamicQuantizeLinear present) or weights only */
  activations: 'quantized' | 'fp32' | 'fp16';
  /** elements of integer weight initializers (int8/uint8/int4 packed), and of float16 ones */
  integerWeightElements: number;
  fp16WeightElements: number;
  /** count per quantization-related op */
  ops: Record<string, number>;
  /** one line for humans, e.g. "QDQ (int8 weights, quantized activations)" or "fp32 (not quantized)" */
  summary: string;
}

const QUANT_OPS = ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'QLinearMatMul', 'MatMulNBits',
  'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearSoftmax', 'QAttention', 'GatherBlockQuantized'];
const INTEGER_TYPES = new Set<number>([DataType.INT8, DataType.UINT8]);
/** ONNX INT4 / UINT4 data types (IR 10), which the onnx-proto schema predates */
const INT4_TYPES = new Set<number>([21, 22]);
/** fp16 weights smaller than this are constants (scales, epsilons), not a storage format */
const MIN_FP16_WEIGHT = 16;

export function detectQuantization(graph: GraphProto): QuantizationReport {
  const g = new GraphIndex(graph);
  const ops: Record<string, number> = {};
  for (const n of graph.node) if (QUANT_OPS.includes(n.opType)) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  let integerWeightElements = 0;
  let fp16WeightElements = 0;
  for (const t of graph.initializer) {
    const n = elementCount(dimsOf(t));
    if (n <= 1) continue; // zero points and scalars
    if (INTEGER_TYPES.has(t.dataType) || INT4_TYPES.has(t.dataType)) integerWeightElements += n;
    else if (t.dataType === DataType.FLOAT16 && n >= MIN_FP16_WEIGHT) fp16WeightElements += n;
  }
  const forms = new Set<QuantizationForm>();
  if (ops.DequantizeLinear) forms.add('QDQ');
  if (ops.MatMulInteger || ops.MatMulIntegerToFloat) forms.add('MatMulInteger');
  if (ops.QLinearMatMul) forms.add('QLinearMatMul');
  if (ops.MatMulNBits) forms.add('MatMulNBits');
  if (ops.DynamicQuantizeMatMul) forms.add('DynamicQuantizeMatMul');
  // int8 tables read by Gather and rescaled after (our embeddings, GatherBlockQuantized)
  const intGather = graph.node.some((n) => (n.opType === 'Gather' || n.opType === 'GatherBlockQuantized') && INTEGER_TYPES.has(g.initializers.get(n.input[0])?.dataType ?? -1));
  if (intGather) forms.add('int8-embeddings');
  const fp16Io = [...graph.input, ...graph.output].some((v) => v.type?.tensorType?.elemType === DataType.FLOAT16);
  if (fp16WeightElements > 0 || fp16Io) forms.add('fp16');
  const activations = ops.QuantizeLinear || ops.DynamicQuantizeLinear || ops.QLinearMatMul || ops.DynamicQuantizeMatMul ? 'quantized' : fp16Io ? 'fp16' : 'fp32';
  const ordered = QUANTIZATION_FORMS.filter((f) => forms.has(f));
  const quantized = ordered.length > 0;
  const summary = quantized
    ? `${ordered.join(' + ')} (${integerWeightElements > 0 ? 'integer' : 'fp16'} weights, ${activations === 'quantized' ? 'quantized' : activations} activations)`
    : 'fp32 (not quantized)';
  return { forms: ordered, quantized, activations, integerWeightElements, fp16WeightElements, ops, summary };
}
