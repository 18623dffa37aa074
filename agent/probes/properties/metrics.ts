import { topK } from '../../../core/numeric/vectors.ts';
import type { Targets } from './targets.ts';
import { spearman } from '../../../core/numeric/stats.ts';

/**
 * F1 of the k highest predicted features against the gold feature set (features with value > 0).
 * precision = hits / k, recall = hits / |gold|; 0 when nothing matches. NaN for an empty gold set.
 */
export function f1AtK(predicted: ArrayLike<number>, gold: ArrayLike<number>, k = 10): number {
  let goldSize = 0;
  for (let j = 0; j < gold.length; j++) if (gold[j] > 0) goldSize++;
  if (goldSize === 0) return NaN;
  const top = topK(predicted, k);
  let hits = 0;
  for (const j of top) if (gold[j] > 0) hits++;
  if (hits === 0) return 0;
  const precision = hits / top.length;
  const recall = hits / goldSize;
  return (2 * precision * recall) / (precision + recall);
}

/** Spearman rho between a concept's predicted and gold vectors (across features/attributes). */
export function conceptSpearman(predicted: ArrayLike<number>, gold: ArrayLike<number>): number {
  return spearman(Array.from(predicted), Array.from(gold));
}

/** Spearman rho per feature across concepts; [n, q] row-major matrices. NaN where a side is constant. */
export function attributeSpearman(predicted: Float64Array, gold: Float64Array, n: number, q: number): number[] {
  const out: number[] = [];
  const a = new Array<number>(n);
  const b = new Array<number>(n);
  for (let j = 0; j < q; j++) {
    for (let i = 0; i < n; i++) { a[i] = predicted[i * q + j]; b[i] = gold[i * q + j]; }
    out.push(spearman(a, b));
  }
  return out;
}

/**
 * Neighbourhood accuracy@k: for prediction i (of concept truth[i]) 1 when the true concept is among
 * the k gold vectors most cosine-similar to the prediction, among the candidates (default all concepts;
 * `candidates(truth)` can restrict them, e.g. to the true one plus other-category concepts). Ties count
 * against the prediction, so a constant prediction cannot score by index order. The gold matrix is
 * read through its sparse structure (dot products over nonzeros), which keeps this O(nnz) per prediction.
 */
export function neighbourhoodHits(predicted: Float64Array, truth: readonly number[], gold: Targets, k = 10, candidates?: (truth: number) => readonly number[] | undefined): number[] {
  const { n, q } = gold;
  const goldNorm = new Float64Array(n);
  for (let j = 0; j < n; j++) { let s = 0; for (let b = 0; b < q; b++) s += gold.values[j * q + b] ** 2; goldNorm[j] = Math.sqrt(s); }
  const groups = gold.shift?.groups ?? 0;
  const dots = new Float64Array(n);
  const centroidDots = new Float64Array(groups);
  return truth.map((t, i) => {
    const off = i * q;
    for (let j = 0; j < n; j++) { let s = 0; const o = j * q; for (const b of gold.nonzero[j]) s += predicted[off + b] * gold.sparse[o + b]; dots[j] = s; }
    if (gold.shift) {
      const { centroids, group } = gold.shift;
      for (let g = 0; g < groups; g++) { let s = 0; for (let b = 0; b < q; b++) s += predicted[off + b] * centroids[g * q + b]; centroidDots[g] = s; }
      for (let j = 0; j < n; j++) dots[j] -= centroidDots[group[j]];
    }
    const cos = (j: number): number => (goldNorm[j] === 0 ? 0 : dots[j] / goldNorm[j]);
    const own = cos(t);
    const pool = candidates?.(t);
    let better = 0;
    if (pool) { for (const j of pool) if (j !== t && cos(j) >= own) better++; } else for (let j = 0; j < n; j++) if (j !== t && cos(j) >= own) better++;
    return better < k ? 1 : 0;
  });
}
