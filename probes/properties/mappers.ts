import { searchComponents } from './component-search.ts';
import { fitPls, plsPredict } from './plsr.ts';
import { fitFfnn, type FfnnOptions } from './ffnn.ts';
import type { Targets } from './targets.ts';

export type MapperName = 'plsr' | 'ffnn';
export { searchComponents };

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

export function ffnnMapper(o: FfnnOptions): Mapper {
  return {
    name: 'ffnn',
    fitPredict(X, p, Y, train, test, seed) {
      const net = fitFfnn(X, p, Y, train, { ...o, seed });
      return { predictions: net.predict(X, test), chosen: net.epochs };
    },
  };
}
