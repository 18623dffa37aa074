import { topK } from '../../core/numeric/vectors.ts';
import type { Targets } from './targets.ts';
import { spearman } from '../../core/numeric/stats.ts';

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

/** Average ranks (ties share their mean rank), 1-based. */
function midranks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]] = rank;
    i = j + 1;
  }
  return r;
}

/**
 * Spearman rho between a concept's predicted and gold vectors (across features/attributes): Pearson of
 * the midranks, as simple-statistics' sampleRankCorrelation computes it (the test checks both agree), but
 * without its array copies: the inner component search calls this ~10^6 times per Binder layer.
 */
export function conceptSpearman(predicted: ArrayLike<number>, gold: ArrayLike<number>): number {
  const n = predicted.length;
  if (n < 2) return NaN;
  const a = midranks(predicted);
  const b = midranks(gold);
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const da = a[i] - mean, db = b[i] - mean; sab += da * db; saa += da * da; sbb += db * db; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
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
 * `candidates(truth)` gives a second, restricted count, e.g. against other-category concepts only). Ties count
 * against the prediction, so a constant prediction cannot score by index order. The gold matrix is
 * read through its sparse structure (dot products over nonzeros), which keeps this O(nnz) per prediction.
 */
export function neighbourhoodHits(predicted: Float64Array, truth: readonly number[], gold: Targets, k = 10, candidates?: (truth: number) => readonly number[] | undefined): { all: number[]; restricted?: number[] } {
  const { n, q } = gold;
  const goldNorm = new Float64Array(n);
  for (let j = 0; j < n; j++) { let s = 0; for (let b = 0; b < q; b++) s += gold.values[j * q + b] ** 2; goldNorm[j] = Math.sqrt(s); }
  // the sparse part as flat CSR arrays: this loop runs n x nnz-per-row times per prediction
  const rowPtr = new Int32Array(n + 1);
  for (let j = 0; j < n; j++) rowPtr[j + 1] = rowPtr[j] + gold.nonzero[j].length;
  const col = new Int32Array(rowPtr[n]);
  const val = new Float64Array(rowPtr[n]);
  for (let j = 0; j < n; j++) gold.nonzero[j].forEach((b, x) => { col[rowPtr[j] + x] = b; val[rowPtr[j] + x] = gold.sparse[j * q + b]; });
  const groups = gold.shift?.groups ?? 0;
  const dots = new Float64Array(n);
  const centroidDots = new Float64Array(groups);
  const all: number[] = [];
  const restricted: number[] = [];
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const off = i * q;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let x = rowPtr[j]; x < rowPtr[j + 1]; x++) s += predicted[off + col[x]] * val[x];
      dots[j] = s;
    }
    if (gold.shift) {
      const { centroids, group } = gold.shift;
      for (let g = 0; g < groups; g++) { let s = 0; for (let b = 0; b < q; b++) s += predicted[off + b] * centroids[g * q + b]; centroidDots[g] = s; }
      for (let j = 0; j < n; j++) dots[j] -= centroidDots[group[j]];
    }
    for (let j = 0; j < n; j++) dots[j] = goldNorm[j] === 0 ? 0 : dots[j] / goldNorm[j];
    const own = dots[t];
    let better = 0;
    for (let j = 0; j < n; j++) if (j !== t && dots[j] >= own) better++;
    all.push(better < k ? 1 : 0);
    const pool = candidates?.(t);
    if (pool) {
      let b2 = 0;
      for (let x = 0; x < pool.length; x++) { const j = pool[x]; if (j !== t && dots[j] >= own) b2++; }
      restricted.push(b2 < k ? 1 : 0);
    }
  }
  return { all, restricted: candidates ? restricted : undefined };
}
