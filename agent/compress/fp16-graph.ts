import { DataType, node } from '../../core/onnx/graph-builder.ts';
import { cloneForEdit, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { elementCount, dimsOf, float16Tensor, readFloats } from '../../core/onnx/tensor-data.ts';

/** Largest finite float16 value; weights beyond it would become Inf. */
export const FP16_MAX = 65504;
/**
 * Initializers smaller than this stay float32: they are scalars such as LayerNorm epsilon (1e-12 is
 * below fp16's smallest subnormal, 6e-8, and would become 0 and divide by zero) and cost no bytes.
 */
export const FP16_MIN_ELEMENTS = 16;

export interface Fp16Stats { converted: number; keptFloat32: number; saturated: number; maxAbsRoundingError: number }

/**
 * fp16 storage: every float initializer of at least FP16_MIN_ELEMENTS elements is stored as FLOAT16 and
 * followed by a Cast to FLOAT, so inputs, outputs and compute stay float32. onnxruntime constant-folds
 * those Casts when it loads the session (the CPU EP has no fp16 kernels for most ops), so the file is
 * half the size and the numbers are the fp32 model's with weights rounded to fp16.
 */
export function storeWeightsFp16(source: ModelProto): { model: ModelProto; stats: Fp16Stats } {
  const model = cloneForEdit(source);
  const graph = model.graph;
  const graphInputs = new Set(graph.input.map((i) => i.name));
  const casts: NodeProto[] = [];
  const stats: Fp16Stats = { converted: 0, keptFloat32: 0, saturated: 0, maxAbsRoundingError: 0 };
  graph.initializer = graph.initializer.map((t): TensorProto => {
    if (t.dataType !== DataType.FLOAT || graphInputs.has(t.name)) return t;
    const dims = dimsOf(t);
    if (elementCount(dims) < FP16_MIN_ELEMENTS) { stats.keptFloat32++; return t; }
    const values = readFloats(t);
    const clipped = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Math.abs(v) > FP16_MAX) stats.saturated++;
      clipped[i] = Math.max(-FP16_MAX, Math.min(FP16_MAX, v));
    }
    const half = float16Tensor(`${t.name}.fp16`, dims, clipped);
    const back = readFloats(half);
    for (let i = 0; i < values.length; i++) stats.maxAbsRoundingError = Math.max(stats.maxAbsRoundingError, Math.abs(back[i] - values[i]));
    // the Cast writes the original name, so every consumer keeps reading a float32 tensor
    casts.push(node('Cast', [half.name], [t.name], { to: DataType.FLOAT }, `${t.name}/edgeprobe_fp16_upcast`));
    stats.converted++;
    return half;
  });
  // graph outputs that were initializers now come from the Cast; nothing else changes
  graph.node = [...casts, ...graph.node];
  return { model, stats };
}
