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
  innerFolds: number;
  /** inner-CV criterion: the probe's headline metric (default) or squared error on standardised targets */
  criterion: 'headline' | 'mse';
  /** controls: 'nested' searches components per control like sys; 'as-sys' reuses sys's count per fold (3x cheaper) */
  controlComponents: 'nested' | 'as-sys';
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
      if (fixed === undefined && s.components === 'auto') {
        const grid = [...s.componentGrid].sort((a, b) => a - b);
        const maxK = grid[grid.length - 1];
        // loss per candidate count, summed over inner folds (lower is better)
        const errors = new Float64Array(maxK).fill(0);
        for (const inner of kFolds(train.length, Math.min(s.innerFolds, train.length), seed + 7919)) {
          const held = inner.map((i) => train[i]);
          const hs = new Set(held);
          const fit = train.filter((r) => !hs.has(r));
          const m = fitPls(X, p, Y, fit, { ...fitOpts, maxComponents: maxK });
          if (s.criterion === 'mse') {
            const e = plsErrorsByComponents(m, X, Y, held);
            // a fit that ran out of components keeps its last error for larger counts
            for (const c of grid) errors[c - 1] += e[Math.min(c, e.length) - 1] ?? Infinity;
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
            errors[c - 1] -= cnt > 0 ? sum / cnt : 0;
          }
        }
        k = grid.reduce((best, c) => (errors[c - 1] < errors[best - 1] ? c : best), grid[0]);
      }
      const m = fitPls(X, p, Y, train, { ...fitOpts, maxComponents: k });
      return { predictions: plsPredict(m, X, test), chosen: m.components };
    },
  };
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
