import { searchComponents, searchComponentsAndFit, type PlsrSettings } from './component-search.ts';
import { KernelPls } from './plsr.ts';
import { plsPredict } from './plsr-predict.ts';
import { fitFfnn, type FfnnOptions } from './ffnn.ts';
import type { Targets } from './targets.ts';

export type MapperName = 'plsr' | 'ffnn';
export { searchComponents };
export type { PlsrSettings };

/** Fits on the training rows and predicts the test rows ([test, q]); `chosen` reports e.g. the component count. */
export interface Mapper {
  name: MapperName;
  fitPredict(X: Float64Array, p: number, Y: Targets, train: number[], test: number[], seed: number, fixed?: number): Promise<{ predictions: Float64Array; chosen: number }>;
}

/**
 * PLSR; with components 'auto' the count is chosen inside each outer training set by an inner k-fold
 * (nested CV): one fit with the largest candidate gives the held-out error of every smaller count.
 */
export function plsrMapper(s: PlsrSettings, headline: { metric: 'f1' | 'spearman'; k: number }): Mapper {
  const fitOpts = { maxIter: s.maxIter, tol: s.tol };
  return {
    name: 'plsr',
    async fitPredict(X, p, Y, train, test, seed, fixed) {
      let k = fixed ?? (typeof s.components === 'number' ? s.components : 0);
      let fit: KernelPls | undefined;
      // the search's two inner fits also make the fit on all training rows (KernelPls.join)
      if (fixed === undefined && s.components === 'auto') ({ k, fit } = await searchComponentsAndFit(s, headline, X, p, Y, train, seed));
      const m = (fit ?? await KernelPls.create(X, p, Y, train, fitOpts)).finish(k);
      return { predictions: plsPredict(m, X, test), chosen: m.components };
    },
  };
}

export function ffnnMapper(o: FfnnOptions): Mapper {
  return {
    name: 'ffnn',
    async fitPredict(X, p, Y, train, test, seed) {
      const net = await fitFfnn(X, p, Y, train, { ...o, seed });
      return { predictions: await net.predict(X, test), chosen: net.epochs };
    },
  };
}
