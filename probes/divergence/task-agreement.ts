import { topK } from '../../core/numeric/vectors.ts';

/**
 * Task-output agreement between a variant and the reference. Fill-mask: each item has one masked
 * position; classification: one label per text.
 *
 * - top-1 accuracy: the variant's best token equals the gold target (fill-mask only)
 * - top-1 agreement: the variant's best token/label equals the reference's
 * - top-5 agreement: |top5(variant) ∩ top5(reference)| / 5, averaged (order inside the five ignored)
 */
export interface AgreementCounts {
  items: number;
  top1Correct: number;
  top1Agree: number;
  top5Overlap: number;
}

export interface AgreementSummary {
  items: number;
  /** null when the task has no gold labels */
  top1Accuracy: number | null;
  top1Agreement: number;
  top5Agreement: number;
}

export function emptyCounts(): AgreementCounts {
  return { items: 0, top1Correct: 0, top1Agree: 0, top5Overlap: 0 };
}

/**
 * Folds one prediction pair in: `ref` and `variant` are score vectors over classes/tokens, read at
 * offsets into larger buffers (logits [batch, seq, vocab]); `target` is the gold id when known.
 */
export function addPrediction(acc: AgreementCounts, ref: ArrayLike<number>, variant: ArrayLike<number>, width: number, offset: number, target?: number): void {
  const k = Math.min(5, width);
  addRanked(acc, topK(ref, k, width, offset), topK(variant, k, width, offset), target);
}

/** The same from each side's top-5 ids (best first), so a reference's ranking can be kept instead of its logits. */
export function addRanked(acc: AgreementCounts, r: readonly number[], v: readonly number[], target?: number): void {
  const k = r.length;
  acc.items++;
  if (target !== undefined && v[0] === target) acc.top1Correct++;
  if (v[0] === r[0]) acc.top1Agree++;
  const rs = new Set(r);
  acc.top5Overlap += v.filter((x) => rs.has(x)).length / k;
}

export function summarize(acc: AgreementCounts, hasTargets: boolean): AgreementSummary {
  const n = acc.items;
  return {
    items: n,
    top1Accuracy: hasTargets ? acc.top1Correct / n : null,
    top1Agreement: acc.top1Agree / n,
    top5Agreement: acc.top5Overlap / n,
  };
}
