import { builtInCorpus } from '../../core/corpus/sentence-corpus.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ModelProto } from '../../core/onnx/proto.ts';
import { MINMAX, type Calibration } from '../../core/variants/recipe-settings.ts';
import { calibrateRanges } from './activation-ranges.ts';
import { qdqActivationSites, quantizeQdq, type QdqStats } from './qdq-graph.ts';

/** Calibration corpus of the int8-static variant: the first sentences of the built-in corpus (seed 1). */
export const INT8_STATIC_CALIBRATION = { corpus: 'built-in', seed: 1, sentences: 32, method: 'minmax' } as const;

/** What the manifest records of a calibration: the corpus, the method and (percentile) its percentile. */
export function int8StaticCalibration(c: Calibration): Record<string, unknown> {
  return c.method === 'minmax' ? { ...INT8_STATIC_CALIBRATION } : { ...INT8_STATIC_CALIBRATION, method: 'percentile', percentile: c.percentile };
}

/**
 * Static int8 in QDQ format (onnxruntime quantize_static's default layout): activation ranges are the
 * min/max over the calibration sentences, or cut at a percentile of |activation|, so the variant depends
 * on the corpus and the method, and the manifest names both.
 */
export async function int8Static(md: ModelDir, source: ModelProto = md.model.proto, calibration: Calibration = MINMAX): Promise<{ model: ModelProto; stats: QdqStats & { calibrationSentences: number } }> {
  const c = INT8_STATIC_CALIBRATION;
  const sequences = builtInCorpus(c.seed, c.sentences).sentences.map((s) => md.tokenizer.encode(s).ids);
  const ranges = await calibrateRanges(source, qdqActivationSites(source.graph), sequences, md.tokenizer.padId, md.onnxPath, calibration);
  const { model, stats } = quantizeQdq(source, ranges);
  return { model, stats: { ...stats, calibrationSentences: sequences.length } };
}
