import type { InferenceSession } from 'onnxruntime-node';
import { DataType } from '../../core/onnx/graph-builder.ts';
import { tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { cloneForEdit, type ModelProto } from '../../core/onnx/proto.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession } from '../../core/runtime/ort-session.ts';
import type { TensorRange } from './qdq-graph.ts';
import { MINMAX, type Calibration } from '../../core/variants/recipe-settings.ts';

/** Bins of the |activation| histogram over [0, max |x|]; the cut is a bin's upper edge, so at most max/8192 above the exact percentile. */
export const PERCENTILE_BINS = 8192;

/**
 * Ranges of chosen float tensors over calibration sequences: the tensors become extra graph outputs of a
 * copy and every batch widens min/max (onnxruntime's MinMax calibrator). With percentile calibration (its
 * Percentile calibrator, symmetric: one outlier no longer sets the scale of every other value) a second pass fills a histogram of
 * |x| per tensor and each range is clipped to [-t, t], t the upper edge of the bin where the cumulative
 * share reaches the percentile. Padding positions are included, as they are at run time.
 */
export async function calibrateRanges(source: ModelProto, tensors: readonly string[], sequences: readonly number[][], padId: number, label = 'model', calibration: Calibration = MINMAX): Promise<Map<string, TensorRange>> {
  const model = cloneForEdit(source);
  const existing = new Set(model.graph.output.map((o) => o.name));
  for (const t of tensors) if (!existing.has(t)) model.graph.output.push(tensorValueInfo(t, DataType.FLOAT));
  const session = await createSession(encodeOnnx(model), `${label} (calibration)`);
  const ranges = new Map<string, TensorRange>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  try {
    await eachBatch(session, tensors, sequences, padId, (t, values) => {
      const r = ranges.get(t)!;
      for (const v of values) { if (v < r.min) r.min = v; if (v > r.max) r.max = v; }
    });
    if (calibration.method === 'percentile') {
      const maxAbs = new Map(tensors.map((t) => [t, Math.max(Math.abs(ranges.get(t)!.min), Math.abs(ranges.get(t)!.max))]));
      const hist = new Map(tensors.map((t) => [t, new Float64Array(PERCENTILE_BINS)]));
      await eachBatch(session, tensors, sequences, padId, (t, values) => {
        const h = hist.get(t)!;
        const width = maxAbs.get(t)! / PERCENTILE_BINS;
        for (const v of values) h[width > 0 ? Math.min(PERCENTILE_BINS - 1, Math.floor(Math.abs(v) / width)) : 0]++;
      });
      for (const t of tensors) {
        const cut = percentileCut(hist.get(t)!, maxAbs.get(t)!, calibration.percentile);
        const r = ranges.get(t)!;
        ranges.set(t, { min: Math.max(r.min, -cut), max: Math.min(r.max, cut) });
      }
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/** Upper edge of the first histogram bin (over [0, maxAbs]) at which the cumulative share reaches `percentile`. */
export function percentileCut(hist: Float64Array, maxAbs: number, percentile: number): number {
  const total = hist.reduce((s, x) => s + x, 0);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i];
    if (seen * 100 >= percentile * total) return ((i + 1) * maxAbs) / hist.length;
  }
  return maxAbs;
}

async function eachBatch(session: InferenceSession, tensors: readonly string[], sequences: readonly number[][], padId: number, visit: (tensor: string, values: Float32Array) => void): Promise<void> {
  for (let i = 0; i < sequences.length; i += 8) {
    const { feeds } = bertFeeds(session.inputNames, sequences.slice(i, i + 8), padId, session.inputMetadata);
    const out = await session.run(feeds, [...tensors]);
    for (const t of tensors) visit(t, tensorFloats(out[t]));
  }
}
