import { builtInCorpus } from '../../core/corpus/sentence-corpus.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ModelProto } from '../../core/onnx/proto.ts';
import { calibrateRanges } from './activation-ranges.ts';
import { qdqActivationSites, quantizeQdq, type QdqStats } from './qdq-graph.ts';

/** Calibration corpus of the int8-static variant: the first sentences of the built-in corpus (seed 1). */
export const INT8_STATIC_CALIBRATION = { corpus: 'built-in', seed: 1, sentences: 32, method: 'minmax' } as const;

/**
 * Static int8 in QDQ format (onnxruntime quantize_static's default layout): activation ranges are the
 * min/max over the calibration sentences, so the variant depends on the corpus and the manifest names it.
 */
export async function int8Static(md: ModelDir, source: ModelProto = md.model.proto): Promise<{ model: ModelProto; stats: QdqStats & { calibrationSentences: number } }> {
  const c = INT8_STATIC_CALIBRATION;
  const sequences = builtInCorpus(c.seed, c.sentences).sentences.map((s) => md.tokenizer.encode(s).ids);
  const ranges = await calibrateRanges(source, qdqActivationSites(source.graph), sequences, md.tokenizer.padId, md.onnxPath);
  const { model, stats } = quantizeQdq(source, ranges);
  return { model, stats: { ...stats, calibrationSentences: sequences.length } };
}
