import { DataType } from '../../core/onnx/graph-builder.ts';
import { tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { cloneForEdit, type ModelProto } from '../../core/onnx/proto.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession } from '../../core/runtime/ort-session.ts';
import type { TensorRange } from './qdq-graph.ts';

/**
 * Min/max of chosen float tensors over calibration sequences (onnxruntime's MinMax calibrator):
 * the tensors become extra graph outputs of a copy and every batch widens the ranges. Padding
 * positions are included, as they are at run time.
 */
export async function calibrateRanges(source: ModelProto, tensors: readonly string[], sequences: readonly number[][], padId: number, label = 'model'): Promise<Map<string, TensorRange>> {
  const model = cloneForEdit(source);
  const existing = new Set(model.graph.output.map((o) => o.name));
  for (const t of tensors) if (!existing.has(t)) model.graph.output.push(tensorValueInfo(t, DataType.FLOAT));
  const session = await createSession(encodeOnnx(model), `${label} (calibration)`);
  const ranges = new Map<string, TensorRange>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  try {
    for (let i = 0; i < sequences.length; i += 8) {
      const { feeds } = bertFeeds(session.inputNames, sequences.slice(i, i + 8), padId, session.inputMetadata);
      const out = await session.run(feeds, [...tensors]);
      for (const t of tensors) {
        const r = ranges.get(t)!;
        for (const v of tensorFloats(out[t])) { if (v < r.min) r.min = v; if (v > r.max) r.max = v; }
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}
