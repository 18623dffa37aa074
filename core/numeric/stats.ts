import { mean, quantileSorted, sampleCorrelation, sampleRankCorrelation } from 'simple-statistics';
import { SeededRandom } from './seeded-random.ts';

export { mean };

/** Spearman rank correlation with average ranks for ties (simple-statistics); NaN when a side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2) return NaN;
  return sampleRankCorrelation([...a], [...b]);
}

export function pearson(a: readonly number[], b: readonly number[]): number {
  if (a.length < 2) return NaN;
  return sampleCorrelation([...a], [...b]);
}

/** Latency-style percentiles (p in 0..100) of unsorted samples. */
export function percentiles(samples: readonly number[], ps: readonly number[]): number[] {
  const sorted = [...samples].sort((x, y) => x - y);
  return ps.map((p) => quantileSorted(sorted, p / 100));
}

export interface ConfidenceInterval { estimate: number; low: number; high: number; level: number }

/**
 * Percentile bootstrap CI of the mean of per-item scores (items = concepts, sentences): resample items
 * with replacement, seeded. simple-statistics has no bootstrap, and this is ten lines.
 */
export function bootstrapMeanCI(values: readonly number[], opts: { resamples?: number; level?: number; seed?: number } = {}): ConfidenceInterval {
  const level = opts.level ?? 0.95;
  const n = values.length;
  if (n === 0) return { estimate: NaN, low: NaN, high: NaN, level };
  const rng = new SeededRandom(opts.seed ?? 1);
  const B = opts.resamples ?? 1000;
  const means = new Array<number>(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[rng.int(n)];
    means[b] = s / n;
  }
  means.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return { estimate: mean([...values]), low: quantileSorted(means, alpha), high: quantileSorted(means, 1 - alpha), level };
}

/**
 * One-sided paired permutation test that a's items score higher than b's: the signs of the per-item
 * differences are flipped at random (seeded) and the p-value is (1 + #{mean >= observed}) / (1 + B).
 * Items are paired by index (the same concepts under the same folds). NaN pairs are skipped.
 */
export function pairedPermutationPValue(a: readonly number[], b: readonly number[], opts: { permutations?: number; seed?: number } = {}): number {
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d.push(a[i] - b[i]);
  if (d.length === 0) return NaN;
  const observed = d.reduce((s, x) => s + x, 0);
  const B = opts.permutations ?? 10000;
  const rng = new SeededRandom(opts.seed ?? 1);
  let atLeast = 0;
  for (let p = 0; p < B; p++) {
    let s = 0;
    for (const x of d) s += rng.next() < 0.5 ? -x : x;
    if (s >= observed - 1e-12) atLeast++;
  }
  return (1 + atLeast) / (1 + B);
}
