import { SeededRandom } from './seeded-random.ts';

/** A row given by its nonzero entries (dense rows: every index). */
export interface SparseRow { index: ArrayLike<number>; value: ArrayLike<number> }

export interface KMeansResult { assignment: Int32Array; centroids: Float64Array; k: number; iterations: number }

/**
 * Lloyd's k-means with seeded k-means++ initialisation on rows given by their nonzeros, so that
 * clustering thousands of sparse feature-norm vectors costs O(nnz k) per iteration; distances use
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2. ml-matrix and simple-statistics have no seeded sparse k-means.
 */
export function kMeans(rows: readonly SparseRow[], dim: number, k: number, opts: { seed?: number; maxIter?: number } = {}): KMeansResult {
  const n = rows.length;
  if (k < 1 || k > n) throw new Error(`k-means needs 1 <= k <= n (k ${k}, n ${n})`);
  const rng = new SeededRandom(opts.seed ?? 1);
  const sq = rows.map((r) => { let s = 0; for (let i = 0; i < r.value.length; i++) s += r.value[i] ** 2; return s; });
  const centroids = new Float64Array(k * dim);
  const cNorm = new Float64Array(k);
  const setCentroidToRow = (c: number, r: number): void => {
    centroids.fill(0, c * dim, (c + 1) * dim);
    const row = rows[r];
    for (let i = 0; i < row.index.length; i++) centroids[c * dim + row.index[i]] = row.value[i];
    cNorm[c] = sq[r];
  };
  const dist = (r: number, c: number): number => {
    const row = rows[r];
    let d = 0;
    for (let i = 0; i < row.index.length; i++) d += row.value[i] * centroids[c * dim + row.index[i]];
    return Math.max(0, sq[r] - 2 * d + cNorm[c]);
  };
  // k-means++: each next centre drawn with probability proportional to squared distance
  setCentroidToRow(0, rng.int(n));
  const best = Float64Array.from(rows, (_, r) => dist(r, 0));
  for (let c = 1; c < k; c++) {
    const total = best.reduce((a, b) => a + b, 0);
    let pick = rng.int(n);
    if (total > 0) {
      let u = rng.next() * total;
      for (let r = 0; r < n; r++) { u -= best[r]; if (u <= 0) { pick = r; break; } }
    }
    setCentroidToRow(c, pick);
    for (let r = 0; r < n; r++) best[r] = Math.min(best[r], dist(r, c));
  }
  const assignment = new Int32Array(n).fill(-1);
  let it = 0;
  for (; it < (opts.maxIter ?? 50); it++) {
    let changed = 0;
    for (let r = 0; r < n; r++) {
      let bc = 0;
      let bd = Infinity;
      for (let c = 0; c < k; c++) { const d = dist(r, c); if (d < bd) { bd = d; bc = c; } }
      if (assignment[r] !== bc) { assignment[r] = bc; changed++; }
    }
    if (changed === 0) break;
    centroids.fill(0);
    const counts = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      const c = assignment[r];
      counts[c]++;
      const row = rows[r];
      for (let i = 0; i < row.index.length; i++) centroids[c * dim + row.index[i]] += row.value[i];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) { setCentroidToRow(c, rng.int(n)); continue; } // empty cluster: reseed
      let s = 0;
      for (let j = 0; j < dim; j++) { centroids[c * dim + j] /= counts[c]; s += centroids[c * dim + j] ** 2; }
      cNorm[c] = s;
    }
  }
  return { assignment, centroids, k, iterations: it };
}
