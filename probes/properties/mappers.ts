import { kFolds } from './folds.ts';
import { fitPls, plsErrorsByComponents, plsPredict, plsPredictByComponents } from './plsr.ts';
import { conceptSpearman, f1AtK } from './metrics.ts';
import { fitFfnn, type FfnnOptions } from './ffnn.ts';
import type { Targets } from './targets.ts';

export type MapperName = 'plsr' | 'ffnn';

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

/** Fits on the training rows and predicts the test rows ([test, q]); `chosen` reports e.g. the component count. */
export interface Mapper {
  name: MapperName;
  fitPredict(X: Float64Array, p: number, Y: Targets, train: number[], test: number[], seed: number, fixed?: number): { predictions: Float64Array; chosen: number };
}

/**
 * PLSR; with components 'auto' the count is chosen inside each outer training set by an inner k-fold
 * (nested CV): one fit with the largest candidate gives the held-out error of every smaller count.
 */
export function plsrMapper(s: PlsrSettings, headline: { metric: 'f1' | 'spearman'; k: number }): Mapper {
  const fitOpts = { maxIter: s.maxIter, tol: s.tol };
  return {
    name: 'plsr',
    fitPredict(X, p, Y, train, test, seed, fixed) {
      let k = fixed ?? (typeof s.components === 'number' ? s.components : 0);
      if (fixed === undefined && s.components === 'auto') k = searchComponents(s, headline, X, p, Y, train, seed);
      const m = fitPls(X, p, Y, train, { ...fitOpts, maxComponents: k });
      return { predictions: plsPredict(m, X, test), chosen: m.components };
    },
  };
}

/** Inner-CV loss (lower is better) of every count in `grid`, from one fit per inner fold with the largest count. */
function innerLosses(s: PlsrSettings, headline: { metric: 'f1' | 'spearman'; k: number }, X: Float64Array, p: number, Y: Targets, train: number[], seed: number, grid: number[]): Map<number, number> {
  const fitOpts = { maxIter: s.maxIter, tol: s.tol };
  const maxK = grid[grid.length - 1];
  const errors = new Map(grid.map((c) => [c, 0]));
  const innerFolds = kFolds(train.length, Math.min(s.innerFolds, train.length), seed + 7919);
  for (const inner of innerFolds) {
    const held = inner.map((i) => train[i]);
    const hs = new Set(held);
    const fit = train.filter((r) => !hs.has(r));
    const m = fitPls(X, p, Y, fit, { ...fitOpts, maxComponents: maxK });
    if (s.criterion === 'mse') {
      const e = plsErrorsByComponents(m, X, Y, held);
      // a fit that ran out of components keeps its last error for larger counts
      for (const c of grid) errors.set(c, errors.get(c)! + (e[Math.min(c, e.length) - 1] ?? Infinity) / held.length);
      continue;
    }
    const preds = plsPredictByComponents(m, X, held, grid);
    const q = Y.q;
    for (const c of grid) {
      const pr = preds.get(c)!;
      let sum = 0;
      let cnt = 0;
      held.forEach((r, i) => {
        const gold = Y.values.subarray(r * q, (r + 1) * q);
        const v = headline.metric === 'f1' ? f1AtK(pr.subarray(i * q, (i + 1) * q), gold, headline.k) : conceptSpearman(pr.subarray(i * q, (i + 1) * q), gold);
        if (Number.isFinite(v)) { sum += v; cnt++; }
      });
      errors.set(c, errors.get(c)! - (cnt > 0 ? sum / cnt : 0));
    }
  }
  for (const c of grid) errors.set(c, errors.get(c)! / innerFolds.length);
  return errors;
}

/**
 * Nested component search with a plateau rule: the grid is searched in stages (counts up to each of
 * `stageCaps`, default 8, 16, 32, then the grid's maximum); the next stage runs only while the best count
 * is the largest one of the stage, so a search is never cut off at a count that was still improving
 * (the old grid stopped at 8 while Buchanan chose 8 in 10 of 10 folds). Ties within `tieTolerance`
 * go to the smaller count (inner-CV differences of ~0.001 are noise, not a reason for more capacity).
 */
export function searchComponents(s: PlsrSettings, headline: { metric: 'f1' | 'spearman'; k: number }, X: Float64Array, p: number, Y: Targets, train: number[], seed: number): number {
  const grid = [...new Set(s.componentGrid)].sort((a, b) => a - b);
  const top = grid[grid.length - 1];
  const caps = [...(s.stageCaps ?? [8, 16, 32]).filter((c) => c < top), top];
  const tie = s.tieTolerance ?? 0.001;
  let best = grid[0];
  for (const cap of caps) {
    const stage = grid.filter((c) => c <= cap);
    const loss = innerLosses(s, headline, X, p, Y, train, seed, stage);
    const min = Math.min(...loss.values());
    best = stage.find((c) => loss.get(c)! <= min + tie)!;
    // a plateau (the best count, after ties, is not the largest tried): larger counts are not searched
    if (best < stage[stage.length - 1]) break;
  }
  return best;
}

export function ffnnMapper(o: FfnnOptions): Mapper {
  return {
    name: 'ffnn',
    fitPredict(X, p, Y, train, test, seed) {
      const net = fitFfnn(X, p, Y, train, { ...o, seed });
      return { predictions: net.predict(X, test), chosen: net.epochs };
    },
  };
}
