// Using a fitted PLS model (plsr.ts): scores, predictions for one or several component counts, and the
// held-out error per count that the nested component search ranks by. Apart from the fitting code.
import { dot } from '../../core/numeric/vectors.ts';
import type { PlsModel } from './plsr.ts';
import { targetsTimes } from './plsr-standardise.ts';
import type { Targets } from './targets.ts';

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
    let quad = dot(tj, tj) * dot(c, c);
    for (let i = 0; i < j; i++) quad += 2 * dot(cols[i], tj) * dot(cl[i], c);
    sse += -2 * cross + quad;
    errs.push(sse);
  }
  return errs;
}
