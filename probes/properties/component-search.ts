import { kFolds } from './folds.ts';
import { KernelPls } from './plsr.ts';
import { lendRows, returnRows } from './plsr-standardise.ts';
import { plsErrorsByComponents } from './plsr-predict.ts';
import { topKPredictionsOnOrt } from './ort-topk.ts';
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
  /** the lent buffer Xh is a view of */
  XhBuffer: Float64Array;
  /** held rows standardised with the fit's statistics [held, p] */
  Xh: Float64Array;
  /** held-out x scores per component [held] */
  scores: Float64Array[];
  /** running predictions yMean + sum_j t_j (yStd * c_j) per held row [held, q], through `accK` components */
  acc: Float64Array;
  accK: number;
  /** y loadings in prediction units, yStd * c_j, per component */
  cs: Float64Array[];
  /** rotations and y loadings (prediction units) packed for onnxruntime: Rt [components, p], Cs [components, q]; the first `packed` rows are filled */
  Rt: Float64Array;
  Cs: Float64Array;
  packed: number;
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
  const { k, fit } = await searchComponentsAndFit(s, headline, X, p, Y, train, seed, false);
  fit?.dispose();
  return k;
}

/**
 * searchComponents, and with `join` the fit on all of `train` (not yet extended) when the two inner fits
 * can make it (KernelPls.join: two inner folds, p-side kernel), else undefined: the caller fits it itself.
 */
export async function searchComponentsAndFit(s: PlsrSettings, headline: HeadlineSpec, X: Float64Array, p: number, Y: Targets, train: number[], seed: number, join = true): Promise<{ k: number; fit?: KernelPls }> {
  const grid = [...new Set(s.componentGrid)].sort((a, b) => a - b);
  const top = grid[grid.length - 1];
  const caps = [...(s.stageCaps ?? [8, 16, 32]).filter((c) => c < top), top];
  const tie = s.tieTolerance ?? 0.001;
  const { q } = Y;
  const innerFolds = kFolds(train.length, Math.min(s.innerFolds, train.length), seed + 7919);
  const f1 = headline.metric === 'f1';
  const folds: InnerFold[] = await Promise.all(innerFolds.map(async (inner) => {
    const held = inner.map((i) => train[i]);
    const hs = new Set(held);
    const fit = await KernelPls.create(X, p, Y, train.filter((r) => !hs.has(r)), { maxIter: s.maxIter, tol: s.tol });
    // lent (plsr-standardise.ts), given back with the fit's buffers when the search ends
    const XhBuffer = lendRows(held.length * p);
    const Xh = XhBuffer.subarray(0, held.length * p);
    const inv = fit.xStd.map((v) => 1 / v);
    for (let i = 0; i < held.length; i++) { const o = held[i] * p, w = i * p; for (let a = 0; a < p; a++) Xh[w + a] = (X[o + a] - fit.xMean[a]) * inv[a]; }
    // running predictions for the JS (Spearman) scorer only: the F1 scorer's stay inside onnxruntime
    const acc = new Float64Array(f1 ? 0 : held.length * q);
    if (!f1) for (let i = 0; i < held.length; i++) acc.set(fit.yMean, i * q);
    return { fit, held, Xh, XhBuffer, scores: [], acc, accK: 0, cs: [], Rt: new Float64Array(0), Cs: new Float64Array(0), packed: 0 };
  }));
  try {
    const k = await searchStages(s, headline, X, p, Y, train, folds, grid, caps, tie);
    const joinable = join && folds.length === 2 && folds.every((f) => f.fit.joinable);
    return { k, fit: joinable ? await KernelPls.join(folds[0].fit, folds[1].fit, Y, train, { maxIter: s.maxIter, tol: s.tol }) : undefined };
  } finally {
    for (const f of folds) { f.fit.dispose(); returnRows(f.XhBuffer); }
  }
}

/** The staged search over the inner folds' fits (see searchComponents). */
async function searchStages(s: PlsrSettings, headline: HeadlineSpec, X: Float64Array, p: number, Y: Targets, train: number[], folds: InnerFold[], grid: number[], caps: number[], tie: number): Promise<number> {
  const { q } = Y;
  const f1 = headline.metric === 'f1';
  const rho = headline.metric === 'spearman' ? new RowSpearman(gatherRows(Y.values, q, train), train.length, q) : undefined;
  const goldSizes = f1 ? positiveCounts(Y) : undefined;
  const trainPos = f1 ? new Map<number, number>() : new Map(train.map((r, i) => [r, i]));
  /** summed inner-fold loss per count (divided by the fold count when compared) */
  const loss = new Map<number, number>();
  let best = grid[0];
  for (const cap of caps) {
    const stage = grid.filter((c) => c <= cap);
    const pending = stage.filter((c) => !loss.has(c));
    const maxK = stage[stage.length - 1];
    for (const c of pending) loss.set(c, 0);
    for (const fold of folds) {
      const { fit, held } = fold;
      fit.extendTo(maxK);
      if (!f1 && s.criterion !== 'mse') heldScores(fold, p);
      if (s.criterion === 'mse') {
        const e = plsErrorsByComponents(fit.model(), X, Y, held);
        // a fit that ran out of components keeps its last error for larger counts
        for (const c of pending) loss.set(c, loss.get(c)! + (e[Math.min(c, e.length) - 1] ?? Infinity) / held.length);
        continue;
      }
      const sums = new Float64Array(pending.length);
      const counts = new Float64Array(pending.length);
      if (f1) await scoreF1OnOrt(fold, pending, headline.k, Y, goldSizes!, q, sums, counts);
      else scoreRowsInJs(fold, pending, rho!, trainPos, q, sums, counts);
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

/**
 * F1@k of every held row for each pending count, summed into sums/counts: the predictions and their top-k
 * on onnxruntime (ort-topk.ts), the hits counted here. The same F1 as metrics.ts f1AtK (a test checks it, ties included).
 */
async function scoreF1OnOrt(fold: InnerFold, pending: readonly number[], k: number, Y: Targets, goldSizes: Int32Array, q: number, sums: Float64Array, counts: Float64Array): Promise<void> {
  const { fit, held } = fold;
  const h = held.length;
  const K = fit.components;
  const p = fit.p;
  if (fold.Cs.length < K * q) {
    // room for the next stage's components too: each is packed once, not per count
    const room = Math.max(K, 2 * fold.packed);
    const Rt = new Float64Array(room * p); Rt.set(fold.Rt.subarray(0, fold.packed * p)); fold.Rt = Rt;
    const Cs = new Float64Array(room * q); Cs.set(fold.Cs.subarray(0, fold.packed * q)); fold.Cs = Cs;
  }
  for (let j = fold.packed; j < K; j++) {
    fold.Rt.set(fit.R[j], j * p);
    const c = fit.C[j], o = j * q;
    for (let b = 0; b < q; b++) fold.Cs[o + b] = c[b] * fit.yStd[b];
  }
  fold.packed = K;
  const kk = Math.min(k, q);
  for (const [x, c] of pending.entries()) {
    const comps = Math.min(c, K);
    // no component at all (X exhausted at once): every row's prediction is yMean
    const top = comps > 0 ? await topKPredictionsOnOrt(fold.Xh, fold.Rt, fold.Cs, fit.yMean, comps, h, k) : meanTopK(fit.yMean, kk, h);
    const shift = Y.shift;
    for (let i = 0; i < h; i++) {
      const g = goldSizes[held[i]];
      if (g === 0) continue; // NaN, as f1AtK of an empty gold set: not counted
      // residualised targets: the gold is sparse - centroid (Targets.shift), not read from the dense values
      sums[x] += shift ? f1OfTop(top, i * kk, kk, Y.sparse, held[i] * q, g, shift.centroids, shift.group[held[i]] * q) : f1OfTop(top, i * kk, kk, Y.values, held[i] * q, g);
      counts[x]++;
    }
  }
}

/**
 * Gold set sizes (values > 0) of every row of Y, kept per target matrix: every control of a layer searches
 * ~30 times on the same targets, and counting over [n, q] per search was 2% of a Buchanan layer.
 */
const positiveCountCache = new WeakMap<object, Int32Array>();
function positiveCounts(Y: Targets): Int32Array {
  // residualised targets: one shift object per fold, and their dense values are never formed (see Targets)
  const key = Y.shift ?? Y.values;
  let out = positiveCountCache.get(key);
  if (!out) {
    const { n, q, shift } = Y;
    out = new Int32Array(n);
    const v = shift ? Y.sparse : Y.values;
    for (let r = 0; r < n; r++) {
      let g = 0;
      if (shift) { const c = shift.centroids, co = shift.group[r] * q - r * q; for (let b = r * q; b < (r + 1) * q; b++) if (v[b] - c[co + b] > 0) g++; }
      else for (let b = r * q; b < (r + 1) * q; b++) if (v[b] > 0) g++;
      out[r] = g;
    }
    positiveCountCache.set(key, out);
  }
  return out;
}

/** Held-out x scores and y loadings (prediction units) of the fit's new components, for the JS scorer. */
function heldScores(fold: InnerFold, p: number): void {
  const { fit, held, Xh } = fold;
  for (let j = fold.scores.length; j < fit.components; j += 2) {
    // two components per pass over Xh (each sum in the same order as alone)
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
}

/**
 * F1@k of a row from its top-k indices top[off..off+kk) (kk = min(k, q)) against gold[goldOff + b] > 0,
 * with goldSize values > 0 in the gold row: metrics.ts f1AtK's formula (NaN for an empty gold set).
 * With `centre`, the gold row is gold - centre[centreOff..) (residualised targets, Targets.shift).
 */
export function f1OfTop(top: Int32Array, off: number, kk: number, gold: Float64Array, goldOff: number, goldSize: number, centre?: Float64Array, centreOff = 0): number {
  if (goldSize === 0) return NaN;
  let hits = 0;
  for (let t = off; t < off + kk; t++) if (gold[goldOff + top[t]] - (centre ? centre[centreOff + top[t]] : 0) > 0) hits++;
  if (hits === 0) return 0;
  const precision = hits / kk, recall = hits / goldSize;
  return (2 * precision * recall) / (precision + recall);
}

/** The top-k of yMean (ONNX TopK's order: larger first, the lower index first among ties) repeated for h rows. */
function meanTopK(yMean: Float64Array, kk: number, h: number): Int32Array {
  const order = Array.from(yMean.keys()).sort((a, b) => yMean[b] - yMean[a] || a - b).slice(0, kk);
  const out = new Int32Array(h * kk);
  for (let i = 0; i < h; i++) out.set(order, i * kk);
  return out;
}

/**
 * Spearman rho of every held row for each pending count, in JS (q is small for rated norms, and a rank
 * correlation needs the whole row): row by row (the row's running prediction stays in cache), per count
 * (ascending) the running prediction advances to min(count, components), then the row is scored.
 */
function scoreRowsInJs(fold: InnerFold, pending: readonly number[], rho: RowSpearman, trainPos: Map<number, number>, q: number, sums: Float64Array, counts: Float64Array): void {
  const { fit, held, acc, cs, scores } = fold;
  const kks = pending.map((c) => Math.min(c, fit.components));
  for (let i = 0; i < held.length; i++) {
    const off = i * q;
    const pos = trainPos.get(held[i])!;
    let k = fold.accK;
    for (let x = 0; x < pending.length; x++) {
      const kk = kks[x];
      // two components per pass over the row (v += t1 c1; v += t2 c2: the same sums in the same order)
      for (; k + 1 < kk; k += 2) {
        const t1 = scores[k][i], c1 = cs[k], t2 = scores[k + 1][i], c2 = cs[k + 1];
        for (let b = 0; b < q; b++) { let v = acc[off + b]; v += t1 * c1[b]; v += t2 * c2[b]; acc[off + b] = v; }
      }
      for (; k < kk; k++) { const ti = scores[k][i], cj = cs[k]; if (ti !== 0) for (let b = 0; b < q; b++) acc[off + b] += ti * cj[b]; }
      const v = rho.score(acc, off, pos);
      if (Number.isFinite(v)) { sums[x] += v; counts[x]++; }
    }
  }
  if (kks.length > 0) fold.accK = Math.max(fold.accK, kks[kks.length - 1]);
}
