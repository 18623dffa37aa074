// The training data of a PLS fit (plsr.ts) in its standardised units, as sklearn's scale=True: column
// statistics, the centred rows, and the targets' cross products from their sparse form. Apart from the fit.
import type { Targets } from './targets.ts';

/** ss: the sums of squared deviations (unclamped), which joining two fits' statistics needs */
export interface ColumnStats { mean: Float64Array; std: Float64Array; ss: Float64Array }

/**
 * Lent buffers for a fit's large temporaries: the centred training rows [n, p] (3-7 MB a fit on Buchanan),
 * the cross product S^T [q, p] (2.4 MB Buchanan, 5 MB McRae) and the search's held-out rows. They were
 * allocated per fit, ~75 MB/s of ArrayBuffers whose GC was ~10% of a worker's CPU (more on V8's concurrent
 * GC threads). A pool, not one buffer: KernelPls.create awaits the onnxruntime GEMM with the rows as its
 * input, and the component search holds two inner fits at once. Grow-only; the smallest buffer that fits is
 * lent, so buffers of the three sizes are not traded for new ones. Contents are stale: the borrower fills it.
 */
const pool: Float64Array[] = [];

export function lendRows(length: number): Float64Array {
  let best = -1;
  for (let i = 0; i < pool.length; i++) if (pool[i].length >= length && (best < 0 || pool[i].length < pool[best].length)) best = i;
  if (best < 0) return new Float64Array(length);
  const [b] = pool.splice(best, 1);
  return b;
}

export function returnRows(b: Float64Array): void {
  // a buffer lent twice would be shared by two fits
  if (!pool.includes(b)) pool.push(b);
}

/**
 * The training rows of X gathered into `out` [n, p] and centred in place, with their column means and sample
 * std (ddof 1, 0 -> 1): the same sums in the same order as two passes over X, but the second pass (and
 * everything after it) reads the contiguous copy. Not scaled: the fit scales its p x p and q x p products
 * by 1/std instead (fewer multiplications than n x p).
 */
export function centreRows(X: Float64Array, p: number, rows: readonly number[], out: Float64Array): ColumnStats {
  const n = rows.length;
  const mean = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const o = rows[i] * p, d = i * p;
    for (let a = 0; a < p; a++) { const v = X[o + a]; out[d + a] = v; mean[a] += v; }
  }
  for (let a = 0; a < p; a++) mean[a] /= n;
  const sq = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let a = 0, d = i * p; a < p; a++) { const v = out[d + a] - mean[a]; out[d + a] = v; sq[a] += v * v; }
  return { mean, std: stdOf(sq, n), ss: sq };
}

export function stdOf(sq: Float64Array, n: number): Float64Array {
  return sq.map((s) => { const v = Math.sqrt(s / Math.max(1, n - 1)); return v > 1e-12 ? v : 1; });
}

/**
 * The training targets by column (compressed sparse columns over the fit's rows): each nonzero read once
 * from the [n, q] matrix (scattered reads), then the statistics and the cross product run over contiguous
 * lists, and the cross product accumulates one output row at a time (by rows it updated a scattered output
 * row per nonzero: that was most of a fit's set-up). Column lists are in row order, so every per-column sum
 * is taken in the same order as over the rows. Scratch reused across fits (used synchronously only).
 */
interface TargetColumns { start: Int32Array; row: Int32Array; value: Float64Array }

let colRow = new Int32Array(0);
let colValue = new Float64Array(0);

function targetColumns(Y: Targets, rows: readonly number[]): TargetColumns {
  const { q, nonzero, sparse } = Y;
  const start = new Int32Array(q + 1);
  for (const r of rows) { const nz = nonzero[r]; for (let x = 0; x < nz.length; x++) start[nz[x] + 1]++; }
  for (let b = 0; b < q; b++) start[b + 1] += start[b];
  const nnz = start[q];
  if (colRow.length < nnz) { colRow = new Int32Array(nnz); colValue = new Float64Array(nnz); }
  const row = colRow, value = colValue;
  const fill = start.slice(0, q);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i], nz = nonzero[r], o = r * q;
    for (let x = 0; x < nz.length; x++) { const b = nz[x], at = fill[b]++; row[at] = i; value[at] = sparse[o + b]; }
  }
  return { start, row, value };
}

/**
 * Column means and std of the targets over the rows from their nonzeros (feature norms are > 95% zeros;
 * dense passes over [n, q] were 8% of a Buchanan layer), shifted or not. Unshifted: the mean is the same
 * sum (zeros add nothing), and sum_i (v_i - m)^2 = sum_nz (v - m)^2 + (n - nz) m^2. Shifted (v = s - c_g):
 * mean = (sum_nz s - sum_g n_g c_g) / n, and with u_g = -c_g - m (the value of a zero entry in group g)
 * sum_i (v_i - m)^2 = sum_g n_g u_g^2 + sum_nz s (s + 2 u_g). Both equal the dense sums up to rounding.
 */
function targetStats(Y: Targets, rows: readonly number[], cols: TargetColumns): ColumnStats {
  const { q, shift } = Y;
  const { start, row, value } = cols;
  const n = rows.length;
  const mean = new Float64Array(q);
  for (let b = 0; b < q; b++) { let s = 0; for (let x = start[b]; x < start[b + 1]; x++) s += value[x]; mean[b] = s; }
  const sq = new Float64Array(q);
  if (shift) {
    const { group, groups, centroids } = shift;
    const size = new Float64Array(groups);
    for (const r of rows) size[group[r]]++;
    for (let g = 0; g < groups; g++) if (size[g] > 0) for (let b = 0; b < q; b++) mean[b] -= size[g] * centroids[g * q + b];
    for (let b = 0; b < q; b++) mean[b] /= n;
    for (let g = 0; g < groups; g++) if (size[g] > 0) for (let b = 0; b < q; b++) { const u = -centroids[g * q + b] - mean[b]; sq[b] += size[g] * u * u; }
    for (let b = 0; b < q; b++) {
      let s = sq[b];
      for (let x = start[b]; x < start[b + 1]; x++) { const v = value[x]; s += v * (v - 2 * (centroids[group[rows[row[x]]] * q + b] + mean[b])); }
      sq[b] = s;
    }
  } else {
    for (let b = 0; b < q; b++) {
      const m = mean[b] / n;
      let s = 0;
      for (let x = start[b]; x < start[b + 1]; x++) { const d = value[x] - m; s += d * d; }
      mean[b] = m;
      sq[b] = s + (n - (start[b + 1] - start[b])) * m * m;
    }
  }
  return { mean, std: stdOf(sq, n), ss: sq };
}

/**
 * The target statistics over the rows and S^T [q, p] = Y^T Xc (Xc: the centred rows, indexed like rows)
 * from the sparse part and the group centroids. Xc's columns sum to 0, so the target means drop out: this is
 * (Y - 1 m^T)^T Xc. Sums over a column's nonzeros eight at a time (one load and store of the output row per
 * eight rows; the order changes only rounding).
 */
export function targetProducts(Xc: Float64Array, p: number, Y: Targets, rows: readonly number[], into?: Float64Array): { stats: ColumnStats; St: Float64Array } {
  const { q } = Y;
  const cols = targetColumns(Y, rows);
  const stats = targetStats(Y, rows, cols);
  const { start, row, value } = cols;
  // `into`: a (lent) buffer of at least q * p, whose first q * p values become the product
  const out = into ? into.subarray(0, q * p).fill(0) : new Float64Array(q * p);
  for (let b = 0; b < q; b++) {
    const o = b * p, end = start[b + 1];
    let x = start[b];
    for (; x + 7 < end; x += 8) {
      const v0 = value[x], v1 = value[x + 1], v2 = value[x + 2], v3 = value[x + 3], v4 = value[x + 4], v5 = value[x + 5], v6 = value[x + 6], v7 = value[x + 7];
      const x0 = row[x] * p, x1 = row[x + 1] * p, x2 = row[x + 2] * p, x3 = row[x + 3] * p, x4 = row[x + 4] * p, x5 = row[x + 5] * p, x6 = row[x + 6] * p, x7 = row[x + 7] * p;
      for (let a = 0; a < p; a++) out[o + a] += v0 * Xc[x0 + a] + v1 * Xc[x1 + a] + v2 * Xc[x2 + a] + v3 * Xc[x3 + a] + v4 * Xc[x4 + a] + v5 * Xc[x5 + a] + v6 * Xc[x6 + a] + v7 * Xc[x7 + a];
    }
    for (; x + 3 < end; x += 4) {
      const v0 = value[x], v1 = value[x + 1], v2 = value[x + 2], v3 = value[x + 3];
      const x0 = row[x] * p, x1 = row[x + 1] * p, x2 = row[x + 2] * p, x3 = row[x + 3] * p;
      for (let a = 0; a < p; a++) out[o + a] += v0 * Xc[x0 + a] + v1 * Xc[x1 + a] + v2 * Xc[x2 + a] + v3 * Xc[x3 + a];
    }
    for (; x < end; x++) { const v = value[x], xo = row[x] * p; for (let a = 0; a < p; a++) out[o + a] += v * Xc[xo + a]; }
  }
  if (Y.shift) {
    const { group, groups, centroids } = Y.shift;
    const gsum = new Float64Array(groups * p);
    for (let i = 0; i < rows.length; i++) { const g = group[rows[i]]; for (let a = 0; a < p; a++) gsum[g * p + a] += Xc[i * p + a]; }
    for (let b = 0; b < q; b++) {
      const o = b * p;
      let g = 0;
      for (; g + 1 < groups; g += 2) {
        const c0 = centroids[g * q + b], c1 = centroids[(g + 1) * q + b], g0 = g * p, g1 = g0 + p;
        for (let a = 0; a < p; a++) out[o + a] -= c0 * gsum[g0 + a] + c1 * gsum[g1 + a];
      }
      if (g < groups) { const c = centroids[g * q + b], g0 = g * p; for (let a = 0; a < p; a++) out[o + a] -= c * gsum[g0 + a]; }
    }
  }
  return { stats, St: out };
}

/**
 * (Y^T v) / std over the rows (v indexed like rows), from the sparse part and the centroids. The fit no
 * longer needs it (its y loadings come from the cross product, see KernelPls.extendTo); the held-out
 * squared error (plsr-predict.ts) does.
 */
export function targetsTimes(Y: Targets, rows: readonly number[], v: Float64Array, std: Float64Array): Float64Array {
  const { q } = Y;
  const out = new Float64Array(q);
  for (let i = 0; i < rows.length; i++) {
    const vi = v[i];
    if (vi === 0) continue;
    const r = rows[i];
    const nz = Y.nonzero[r];
    for (let x = 0; x < nz.length; x++) out[nz[x]] += Y.sparse[r * q + nz[x]] * vi;
  }
  if (Y.shift) {
    const { group, groups, centroids } = Y.shift;
    const gs = new Float64Array(groups);
    for (let i = 0; i < rows.length; i++) gs[group[rows[i]]] += v[i];
    for (let g = 0; g < groups; g++) if (gs[g] !== 0) for (let b = 0; b < q; b++) out[b] -= centroids[g * q + b] * gs[g];
  }
  for (let b = 0; b < q; b++) out[b] /= std[b];
  return out;
}
