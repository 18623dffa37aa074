// Whether a head (or a layer's head means) looks structured: apart from verdicts.ts so the shuffled-input
// control, which the verdicts read, can use it without an import circle.
import type { HeadStructure, LayerStructure } from './structure.ts';
import type { AttentionThresholds } from './thresholds.ts';

export function looksStructured(s: HeadStructure, t: AttentionThresholds): boolean {
  return s.entropyRatio <= t.structure.structuredEntropyRatio || s.dominantShare >= t.structure.structuredDominantShare;
}

/**
 * Heads that look structured on their own. The verdict judges layers by their head means (as it always has);
 * one sharp head among near-uniform ones (a previous-token head) can leave the mean on the threshold, so the
 * heads are named too.
 */
export function structuredHeads(structure: readonly LayerStructure[], t: AttentionThresholds): Array<{ layer: number; head: number }> {
  return structure.flatMap((s) => s.heads.flatMap((h, head) => (looksStructured(h, t) ? [{ layer: s.layer, head }] : [])));
}
