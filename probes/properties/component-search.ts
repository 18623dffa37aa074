import { kFolds } from './folds.ts';
import { KernelPls } from './plsr.ts';
import { plsErrorsByComponents } from './plsr-predict.ts';
import type { Targets } from './targets.ts';

/** PLSR settings (the mapper reads them; the component search is what most of them steer). */
export interface PlsrSettings {
  /** fixed number of components, or 'auto' for the nested-CV search over `componentGrid` */
  components: number | 'auto';
  componentGrid: number[];
  /**
   * the search extends the grid stage by stage (up to 8, 16, 32, ... components) only while the best count
   * is the largest one tried so far (a plateau rule: the search never stops at a count that was still improving)
   */
  stageCaps?: number[];
  /** inner-CV scores within this of the best (mean headline per inner fold) count as tied: the smaller count wins */
  tieTolerance?: number;
  innerFolds: number;
  /** inner-CV criterion: the probe's headline metric (default) or squared error on standardised targets */
  criterion: 'headline' | 'mse';
  maxIter: number;
  tol: number;
}

export interface HeadlineSpec { metric: 'f1' | 'spearman'; k: number }

/**
 * F1@k of a prediction row given as yMean + yStd * acc (never materialised), against gold > 0. The same
 * top-k as core/numeric/vectors.ts topK (earlier index first among ties, a later equal value does not
 * enter a full list) and the same F1 as metrics.ts f1AtK; a test checks both. Scratch buffers are reused:
 * the inner component search scores ~10^6 rows per layer. Predictions are kept in prediction units
 * (yMean + sum_j t_j (yStd * c_j)): the same values as yMean + yStd * sum_j t_j c_j up to rounding.
 */
export class TopKF1 {
  private readonly vals: Float64Array;
  private readonly idx: Int32Array;
  constructor(readonly k: number) { this.vals = new Float64Array(k); this.idx = new Int32Array(k); }

  /**
   * F1@k of the prediction row pred[off..off+q); with `c1` (and `c2`), first pred += t1 * c1 (+ t2 * c2) in
   * the same pass: the components before a scored count cost no pass of their own.
   * goldSize: the number of gold values > 0 in gold[goldOff..] (NaN when 0, as f1AtK).
   */
  score(pred: Float64Array, off: number, gold: Float64Array, goldOff: number, q: number, goldSize: number, c1?: Float64Array, t1 = 0, c2?: Float64Array, t2 = 0): number {
    if (goldSize === 0) return NaN;
    const { k, vals, idx } = this;
    let len = 0;
    let floor = -Infinity;
    for (let b = 0; b < q; b++) {
      let v = pred[off + b];
      if (c1) {
        v += t1 * c1[b];
        if (c2) v += t2 * c2[b];
        pred[off + b] = v;
      }
      if (len === k && v <= floor) continue;
      let pos = len < k ? len : k - 1;
      // shift smaller values down (the last one falls off a full list)
      while (pos > 0 && vals[pos - 1] < v) { vals[pos] = vals[pos - 1]; idx[pos] = idx[pos - 1]; pos--; }
      vals[pos] = v; idx[pos] = b;
      if (len < k) len++;
      floor = vals[len - 1];
    }
    let hits = 0;
    for (let x = 0; x < len; x++) if (gold[goldOff + idx[x]] > 0) hits++;
    if (hits === 0) return 0;
    const precision = hits / len;
    const recall = hits / goldSize;
    return (2 * precision * recall) / (precision + recall);
  }
}

/**
 * Spearman rho per row (Pearson of midranks, as metrics.ts conceptSpearman) with the gold rows' centred
 * midranks computed once; a prediction's midranks come from one native sort of a copy and two binary
 * searches per value (ties share their mean rank), without comparator closures or per-call arrays.
 */
export class RowSpearman {
  private readonly sorted: Float64Array;
  private readonly goldRanks: Float64Array;
  private readonly goldSS: Float64Array;
  constructor(gold: Float64Array, readonly n: number, readonly q: number) {
    this.sorted = new Float64Array(q);
    this.goldRanks = new Float64Array(n * q);
    this.goldSS = new Float64Array(n);
    const mean = (q + 1) / 2;
    for (let i = 0; i < n; i++) {
      this.ranksInto(gold, i * q, this.goldRanks, i * q);
      let s = 0;
      for (let b = 0; b < q; b++) { const d = this.goldRanks[i * q + b] - mean; this.goldRanks[i * q + b] = d; s += d * d; }
      this.goldSS[i] = s;
    }
  }

  /** midranks of src[off..off+q) into out[outOff..) */
  private ranksInto(src: Float64Array, off: number, out: Float64Array, outOff: number): void {
    const { q, sorted } = this;
    sorted.set(src.subarray(off, off + q));
    sorted.sort();
    for (let b = 0; b < q; b++) {
      const v = src[off + b];
      let lo = 0, hi = q;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < v) lo = mid + 1; else hi = mid; }
      let up = lo, top = q;
      while (up < top) { const mid = (up + top) >> 1; if (sorted[mid] <= v) up = mid + 1; else top = mid; }
      out[outOff + b] = (lo + up - 1) / 2 + 1;
    }
  }

  private scratch?: Float64Array;

  /** rho between row `row` of the gold and the prediction row pred[off..off+q). */
  score(pred: Float64Array, off: number, row: number): number {
    const { q } = this;
    if (q < 2) return NaN;
    this.scratch ??= new Float64Array(q);
    const r = this.scratch;
    this.ranksInto(pred, off, r, 0);
    const mean = (q + 1) / 2;
    let sab = 0, saa = 0;
    const g = this.goldRanks, go = row * q;
    for (let b = 0; b < q; b++) { const da = r[b] - mean; sab += da * g[go + b]; saa += da * da; }
    const sbb = this.goldSS[row];
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
  }
}

/** One inner fold of the search: its fit (grown stage by stage), held-out scores per component and running predictions. */
interface InnerFold {
  fit: KernelPls;
  held: number[];
  /** held rows standardised with the fit's statistics [held, p] */
  Xh: Float64Array;
  /** held-out x scores per component [held] */
  scores: Float64Array[];
  /** running predictions yMean + sum_j t_j (yStd * c_j) per held row [held, q], through `accK` components */
  acc: Float64Array;
  accK: number;
  /** y loadings in prediction units, yStd * c_j, per component */
  cs: Float64Array[];
}

/**
 * Nested component search with a plateau rule: the grid is searched in stages (counts up to each of
 * `stageCaps`, default 8, 16, 32, then the grid's maximum); the next stage runs only while the best count
 * is the largest one of the stage, so a search is never cut off at a count that was still improving
 * (the old grid stopped at 8 while Buchanan chose 8 in 10 of 10 folds). Ties within `tieTolerance`
 * go to the smaller count (inner-CV differences of ~0.001 are noise, not a reason for more capacity).
 * PLS components are nested, so each inner fold has one fit that a later stage extends, and a count's
 * inner loss, once computed, is the same in every later stage: the whole search costs one fit per inner
 * fold up to the last stage's cap, and one pass of held-out scoring per count.
 */
export async function searchComponents(s: PlsrSettings, headline: HeadlineSpec, X: Float64Array, p: number, Y: Targets, train: number[], seed: number): Promise<number> {
  const grid = [...new Set(s.componentGrid)].sort((a, b) => a - b);
  const top = grid[grid.length - 1];
  const caps = [...(s.stageCaps ?? [8, 16, 32]).filter((c) => c < top), top];
  const tie = s.tieTolerance ?? 0.001;
  const { q } = Y;
  const innerFolds = kFolds(train.length, Math.min(s.innerFolds, train.length), seed + 7919);
  const folds: InnerFold[] = await Promise.all(innerFolds.map(async (inner) => {
    const held = inner.map((i) => train[i]);
    const hs = new Set(held);
    const fit = await KernelPls.create(X, p, Y, train.filter((r) => !hs.has(r)), { maxIter: s.maxIter, tol: s.tol });
    const Xh = new Float64Array(held.length * p);
    held.forEach((r, i) => { for (let a = 0; a < p; a++) Xh[i * p + a] = (X[r * p + a] - fit.xMean[a]) / fit.xStd[a]; });
    const acc = new Float64Array(held.length * q);
    for (let i = 0; i < held.length; i++) acc.set(fit.yMean, i * q);
    return { fit, held, Xh, scores: [], acc, accK: 0, cs: [] };
  }));
  const f1 = headline.metric === 'f1' ? new TopKF1(headline.k) : undefined;
  const rho = headline.metric === 'spearman' ? new RowSpearman(gatherRows(Y.values, q, train), train.length, q) : undefined;
  const goldSizes = f1 ? Int32Array.from(train, (r) => { let g = 0; for (let b = 0; b < q; b++) if (Y.values[r * q + b] > 0) g++; return g; }) : undefined;
  const trainPos = new Map(train.map((r, i) => [r, i]));
  /** summed inner-fold loss per count (divided by the fold count when compared) */
  const loss = new Map<number, number>();
  let best = grid[0];
  for (const cap of caps) {
    const stage = grid.filter((c) => c <= cap);
    const pending = stage.filter((c) => !loss.has(c));
    const maxK = stage[stage.length - 1];
    for (const c of pending) loss.set(c, 0);
    for (const fold of folds) {
      const { fit, held, Xh } = fold;
      fit.extendTo(maxK);
      for (let j = fold.scores.length; j < fit.components; j += 2) {
        // held-out x scores of two components per pass over Xh (each sum in the same order as alone)
        const r1 = fit.R[j], r2 = fit.R[Math.min(j + 1, fit.components - 1)];
        const t1 = new Float64Array(held.length), t2 = new Float64Array(held.length);
        for (let i = 0; i < held.length; i++) {
          let v1 = 0, v2 = 0;
          for (let a = 0, o = i * p; a < p; a++) { const x = Xh[o + a]; v1 += x * r1[a]; v2 += x * r2[a]; }
          t1[i] = v1; t2[i] = v2;
        }
        fold.scores.push(t1);
        fold.cs.push(Float64Array.from(fit.C[j], (c, b) => c * fit.yStd[b]));
        if (j + 1 < fit.components) { fold.scores.push(t2); fold.cs.push(Float64Array.from(fit.C[j + 1], (c, b) => c * fit.yStd[b])); }
      }
      if (s.criterion === 'mse') {
        const e = plsErrorsByComponents(fit.model(), X, Y, held);
        // a fit that ran out of components keeps its last error for larger counts
        for (const c of pending) loss.set(c, loss.get(c)! + (e[Math.min(c, e.length) - 1] ?? Infinity) / held.length);
        continue;
      }
      // row by row (the row's running prediction stays in cache): per count (ascending) advance it to
      // min(count, components), fusing the last component's update with the scoring pass
      const sums = new Float64Array(pending.length);
      const counts = new Float64Array(pending.length);
      const acc = fold.acc;
      const kks = pending.map((c) => Math.min(c, fit.components));
      const { cs, scores } = fold;
      for (let i = 0; i < held.length; i++) {
        const off = i * q;
        const pos = trainPos.get(held[i])!;
        let k = fold.accK;
        for (let x = 0; x < pending.length; x++) {
          const kk = kks[x];
          // all but the last one or two new components in passes of their own, those in the scoring pass
          const fused = f1 ? Math.min(2, kk - k) : 0;
          // two components per pass over the row (v += t1 c1; v += t2 c2: the same sums in the same order)
          for (; k + 1 < kk - fused; k += 2) {
            const t1 = scores[k][i], c1 = cs[k], t2 = scores[k + 1][i], c2 = cs[k + 1];
            for (let b = 0; b < q; b++) { let v = acc[off + b]; v += t1 * c1[b]; v += t2 * c2[b]; acc[off + b] = v; }
          }
          for (; k < kk - fused; k++) { const ti = scores[k][i], cj = cs[k]; if (ti !== 0) for (let b = 0; b < q; b++) acc[off + b] += ti * cj[b]; }
          let v: number;
          if (f1) {
            v = f1.score(acc, off, Y.values, held[i] * q, q, goldSizes![pos], fused > 0 ? cs[k] : undefined, fused > 0 ? scores[k][i] : 0, fused > 1 ? cs[k + 1] : undefined, fused > 1 ? scores[k + 1][i] : 0);
            k += fused;
          } else v = rho!.score(acc, off, pos);
          if (Number.isFinite(v)) { sums[x] += v; counts[x]++; }
        }
      }
      if (kks.length > 0) fold.accK = Math.max(fold.accK, kks[kks.length - 1]);
      pending.forEach((c, x) => loss.set(c, loss.get(c)! - (counts[x] > 0 ? sums[x] / counts[x] : 0)));
    }
    const mean = (c: number): number => loss.get(c)! / folds.length;
    const min = Math.min(...stage.map(mean));
    best = stage.find((c) => mean(c) <= min + tie)!;
    // a plateau (the best count, after ties, is not the largest tried): larger counts are not searched
    if (best < stage[stage.length - 1]) break;
  }
  return best;
}

function gatherRows(values: Float64Array, q: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * q);
  rows.forEach((r, i) => out.set(values.subarray(r * q, (r + 1) * q), i * q));
  return out;
}
