import { kFolds } from './folds.ts';
import type { PlsrSettings } from './mappers.ts';
import { KernelPls, plsErrorsByComponents } from './plsr.ts';
import type { Targets } from './targets.ts';

export interface HeadlineSpec { metric: 'f1' | 'spearman'; k: number }

/**
 * F1@k of a prediction row given as yMean + yStd * acc (never materialised), against gold > 0. The same
 * top-k as core/numeric/vectors.ts topK (earlier index first among ties, a later equal value does not
 * enter a full list) and the same F1 as metrics.ts f1AtK; a test checks both. Scratch buffers are reused:
 * the inner component search scores ~10^6 rows per layer.
 */
export class TopKF1 {
  private readonly vals: Float64Array;
  private readonly idx: Int32Array;
  constructor(readonly k: number) { this.vals = new Float64Array(k); this.idx = new Int32Array(k); }

  score(acc: Float64Array, accOff: number, yMean: Float64Array, yStd: Float64Array, gold: Float64Array, goldOff: number, q: number): number {
    let goldSize = 0;
    for (let b = 0; b < q; b++) if (gold[goldOff + b] > 0) goldSize++;
    if (goldSize === 0) return NaN;
    const { k, vals, idx } = this;
    let len = 0;
    for (let b = 0; b < q; b++) {
      const v = yMean[b] + yStd[b] * acc[accOff + b];
      if (len === k && v <= vals[k - 1]) continue;
      let pos = len < k ? len : k - 1;
      // shift smaller values down (the last one falls off a full list)
      while (pos > 0 && vals[pos - 1] < v) { vals[pos] = vals[pos - 1]; idx[pos] = idx[pos - 1]; pos--; }
      vals[pos] = v; idx[pos] = b;
      if (len < k) len++;
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
      this.ranksInto(gold, i * q, 0, 1, this.goldRanks, i * q);
      let s = 0;
      for (let b = 0; b < q; b++) { const d = this.goldRanks[i * q + b] - mean; this.goldRanks[i * q + b] = d; s += d * d; }
      this.goldSS[i] = s;
    }
  }

  /** midranks of base + scale * src[off..off+q) into out[outOff..) (base/scale may be arrays: yMean, yStd) */
  private ranksInto(src: Float64Array, off: number, base: number | Float64Array, scale: number | Float64Array, out: Float64Array, outOff: number): void {
    const { q, sorted } = this;
    for (let b = 0; b < q; b++) sorted[b] = valueAt(src, off, b, base, scale);
    sorted.sort();
    for (let b = 0; b < q; b++) {
      const v = valueAt(src, off, b, base, scale);
      let lo = 0, hi = q;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < v) lo = mid + 1; else hi = mid; }
      let up = lo, top = q;
      while (up < top) { const mid = (up + top) >> 1; if (sorted[mid] <= v) up = mid + 1; else top = mid; }
      out[outOff + b] = (lo + up - 1) / 2 + 1;
    }
  }

  private scratch?: Float64Array;

  /** rho between row `row` of the gold and the prediction yMean + yStd * acc[accOff..]. */
  score(acc: Float64Array, accOff: number, yMean: Float64Array, yStd: Float64Array, row: number): number {
    const { q } = this;
    if (q < 2) return NaN;
    this.scratch ??= new Float64Array(q);
    const r = this.scratch;
    this.ranksInto(acc, accOff, yMean, yStd, r, 0);
    const mean = (q + 1) / 2;
    let sab = 0, saa = 0;
    const g = this.goldRanks, go = row * q;
    for (let b = 0; b < q; b++) { const da = r[b] - mean; sab += da * g[go + b]; saa += da * da; }
    const sbb = this.goldSS[row];
    return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
  }
}

function valueAt(src: Float64Array, off: number, b: number, base: number | Float64Array, scale: number | Float64Array): number {
  const m = typeof base === 'number' ? base : base[b];
  const s = typeof scale === 'number' ? scale : scale[b];
  return m + s * src[off + b];
}

/** One inner fold of the search: its fit (grown stage by stage), held-out scores per component and running predictions. */
interface InnerFold {
  fit: KernelPls;
  held: number[];
  /** held rows standardised with the fit's statistics [held, p] */
  Xh: Float64Array;
  /** held-out x scores per component [held] */
  scores: Float64Array[];
  /** running sum_j t_j c_j per held row [held, q], through `accK` components */
  acc: Float64Array;
  accK: number;
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
export function searchComponents(s: PlsrSettings, headline: HeadlineSpec, X: Float64Array, p: number, Y: Targets, train: number[], seed: number): number {
  const grid = [...new Set(s.componentGrid)].sort((a, b) => a - b);
  const top = grid[grid.length - 1];
  const caps = [...(s.stageCaps ?? [8, 16, 32]).filter((c) => c < top), top];
  const tie = s.tieTolerance ?? 0.001;
  const { q } = Y;
  const innerFolds = kFolds(train.length, Math.min(s.innerFolds, train.length), seed + 7919);
  const folds: InnerFold[] = innerFolds.map((inner) => {
    const held = inner.map((i) => train[i]);
    const hs = new Set(held);
    const fit = new KernelPls(X, p, Y, train.filter((r) => !hs.has(r)), { maxIter: s.maxIter, tol: s.tol });
    const Xh = new Float64Array(held.length * p);
    held.forEach((r, i) => { for (let a = 0; a < p; a++) Xh[i * p + a] = (X[r * p + a] - fit.xMean[a]) / fit.xStd[a]; });
    return { fit, held, Xh, scores: [], acc: new Float64Array(held.length * q), accK: 0 };
  });
  const f1 = headline.metric === 'f1' ? new TopKF1(headline.k) : undefined;
  const rho = headline.metric === 'spearman' ? new RowSpearman(gatherRows(Y.values, q, train), train.length, q) : undefined;
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
      for (let j = fold.scores.length; j < fit.components; j++) {
        const r = fit.R[j];
        const t = new Float64Array(held.length);
        for (let i = 0; i < held.length; i++) { let v = 0; for (let a = 0, o = i * p; a < p; a++) v += Xh[o + a] * r[a]; t[i] = v; }
        fold.scores.push(t);
      }
      if (s.criterion === 'mse') {
        const e = plsErrorsByComponents(fit.model(), X, Y, held);
        // a fit that ran out of components keeps its last error for larger counts
        for (const c of pending) loss.set(c, loss.get(c)! + (e[Math.min(c, e.length) - 1] ?? Infinity) / held.length);
        continue;
      }
      // per count (ascending): advance the running predictions to min(count, components), score every held row
      for (const c of pending) {
        const kk = Math.min(c, fit.components);
        for (let j = fold.accK; j < kk; j++) {
          const t = fold.scores[j], cj = fit.C[j], acc = fold.acc;
          for (let i = 0; i < held.length; i++) { const ti = t[i]; if (ti !== 0) for (let b = 0, o = i * q; b < q; b++) acc[o + b] += ti * cj[b]; }
        }
        fold.accK = Math.max(fold.accK, kk);
        let sum = 0;
        let cnt = 0;
        for (let i = 0; i < held.length; i++) {
          const v = f1 ? f1.score(fold.acc, i * q, fit.yMean, fit.yStd, Y.values, held[i] * q, q) : rho!.score(fold.acc, i * q, fit.yMean, fit.yStd, trainPos.get(held[i])!);
          if (Number.isFinite(v)) { sum += v; cnt++; }
        }
        loss.set(c, loss.get(c)! - (cnt > 0 ? sum / cnt : 0));
      }
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
