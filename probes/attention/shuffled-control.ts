import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { ModelProto } from '../../core/onnx/proto.ts';
import type { Progress } from '../../core/progress.ts';
import { collectActivations, type Activations } from './activations.ts';
import { compareActivations, permuteSentence } from './survival.ts';
import { identifiabilityCurve } from './identifiability.ts';
import { attentionStructure, type LayerStructure } from './structure.ts';
import type { AttentionThresholds } from './thresholds.ts';
import { looksStructured, structuredHeads } from './structured-heads.ts';

/**
 * Shuffled-input control: the words of each sentence are permuted (seeded; [CLS] first and [SEP] last
 * stay in place) and the model is run again. If the maps look just as structured on word salad, their
 * structure is no evidence of linguistic relations; `alignedJs` says how much each map changed beyond
 * following its tokens to their new positions.
 */
export interface ShuffledControlLayer {
  layer: number;
  entropyRatio: number;
  dominantShare: number;
  /** (1 - entropyRatio) on shuffled input over the same on the original: 1 = just as structured */
  structureKept: number;
  /** mean JS of attention rows between the shuffled run and the original maps permuted the same way (NaN on a decoder) */
  alignedJs: number;
  identifiability: number;
}

export interface ShuffledControl {
  layers: ShuffledControlLayer[];
  /** layers whose structure is kept at or above the threshold on shuffled input */
  structureKeptLayers: number[];
}

/** Permutation of 0..n-1 that keeps the first and last position (the special tokens). */
export function innerPermutation(n: number, rng: SeededRandom): number[] {
  if (n <= 3) return Array.from({ length: n }, (_, i) => i);
  return [0, ...rng.shuffle(Array.from({ length: n - 2 }, (_, i) => i + 1)), n - 1];
}

export async function shuffledControl(
  model: ModelProto, sequences: number[][], padId: number, original: Activations, originalStructure: LayerStructure[],
  seed: number, thresholds: AttentionThresholds, progress?: Progress,
): Promise<ShuffledControl> {
  const rng = new SeededRandom(seed + 7919);
  const perms = sequences.map((s) => innerPermutation(s.length, rng));
  const shuffled = sequences.map((s, i) => perms[i].map((p) => s[p]));
  const acts = await collectActivations(model, 'shuffled input', shuffled, padId, { progress, stage: 'shuffled-input control' });
  const aligned: Activations = { ...original, sentences: original.sentences.map((s, i) => permuteSentence(s, perms[i], original.heads, original.hiddenSize)) };
  // a permuted causal map is not causal (position p would attend to later tokens): no aligned comparison exists
  const cmp = original.causal ? undefined : compareActivations(aligned, acts, thresholds.survival.topK);
  const structure = attentionStructure(acts, thresholds.structure.dominantWeight);
  const ident = identifiabilityCurve(acts);
  const layers = structure.map((s, k) => {
    const orig = originalStructure[k];
    const kept = 1 - orig.entropyRatio > 0 ? (1 - s.entropyRatio) / (1 - orig.entropyRatio) : NaN;
    return {
      layer: s.layer,
      entropyRatio: s.entropyRatio,
      dominantShare: s.dominantShare,
      structureKept: kept,
      alignedJs: cmp ? cmp[k].jsPerHead.reduce((a, b) => a + b, 0) / cmp[k].jsPerHead.length : NaN,
      identifiability: ident[s.layer],
    };
  });
  // on a decoder, a layer at the causal-uniform baseline (no layer mean or head structured) has no structure to keep:
  // its ratio of two near-zero distances from the baseline is noise, and "as structured as on real text" would misread it
  const hasStructure = (k: number): boolean => !original.causal || structuredHeads([originalStructure[k]], thresholds).length > 0 || looksStructured(originalStructure[k], thresholds);
  return { layers, structureKeptLayers: layers.filter((l, k) => hasStructure(k) && l.structureKept >= thresholds.shuffledControl.structureKeptRatio).map((l) => l.layer) };
}
