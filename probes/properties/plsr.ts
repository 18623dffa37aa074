import { dot } from '../../core/numeric/vectors.ts';
import { dominantEigenvector, lanczosWorkspace, normalise, symv, type LanczosWorkspace } from '../../core/numeric/lanczos.ts';
import { gramOnOrt } from './ort-gram.ts';
import { centreRows, lendRows, returnRows, stdOf, targetProducts } from './plsr-standardise.ts';
import { dotRow, gramOfColumns, gramOfRowsSym, rowDots, scaleGram } from './plsr-products.ts';
import type { Targets } from './targets.ts';

export { targetsTimes } from './plsr-standardise.ts';

/** What KernelPls.join hands its new fit: statistics, Cxx and S^T (scaled by the stds), S^T's lent buffer. */
interface JoinedProducts {
  xMean: Float64Array; xStd: Float64Array; xSS: Float64Array;
  yMean: Float64Array; yStd: Float64Array; ySS: Float64Array;
  cxx: Float64Array; St: Float64Array; stBuffer: Float64Array;
}

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

/**
 * PLS2 regression as sklearn's PLSRegression(scale=True) (NIPALS), computed with the kernel form
 * (Dayal & MacGregor 1997): NIPALS's inner loop converges to the dominant eigenvector of
 * X_k^T Y Y^T X_k, and X_k^T Y = (I - p w^T) X_{k-1}^T Y, so the kernel is formed once and deflated in
 * its own space instead of deflating the n x q targets. The kernel lives on the smaller side: p x p
 * G = S S^T (S = Xs^T Ys) when q >= p, else q x q M = S^T S with S deflated (w = S c / |S c| for its
 * dominant eigenvector c). The scores are never formed either: everything a component needs of the n rows
 * is in Cxx = Xs^T Xs (see extendTo), so the standardised rows exist only while the fit is created.
 * Components are nested, so a fit can be extended (`extendTo`): the staged component search grows one fit
 * instead of refitting per stage, and any k <= K reads off the first k.
 * X: row-major [n, p]; rows: the training rows.
 */
export class KernelPls {
  readonly p: number;
  readonly q: number;
  readonly n: number;
  readonly xMean: Float64Array; readonly xStd: Float64Array;
  readonly yMean: Float64Array; readonly yStd: Float64Array;
  /** weights, x loadings and rotations ([K][p]) and y loadings ([K][q]) of the components so far */
  readonly W: Float64Array[] = [];
  readonly P: Float64Array[] = [];
  readonly R: Float64Array[] = [];
  readonly C: Float64Array[] = [];
  /** min(p, n - 1): no more components exist */
  readonly cap: number;
  /** X ran out of informative directions before `cap` */
  exhausted = false;
  private readonly side: 'p' | 'q';
  /** sums of squared deviations of X's and Y's columns (unclamped; the stds are clamped to 1 at 0) */
  private readonly xSS: Float64Array;
  private readonly ySS: Float64Array;
  /** Cxx = Xs^T Xs [p, p] (undeflated) */
  private cxx: Float64Array;
  /** p-side: G [p, p]; q-side: M [q, q] (recomputed from the deflated S after each component) */
  private kernel: Float64Array;
  /** S^T [q, p] = Ys^T Xs (p-side: never deflated; q-side: deflated with the components) */
  private readonly St: Float64Array;
  /** the centred rows while create() forms Cxx on onnxruntime (a lent buffer, see plsr-standardise.ts) */
  private lent?: Float64Array;
  /** the lent buffer St lives in, until dispose() */
  private stBuffer?: Float64Array;
  private disposed = false;
  /** the last eigenvector search's second Ritz vector: the next one's start (the Lanczos basis itself is shared) */
  private second?: Float64Array;
  private readonly maxIter: number;
  private readonly tol: number;

  /** X: the data, or the statistics and products of two fits joined (KernelPls.join) */
  constructor(X: Float64Array | JoinedProducts, p: number, Y: Targets, rows: readonly number[], opts: { maxIter?: number; tol?: number; deferKernel?: boolean } = {}) {
    const { q } = Y;
    const n = rows.length;
    this.p = p; this.q = q; this.n = n;
    this.maxIter = opts.maxIter ?? 500; this.tol = opts.tol ?? 1e-6;
    this.side = q < p ? 'q' : 'p';
    this.cap = Math.min(p, n - 1);
    if (!(X instanceof Float64Array)) {
      ({ xMean: this.xMean, xStd: this.xStd, xSS: this.xSS, yMean: this.yMean, yStd: this.yStd, ySS: this.ySS, cxx: this.cxx, St: this.St, stBuffer: this.stBuffer } = X);
      this.kernel = new Float64Array(0);
      return;
    }
    const Xc = lendRows(n * p);
    const xs = centreRows(X, p, rows, Xc);
    // S^T [q, p] = Ys^T Xs = D_y^-1 (Y^T Xc) D_x^-1 (the column-centred Xc makes the target mean drop out)
    this.stBuffer = lendRows(q * p);
    const { stats: ys, St } = targetProducts(Xc, p, Y, rows, this.stBuffer);
    this.xMean = xs.mean; this.xStd = xs.std; this.yMean = ys.mean; this.yStd = ys.std;
    this.xSS = xs.ss; this.ySS = ys.ss;
    const ix = xs.std.map((s) => 1 / s);
    for (let b = 0; b < q; b++) { const iy = 1 / ys.std[b]; for (let a = 0, o = b * p; a < p; a++) St[o + a] *= iy * ix[a]; }
    this.St = St;
    if (opts.deferKernel) {
      this.lent = Xc;
      this.cxx = new Float64Array(0);
      this.kernel = this.side === 'p' ? new Float64Array(0) : gramOfRowsSym(St, q, p);
      return;
    }
    this.cxx = scaleGram(gramOfColumns(Xc, n, p), ix);
    returnRows(Xc);
    this.kernel = this.side === 'p' ? gramOfColumns(St, q, p) : gramOfRowsSym(St, q, p);
  }

  /**
   * The same fit with the p x p products Cxx = Xs^T Xs and S S^T formed by onnxruntime's float64 GEMM
   * (ort-gram.ts) instead of the JS loop: equal up to rounding, and the GEMM is ~10x faster. The q-side
   * kernel (q < p, recomputed after every component from the deflated S) stays in JS: it is q^2 p / 2, small.
   */
  static async create(X: Float64Array, p: number, Y: Targets, rows: readonly number[], opts: { maxIter?: number; tol?: number } = {}): Promise<KernelPls> {
    const fit = new KernelPls(X, p, Y, rows, { ...opts, deferKernel: true });
    const Xc = fit.lent!;
    fit.lent = undefined;
    try {
      fit.cxx = scaleGram(await gramOnOrt(Xc, fit.n, p), fit.xStd.map((s) => 1 / s));
    } finally {
      returnRows(Xc);
    }
    if (fit.side === 'p') fit.kernel = await gramOnOrt(fit.St, fit.q, p);
    return fit;
  }

  get components(): number { return this.W.length; }

  /** Extends to K components, gives the lent buffer back and returns the model: the end of every fit. */
  finish(K: number): PlsModel {
    this.extendTo(K);
    this.dispose();
    return this.model();
  }

  /** Whether join() can use this fit: a p-side fit (its S^T and Cxx are never deflated) not yet disposed. */
  get joinable(): boolean { return this.side === 'p' && !this.disposed; }

  /**
   * The fit on the union of two fits' (disjoint) training rows, from their statistics and products instead
   * of the rows: the component search's two inner fits train on the two halves of the outer training set,
   * so the outer fit needs no pass over its n rows, no n x p x p GEMM and no target cross product (~25 ms of
   * ~390 per Buchanan outer fold). Chan et al.'s pairwise update, exact algebra (no cancellation): with
   * f = n_a n_b / n and d = mean_a - mean_b, the centred sums are SS = SS_a + SS_b + f d^2, Xc^T Xc =
   * C_a + C_b + f dx dx^T and Y^T Xc = S_a + S_b + f dy dx^T (each fit keeps them scaled by its stds).
   * Equal to a fit on the rows up to rounding (test/properties-plsr.test.ts). `rows`: the union.
   */
  static async join(a: KernelPls, b: KernelPls, Y: Targets, rows: readonly number[], opts: { maxIter?: number; tol?: number } = {}): Promise<KernelPls> {
    if (!a.joinable || !b.joinable || a.p !== b.p || a.q !== b.q || a.n + b.n !== rows.length) throw new Error('KernelPls.join needs two undisposed p-side fits on disjoint rows making up `rows`');
    const { p, q } = a;
    const n = rows.length, f = (a.n * b.n) / n;
    const dx = a.xMean.map((m, i) => m - b.xMean[i]);
    const dy = a.yMean.map((m, i) => m - b.yMean[i]);
    const xMean = a.xMean.map((m, i) => (a.n * m + b.n * b.xMean[i]) / n);
    const yMean = a.yMean.map((m, i) => (a.n * m + b.n * b.yMean[i]) / n);
    const xSS = a.xSS.map((v, i) => v + b.xSS[i] + f * dx[i] * dx[i]);
    const ySS = a.ySS.map((v, i) => v + b.ySS[i] + f * dy[i] * dy[i]);
    const xStd = stdOf(xSS, n), yStd = stdOf(ySS, n);
    const cxx = new Float64Array(p * p);
    for (let r = 0; r < p; r++) {
      const sa = a.xStd[r], sb = b.xStd[r], s = xStd[r], o = r * p;
      for (let c = 0; c < p; c++) cxx[o + c] = (a.cxx[o + c] * sa * a.xStd[c] + b.cxx[o + c] * sb * b.xStd[c] + f * dx[r] * dx[c]) / (s * xStd[c]);
    }
    const stBuffer = lendRows(q * p);
    const St = stBuffer.subarray(0, q * p);
    for (let r = 0; r < q; r++) {
      const sa = a.yStd[r], sb = b.yStd[r], s = yStd[r], o = r * p;
      for (let c = 0; c < p; c++) St[o + c] = (a.St[o + c] * sa * a.xStd[c] + b.St[o + c] * sb * b.xStd[c] + f * dy[r] * dx[c]) / (s * xStd[c]);
    }
    const fit = new KernelPls({ xMean, xStd, xSS, yMean, yStd, ySS, cxx, St, stBuffer }, p, Y, rows, opts);
    fit.kernel = await gramOnOrt(St, q, p);
    return fit;
  }

  /** Gives the fit's lent buffer back (its S^T): no more components can be added; model() and the loadings stay valid. */
  dispose(): void {
    if (this.stBuffer) returnRows(this.stBuffer);
    this.stBuffer = undefined;
    this.disposed = true;
  }

  /**
   * Adds components up to K (or until X is exhausted); returns the number available.
   *
   * Covariance form (no pass over the n rows): with the rotation r_k = w_k - sum_j r_j (p_j . w_k), NIPALS's
   * score is t_k = X_k w_k = Xs r_k, so
   *   tt  = t_k^T t_k = r_k^T Cxx r_k;
   *   p_k = X_k^T t_k / tt = Xs^T t_k / tt = Cxx r_k / tt (X_k = Xs - sum_j<k t_j p_j^T and t_j^T t_k = 0);
   *   c_k = Y_k^T t_k / tt with standardised Y: Y_k^T t_k = Ys^T t_k (the same orthogonality), and
   *         Ys^T t_k = Ys^T Xs r_k = S^T r_k for the undeflated S^T = Ys^T Xs (p-side: St as formed), or
   *         equally S_k^T w_k with S_k = X_k^T Ys the deflated one (q-side: St before its k-th deflation, whose
   *         row dot products w_k . St_b that deflation computes anyway).
   * Equal to the explicit scores up to rounding (test/properties-plsr.test.ts checks against that form).
   */
  extendTo(K: number): number {
    if (this.disposed && K > this.W.length) throw new Error('KernelPls.extendTo after dispose(): its S^T buffer was given back');
    const { p, q, n, St, cxx } = this;
    const target = Math.min(K, this.cap);
    const d = this.side === 'p' ? p : q;
    const eig = sharedWorkspace(d);
    const first = this.W.length;
    /** p-side: tt per new component, for its y loadings after the loop */
    const tts: number[] = [];
    while (!this.exhausted && this.W.length < target) {
      const k = this.W.length;
      eig.second = this.second;
      let w: Float64Array;
      if (this.side === 'p') {
        // after deflation the previous weight vector is in G's null space: restart from G's largest column
        const start = k === 0 ? largestRowStart(St, q, p) : warmStart(eig, this.kernel, p);
        w = dominantEigenvector(this.kernel, p, start, this.maxIter, this.tol, eig);
      } else {
        const c = dominantEigenvector(this.kernel, q, k === 0 ? largestColumn(this.kernel, q) : warmStart(eig, this.kernel, q), this.maxIter, this.tol, eig);
        // w = S c / |S c| is the dominant eigenvector of S S^T
        w = new Float64Array(p);
        for (let b = 0; b < q; b++) { const cb = c[b]; if (cb !== 0) for (let a = 0, o = b * p; a < p; a++) w[a] += St[o + a] * cb; }
        normalise(w);
      }
      this.second = eig.second;
      const r = Float64Array.from(w);
      for (let j = 0; j < k; j++) { const pw = dot(this.P[j], w); const rj = this.R[j]; for (let a = 0; a < p; a++) r[a] -= rj[a] * pw; }
      const pk = new Float64Array(p);
      symv(cxx, p, r, pk);
      const tt = dot(r, pk);
      if (tt < 1e-12 * n) { this.exhausted = true; break; } // fewer informative components than asked
      for (let a = 0; a < p; a++) pk[a] /= tt;
      const ck = new Float64Array(q);
      if (this.side === 'p') {
        tts.push(tt);
        deflateKernel(this.kernel, p, pk, w);
      } else {
        // S <- (I - p w^T) S, then M = S^T S again
        for (let b = 0; b < q; b++) {
          const o = b * p;
          const ws = dotRow(St, o, w, p);
          ck[b] = ws / tt;
          if (ws !== 0) for (let a = 0; a < p; a++) St[o + a] -= pk[a] * ws;
        }
        gramOfRowsSym(St, q, p, this.kernel);
      }
      this.W.push(w); this.P.push(pk); this.R.push(r); this.C.push(ck);
    }
    // p-side y loadings c_j = S^T r_j / tt_j: no later component needs them, so all of this call's in one pass over S^T
    if (this.side === 'p') rowDots(St, q, p, this.R.slice(first), this.C.slice(first), tts);
    return this.W.length;
  }

  /** The fitted model with the first k components (rotations [p, k], y loadings [q, k]). */
  model(k = this.W.length): PlsModel {
    const { p, q } = this;
    const K = Math.min(k, this.W.length);
    const rotations = new Float64Array(p * K);
    const yLoadings = new Float64Array(q * K);
    for (let j = 0; j < K; j++) {
      const r = this.R[j], c = this.C[j];
      for (let a = 0; a < p; a++) rotations[a * K + j] = r[a];
      for (let b = 0; b < q; b++) yLoadings[b * K + j] = c[b];
    }
    return { p, q, components: K, xMean: this.xMean, xStd: this.xStd, yMean: this.yMean, yStd: this.yStd, rotations, yLoadings };
  }
}

/** fitPls with the kernel formed on onnxruntime (KernelPls.create): what the probe runs. */
export async function fitPlsOrt(X: Float64Array, p: number, Y: Targets, rows: readonly number[], opts: PlsOptions): Promise<PlsModel> {
  return (await KernelPls.create(X, p, Y, rows, opts)).finish(opts.maxComponents);
}

/** A PLS fit with up to opts.maxComponents components (see KernelPls). */
export function fitPls(X: Float64Array, p: number, Y: Targets, rows: readonly number[], opts: PlsOptions): PlsModel {
  return new KernelPls(X, p, Y, rows, opts).finish(opts.maxComponents);
}

/**
 * Lanczos bases per dimension, shared by the fits of this thread (extendTo runs to completion, so no two
 * searches overlap): 80 x d doubles that were allocated per fit. A fit keeps only its warm start.
 */
const workspaces = new Map<number, LanczosWorkspace>();

function sharedWorkspace(d: number): LanczosWorkspace {
  let ws = workspaces.get(d);
  if (!ws) { ws = lanczosWorkspace(d); workspaces.set(d, ws); }
  return ws;
}

/** G <- (I - p w^T) G (I - w p^T), in place: G - p g^T - g p^T + (w.g) p p^T with g = G w. */
function deflateKernel(G: Float64Array, p: number, pk: Float64Array, w: Float64Array): void {
  const gw = new Float64Array(p);
  symv(G, p, w, gw);
  const wgw = dot(w, gw);
  for (let a = 0; a < p; a++) {
    // (w.g p_a - g_a) p_c - p_a g_c: two multiplications per entry instead of five
    const pa = pk[a], e = wgw * pa - gw[a], o = a * p;
    for (let c = 0; c < p; c++) G[o + c] += e * pk[c] - pa * gw[c];
  }
}

/**
 * Start of the next component's eigenvector search: the previous run's second Ritz vector (the deflated
 * kernel's top eigenvector is usually close to it), else the kernel's largest column. Only the number of
 * Lanczos steps depends on the start, not the vector found.
 */
function warmStart(ws: LanczosWorkspace, G: Float64Array, d: number): Float64Array {
  return ws.second ?? largestColumn(G, d);
}

function largestColumn(G: Float64Array, d: number): Float64Array {
  let best = 0;
  for (let a = 1; a < d; a++) if (G[a * d + a] > G[best * d + best]) best = a;
  const v = new Float64Array(d);
  for (let c = 0; c < d; c++) v[c] = G[c * d + best];
  return normalise(v.some((x) => x !== 0) ? v : v.fill(1));
}

/** The row of St [q, p] with the largest norm: S's strongest column, a start close to the top eigenvector. */
function largestRowStart(St: Float64Array, q: number, p: number): Float64Array {
  let best = 0;
  let bestNorm = -1;
  for (let b = 0; b < q; b++) { let s = 0; for (let a = 0, o = b * p; a < p; a++) s += St[o + a] ** 2; if (s > bestNorm) { bestNorm = s; best = b; } }
  const w = Float64Array.from(St.subarray(best * p, (best + 1) * p));
  return normalise(w.some((x) => x !== 0) ? w : w.fill(1));
}
