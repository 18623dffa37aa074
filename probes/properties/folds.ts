import { SeededRandom } from '../../core/numeric/seeded-random.ts';

/**
 * Seeded k-fold assignment: a permutation of the items dealt into k folds of near-equal size.
 * Every control of one run uses the same folds, so their per-concept scores pair up.
 */
export function kFolds(n: number, k: number, seed: number): number[][] {
  if (k < 2 || k > n) throw new Error(`k-fold needs 2 <= k <= n (k ${k}, n ${n})`);
  const order = new SeededRandom(seed).permutation(n);
  const folds: number[][] = Array.from({ length: k }, () => []);
  order.forEach((item, i) => folds[i % k].push(item));
  return folds.map((f) => f.sort((a, b) => a - b));
}

/** The rows of `all` not in `held`. */
export function complement(all: readonly number[], held: readonly number[]): number[] {
  const h = new Set(held);
  return all.filter((i) => !h.has(i));
}
