import { SeededRandom } from './seeded-random.ts';

/** A row given by its nonzero entries (dense rows: every index). */
export interface SparseRow { index: ArrayLike<number>; value: ArrayLike<number> }

export interface KMeansResult { assignment: Int32Array; centroids: Float64Array; k: number; iterations: number }

/**
 * Lloyd's k-means with seeded k-means++ initialisation on rows given by their nonzeros, so that
 * clustering thousands of sparse feature-norm vectors costs O(nnz k) per iteration; distances use
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2. ml-matrix and simple-statistics have no seeded sparse k-means.
 * The rows are copied into flat arrays and the centroids kept transposed ([dim, k]) while fitting, so a
 * row's dot products with the k centroids read each nonzero's centroid entries side by side; every dot
 * product still sums over the row's nonzeros in their order, so the distances are the same numbers.
 */
export function kMeans(rows: readonly SparseRow[], dim: number, k: number, opts: { seed?: number; maxIter?: number } = {}): KMeansResult {
  const n = rows.length;
  if (k < 1 || k > n) throw new Error(`k-means needs 1 <= k <= n (k ${k}, n ${n})`);
  const rng = new SeededRandom(opts.seed ?? 1);
  const start = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) start[r + 1] = start[r] + rows[r].index.length;
  const idx = new Int32Array(start[n]);
  const val = new Float64Array(start[n]);
  const sq = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    let s = 0;
    for (let i = 0; i < row.index.length; i++) { idx[start[r] + i] = row.index[i]; val[start[r] + i] = row.value[i]; s += row.value[i] ** 2; }
    sq[r] = s;
  }
  const ct = new Float64Array(dim * k); // centroid c, coordinate j at ct[j * k + c]
  const cNorm = new Float64Array(k);
  const setCentroidToRow = (c: number, r: number): void => {
    for (let j = 0; j < dim; j++) ct[j * k + c] = 0;
    for (let x = start[r]; x < start[r + 1]; x++) ct[idx[x] * k + c] = val[x];
    cNorm[c] = sq[r];
  };
  // dots[r * k + c] = row r . centroid c, kept while centroid c is unchanged: the distance is a function
  // of the row and the centroid's values, so a centroid whose members (and so values) did not change
  // since the last pass gives the same distance without recomputing it; k-means++ computes the first
  // pass's dot products already
  const dots = new Float64Array(n * k);
  const dot = (r: number, c: number): number => {
    let d = 0;
    for (let x = start[r]; x < start[r + 1]; x++) d += val[x] * ct[idx[x] * k + c];
    return d;
  };
  const dist = (r: number, c: number): number => Math.max(0, sq[r] - 2 * dots[r * k + c] + cNorm[c]);
  // k-means++: each next centre drawn with probability proportional to squared distance
  setCentroidToRow(0, rng.int(n));
  const best = new Float64Array(n);
  for (let r = 0; r < n; r++) { dots[r * k] = dot(r, 0); best[r] = dist(r, 0); }
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let r = 0; r < n; r++) total += best[r];
    let pick = rng.int(n);
    if (total > 0) {
      let u = rng.next() * total;
      for (let r = 0; r < n; r++) { u -= best[r]; if (u <= 0) { pick = r; break; } }
    }
    setCentroidToRow(c, pick);
    for (let r = 0; r < n; r++) { dots[r * k + c] = dot(r, c); best[r] = Math.min(best[r], dist(r, c)); }
  }
  const assignment = new Int32Array(n).fill(-1);
  const counts = new Float64Array(k);
  const stale = new Int32Array(k); // the centroids whose dot products are recomputed this pass
  let stales = 0;
  const prev = new Float64Array(dim * k);
  const prevNorm = new Float64Array(k);
  let it = 0;
  for (; it < (opts.maxIter ?? 50); it++) {
    let changed = 0;
    for (let r = 0; r < n; r++) {
      const o = r * k;
      if (stales > 0) {
        for (let p = 0; p < stales; p++) dots[o + stale[p]] = 0;
        for (let x = start[r]; x < start[r + 1]; x++) {
          const v = val[x], b = idx[x] * k;
          for (let p = 0; p < stales; p++) { const c = stale[p]; dots[o + c] += v * ct[b + c]; }
        }
      }
      let bc = 0;
      let bd = Infinity;
      const sr = sq[r];
      for (let c = 0; c < k; c++) { const d = Math.max(0, sr - 2 * dots[o + c] + cNorm[c]); if (d < bd) { bd = d; bc = c; } }
      if (assignment[r] !== bc) { assignment[r] = bc; changed++; }
    }
    if (changed === 0) break;
    prev.set(ct);
    prevNorm.set(cNorm);
    ct.fill(0);
    counts.fill(0);
    for (let r = 0; r < n; r++) {
      const c = assignment[r];
      counts[c]++;
      for (let x = start[r]; x < start[r + 1]; x++) ct[idx[x] * k + c] += val[x];
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) { setCentroidToRow(c, rng.int(n)); continue; } // empty cluster: reseed
      let s = 0;
      for (let j = 0; j < dim; j++) { ct[j * k + c] /= counts[c]; s += ct[j * k + c] ** 2; }
      cNorm[c] = s;
    }
    // a value equal to the last pass's (=== : +0 and -0 add nothing to a dot product that starts at +0) keeps its dot products
    stales = 0;
    for (let c = 0; c < k; c++) {
      let same = cNorm[c] === prevNorm[c];
      for (let j = 0; same && j < dim; j++) same = ct[j * k + c] === prev[j * k + c];
      if (!same) stale[stales++] = c;
    }
  }
  const centroids = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) for (let j = 0; j < dim; j++) centroids[c * dim + j] = ct[j * k + c];
  return { assignment, centroids, k, iterations: it };
}
