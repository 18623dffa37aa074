import { EigenvalueDecomposition, Matrix, inverse } from 'ml-matrix';
import type { Targets } from './targets.ts';

export interface PlsOptions { maxComponents: number; maxIter?: number; tol?: number }

/**
 * A fitted PLS regression with components 1..K; predictions with any k <= K use the first k
 * (the rotations R = W (P^T W)^{-1} are nested because P^T W is unit upper triangular).
 */
export interface PlsModel {
  p: number;
  q: number;
  components: number;
  xMean: Float64Array; xStd: Float64Array;
  yMean: Float64Array; yStd: Float64Array;
  /** x rotations [p, K] row-major */
  rotations: Float64Array;
  /** y loadings [q, K] row-major */
  yLoadings: Float64Array;
}

/** Column means and sample std (ddof 1, 0 -> 1) over the given rows, as sklearn's scale=True. */
function columnStats(data: Float64Array, width: number, rows: readonly number[]): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(width);
  const sq = new Float64Array(width);
  for (const r of rows) for (let j = 0, o = r * width; j < width; j++) mean[j] += data[o + j];
  for (let j = 0; j < width; j++) mean[j] /= rows.length;
  for (const r of rows) for (let j = 0, o = r * width; j < width; j++) { const d = data[o + j] - mean[j]; sq[j] += d * d; }
  const std = sq.map((s) => { const v = Math.sqrt(s / Math.max(1, rows.length - 1)); return v > 1e-12 ? v : 1; });
  return { mean, std };
}

/**
 * PLS2 regression as sklearn's PLSRegression(scale=True), computed with the kernel form of NIPALS
 * (Dayal & MacGregor 1997): NIPALS's inner loop converges to the dominant eigenvector of
 * X_k^T Y Y^T X_k, and X_k^T Y = (I - p w^T) X_{k-1}^T Y, so the p x p matrix G = X^T Y Y^T X is formed
 * once and deflated in O(p^2) per component instead of deflating the n x q targets. The results are
 * NIPALS's (to its tolerance); the cost is what makes 10-fold CV over thousands of features fit in
 * seconds. X: row-major [n, p]; rows: the training rows.
 */
export function fitPls(X: Float64Array, p: number, Y: Targets, rows: readonly number[], opts: PlsOptions): PlsModel {
  const { q } = Y;
  const n = rows.length;
  const xs = columnStats(X, p, rows);
  const ys = columnStats(Y.values, q, rows);
  const Xs = new Float64Array(n * p);
  rows.forEach((r, i) => { for (let a = 0; a < p; a++) Xs[i * p + a] = (X[r * p + a] - xs.mean[a]) / xs.std[a]; });
  // S^T [q, p] = Ys^T Xs; the column-centred Xs makes the target mean drop out: S = Xs^T Y / ys
  const St = crossTargetsX(Xs, p, Y, rows);
  for (let b = 0; b < q; b++) for (let a = 0; a < p; a++) St[b * p + a] /= ys.std[b];
  const G = gramOfRows(transpose(St, q, p), p, q);
  const K = Math.min(opts.maxComponents, p, n - 1);
  const W: Float64Array[] = [];
  const P: Float64Array[] = [];
  const Cl: Float64Array[] = [];
  const t = new Float64Array(n);
  let w = startVector(St, p, q);
  for (let k = 0; k < K; k++) {
    // after deflation the previous weight vector is in G's null space: restart from G's largest column
    if (k > 0) w = largestColumn(G, p);
    w = dominantEigenvector(G, p, w, opts.maxIter ?? 500, opts.tol ?? 1e-6);
    // t = X_k w with X_k = X (I - sum r_j p_j^T)... computed as Xs r_k, r_k = w - sum_j r_j (p_j . w)
    const r = Float64Array.from(w);
    const Rk = rotationsOf(W, P, p);
    for (let j = 0; j < Rk.length; j++) { const pw = dotv(P[j], w); for (let a = 0; a < p; a++) r[a] -= Rk[j][a] * pw; }
    let tt = 0;
    for (let i = 0; i < n; i++) { let s = 0; for (let a = 0; a < p; a++) s += Xs[i * p + a] * r[a]; t[i] = s; tt += s * s; }
    if (tt < 1e-12 * n) break; // X is exhausted: fewer informative components than asked
    const pk = new Float64Array(p);
    for (let i = 0; i < n; i++) { const ti = t[i]; if (ti !== 0) for (let a = 0; a < p; a++) pk[a] += Xs[i * p + a] * ti; }
    for (let a = 0; a < p; a++) pk[a] /= tt;
    const ck = targetsTimes(Y, rows, t, ys.std);
    for (let b = 0; b < q; b++) ck[b] /= tt;
    W.push(w); P.push(pk); Cl.push(ck);
    // G <- (I - p w^T) G (I - w p^T)
    const gw = new Float64Array(p);
    for (let a = 0; a < p; a++) { let s = 0; for (let c = 0; c < p; c++) s += G[a * p + c] * w[c]; gw[a] = s; }
    const wgw = dotv(w, gw);
    for (let a = 0; a < p; a++) for (let c = 0; c < p; c++) G[a * p + c] += -pk[a] * gw[c] - gw[a] * pk[c] + wgw * pk[a] * pk[c];
  }
  const k = W.length;
  const rotations = new Float64Array(p * k);
  if (k > 0) {
    // R = W (P^T W)^{-1}
    const Wm = new Matrix(p, k);
    const PtW = new Matrix(k, k);
    for (let j = 0; j < k; j++) for (let a = 0; a < p; a++) Wm.set(a, j, W[j][a]);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) PtW.set(i, j, dotv(P[i], W[j]));
    const R = Wm.mmul(inverse(PtW));
    for (let a = 0; a < p; a++) for (let j = 0; j < k; j++) rotations[a * k + j] = R.get(a, j);
  }
  const yLoadings = new Float64Array(q * k);
  for (let j = 0; j < k; j++) for (let b = 0; b < q; b++) yLoadings[b * k + j] = Cl[j][b];
  return { p, q, components: k, xMean: xs.mean, xStd: xs.std, yMean: ys.mean, yStd: ys.std, rotations, yLoadings };
}

/** x scores T = Xs R [rows, K] of the given rows (standardised with the training statistics). */
export function plsScores(m: PlsModel, X: Float64Array, rows: readonly number[]): Float64Array {
  const { p, components: K } = m;
  const T = new Float64Array(rows.length * K);
  const x = new Float64Array(p);
  rows.forEach((r, i) => {
    for (let a = 0; a < p; a++) x[a] = (X[r * p + a] - m.xMean[a]) / m.xStd[a];
    for (let a = 0; a < p; a++) { const xa = x[a]; if (xa !== 0) for (let j = 0; j < K; j++) T[i * K + j] += xa * m.rotations[a * K + j]; }
  });
  return T;
}

/** Predictions [rows, q] with the first k components. */
export function plsPredict(m: PlsModel, X: Float64Array, rows: readonly number[], k = m.components): Float64Array {
  const { q, components: K } = m;
  const T = plsScores(m, X, rows);
  const out = new Float64Array(rows.length * q);
  const kk = Math.min(k, K);
  for (let i = 0; i < rows.length; i++) {
    for (let b = 0; b < q; b++) {
      let s = 0;
      for (let j = 0; j < kk; j++) s += T[i * K + j] * m.yLoadings[b * K + j];
      out[i * q + b] = m.yMean[b] + m.yStd[b] * s;
    }
  }
  return out;
}

/** Predictions [rows, q] for each component count in `ks`, built incrementally (one pass over k). */
export function plsPredictByComponents(m: PlsModel, X: Float64Array, rows: readonly number[], ks: readonly number[]): Map<number, Float64Array> {
  const { q, components: K } = m;
  const T = plsScores(m, X, rows);
  const acc = new Float64Array(rows.length * q);
  const out = new Map<number, Float64Array>();
  const wanted = new Set(ks.map((k) => Math.min(k, K)));
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < rows.length; i++) {
      const t = T[i * K + j];
      for (let b = 0; b < q; b++) acc[i * q + b] += t * m.yLoadings[b * K + j];
    }
    if (wanted.has(j + 1)) {
      const pred = new Float64Array(acc.length);
      for (let i = 0, x = 0; i < rows.length; i++) for (let b = 0; b < q; b++, x++) pred[x] = m.yMean[b] + m.yStd[b] * acc[x];
      out.set(j + 1, pred);
    }
  }
  for (const k of ks) {
    if (out.has(k)) continue;
    const fallback = out.get(Math.min(k, K));
    if (fallback) { out.set(k, fallback); continue; }
    const pred = new Float64Array(acc.length);
    for (let i = 0, x = 0; i < rows.length; i++) for (let b = 0; b < q; b++, x++) pred[x] = m.yMean[b];
    out.set(k, pred);
  }
  return out;
}

/**
 * Squared error on standardised targets of the held-out rows for every k = 1..K, without forming the
 * [rows, q] predictions per k: SSE_k = |Ys|^2 - 2 sum_j<=k c_j.(Ys^T t_j) + sum_i,j<=k (t_i.t_j)(c_i.c_j).
 * This is the inner criterion of the nested component search.
 */
export function plsErrorsByComponents(m: PlsModel, X: Float64Array, Y: Targets, rows: readonly number[]): number[] {
  const { q, components: K } = m;
  const T = plsScores(m, X, rows);
  const n = rows.length;
  let base = 0;
  for (const r of rows) for (let b = 0; b < q; b++) { const v = (Y.values[r * q + b] - m.yMean[b]) / m.yStd[b]; base += v * v; }
  const errs: number[] = [];
  let sse = base;
  const tj = new Float64Array(n);
  const cols: Float64Array[] = [];
  const cl: Float64Array[] = [];
  for (let j = 0; j < K; j++) {
    for (let i = 0; i < n; i++) tj[i] = T[i * K + j];
    const c = new Float64Array(q);
    for (let b = 0; b < q; b++) c[b] = m.yLoadings[b * K + j];
    // Ys^T t = (Y^T t - mean * sum t) / std over the held-out rows (t is not centred here)
    const yt = targetsTimes(Y, rows, tj, m.yStd);
    let st = 0;
    for (let i = 0; i < n; i++) st += tj[i];
    let cross = 0;
    for (let b = 0; b < q; b++) cross += c[b] * (yt[b] - (m.yMean[b] / m.yStd[b]) * st);
    cols.push(Float64Array.from(tj));
    cl.push(c);
    let quad = dotv(tj, tj) * dotv(c, c);
    for (let i = 0; i < j; i++) quad += 2 * dotv(cols[i], tj) * dotv(cl[i], c);
    sse += -2 * cross + quad;
    errs.push(sse);
  }
  return errs;
}

/** [q, p] = Y^T Xs over the training rows, from the sparse part and the group centroids. */
function crossTargetsX(Xs: Float64Array, p: number, Y: Targets, rows: readonly number[]): Float64Array {
  const { q } = Y;
  const out = new Float64Array(q * p);
  rows.forEach((r, i) => {
    const xo = i * p;
    for (const b of Y.nonzero[r]) {
      const v = Y.sparse[r * q + b];
      const o = b * p;
      for (let a = 0; a < p; a++) out[o + a] += v * Xs[xo + a];
    }
  });
  if (Y.shift) {
    const { group, groups, centroids } = Y.shift;
    const gsum = new Float64Array(groups * p);
    rows.forEach((r, i) => { const g = group[r]; for (let a = 0; a < p; a++) gsum[g * p + a] += Xs[i * p + a]; });
    for (let g = 0; g < groups; g++) for (let b = 0; b < q; b++) {
      const c = centroids[g * q + b];
      if (c !== 0) for (let a = 0; a < p; a++) out[b * p + a] -= c * gsum[g * p + a];
    }
  }
  return out;
}

/** (Y^T v) / std over the rows (v indexed like rows), from the sparse part and the centroids. */
function targetsTimes(Y: Targets, rows: readonly number[], v: Float64Array, std: Float64Array): Float64Array {
  const { q } = Y;
  const out = new Float64Array(q);
  rows.forEach((r, i) => { const vi = v[i]; if (vi !== 0) for (const b of Y.nonzero[r]) out[b] += Y.sparse[r * q + b] * vi; });
  if (Y.shift) {
    const { group, groups, centroids } = Y.shift;
    const gs = new Float64Array(groups);
    rows.forEach((r, i) => { gs[group[r]] += v[i]; });
    for (let g = 0; g < groups; g++) if (gs[g] !== 0) for (let b = 0; b < q; b++) out[b] -= centroids[g * q + b] * gs[g];
  }
  for (let b = 0; b < q; b++) out[b] /= std[b];
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** A A^T of a row-major [rows, width] matrix: row dot products, 4-way unrolled (the hot loop of a fit). */
function gramOfRows(A: Float64Array, rows: number, width: number): Float64Array {
  const G = new Float64Array(rows * rows);
  const w4 = width - (width % 4);
  for (let a = 0; a < rows; a++) {
    const oa = a * width;
    for (let c = a; c < rows; c++) {
      const oc = c * width;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < w4; j += 4) {
        s0 += A[oa + j] * A[oc + j]; s1 += A[oa + j + 1] * A[oc + j + 1];
        s2 += A[oa + j + 2] * A[oc + j + 2]; s3 += A[oa + j + 3] * A[oc + j + 3];
      }
      for (let j = w4; j < width; j++) s0 += A[oa + j] * A[oc + j];
      G[a * rows + c] = G[c * rows + a] = s0 + s1 + s2 + s3;
    }
  }
  return G;
}

function rotationsOf(W: Float64Array[], P: Float64Array[], p: number): Float64Array[] {
  // r_j = w_j - sum_{i<j} r_i (p_i . w_j): the same recursion as in fitPls, kept for the deflation of t
  const R: Float64Array[] = [];
  for (let j = 0; j < W.length; j++) {
    const r = Float64Array.from(W[j]);
    for (let i = 0; i < j; i++) { const pw = dotv(P[i], W[j]); for (let a = 0; a < p; a++) r[a] -= R[i][a] * pw; }
    R.push(r);
  }
  return R;
}

function largestColumn(G: Float64Array, p: number): Float64Array {
  let best = 0;
  for (let a = 1; a < p; a++) if (G[a * p + a] > G[best * p + best]) best = a;
  return normalise(Float64Array.from({ length: p }, (_, c) => G[c * p + best]));
}

function startVector(St: Float64Array, p: number, q: number): Float64Array {
  let best = 0;
  let bestNorm = -1;
  for (let b = 0; b < q; b++) { let s = 0; for (let a = 0; a < p; a++) s += St[b * p + a] ** 2; if (s > bestNorm) { bestNorm = s; best = b; } }
  const w = Float64Array.from(St.subarray(best * p, (best + 1) * p));
  return normalise(w.some((x) => x !== 0) ? w : w.fill(1));
}

/**
 * Dominant eigenvector of the symmetric PSD matrix G, the vector NIPALS's inner loop converges to.
 * Plain power iteration (what NIPALS does) needs hundreds of steps when the top eigenvalues are
 * close, which dominated the fit time; Lanczos with full reorthogonalisation gets the same vector in
 * a few dozen matrix-vector products. The small tridiagonal eigenproblem goes to ml-matrix. Restarted
 * from the Ritz vector until the squared change is below tol (sklearn's stopping rule).
 */
function dominantEigenvector(G: Float64Array, p: number, start: Float64Array, maxIter: number, tol: number): Float64Array {
  let w = normalise(Float64Array.from(start));
  const m = Math.min(p, 20);
  const gv = new Float64Array(p);
  for (let restart = 0, used = 0; used < maxIter; restart++) {
    const V: Float64Array[] = [Float64Array.from(w)];
    const alpha: number[] = [];
    const beta: number[] = [];
    let lastBeta = 0;
    for (let j = 0; j < m; j++) {
      const v = V[j];
      for (let a = 0; a < p; a++) { let s = 0; const o = a * p; for (let c = 0; c < p; c++) s += G[o + c] * v[c]; gv[a] = s; }
      used++;
      alpha.push(dotv(v, gv));
      const next = Float64Array.from(gv);
      for (const u of V) { const d = dotv(u, next); for (let a = 0; a < p; a++) next[a] -= d * u[a]; }
      for (const u of V) { const d = dotv(u, next); for (let a = 0; a < p; a++) next[a] -= d * u[a]; }
      const bn = Math.sqrt(dotv(next, next));
      lastBeta = bn;
      if (j === m - 1 || bn < 1e-12 * Math.max(1, Math.abs(alpha[0]))) break;
      beta.push(bn);
      V.push(next.map((x) => x / bn));
    }
    const k = alpha.length;
    const T = new Matrix(k, k);
    for (let i = 0; i < k; i++) { T.set(i, i, alpha[i]); if (i + 1 < k) { T.set(i, i + 1, beta[i]); T.set(i + 1, i, beta[i]); } }
    const evd = new EigenvalueDecomposition(T, { assumeSymmetric: true });
    const values = evd.realEigenvalues;
    let top = 0;
    for (let i = 1; i < k; i++) if (values[i] > values[top]) top = i;
    const next = new Float64Array(p);
    for (let i = 0; i < k; i++) { const y = evd.eigenvectorMatrix.get(i, top); for (let a = 0; a < p; a++) next[a] += y * V[i][a]; }
    normalise(next);
    if (dotv(next, w) < 0) for (let a = 0; a < p; a++) next[a] = -next[a];
    // Ritz residual |G y - theta y| = beta_k |s_k| (last component of the small eigenvector); by the
    // sin-theta theorem the vector's error is at most residual / gap. When that error is 100x below the
    // restart test's tolerance, another restart (20 more matrix-vector products) could not move it
    let second = -Infinity;
    for (let i = 0; i < k; i++) if (i !== top && values[i] > second) second = values[i];
    const gap = values[top] - second;
    const residual = lastBeta * Math.abs(evd.eigenvectorMatrix.get(k - 1, top));
    if (k === m && gap > 0 && (residual / gap) ** 2 < tol * 1e-4) return next;
    let diff = 0;
    for (let a = 0; a < p; a++) diff += (next[a] - w[a]) ** 2;
    w = next;
    if (diff < tol || k < m) break;
  }
  return w;
}

function normalise(v: Float64Array): Float64Array {
  const s = Math.sqrt(dotv(v, v)) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= s;
  return v;
}

function dotv(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
