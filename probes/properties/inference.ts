import { quantileSorted } from 'simple-statistics';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { ConfidenceInterval } from '../../core/numeric/stats.ts';

/**
 * Per-concept scores of one control under repeated cross-validation: rows = repeats (each its own fold
 * assignment and shuffle/random seed), columns = concepts. NaN cells (e.g. F1 of an empty gold set) are skipped.
 */
export type RepeatScores = number[][];

function cellMean(m: RepeatScores, reps: ArrayLike<number>, items: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let a = 0; a < reps.length; a++) {
    const row = m[reps[a]];
    for (let b = 0; b < items.length; b++) { const v = row[items[b]]; if (Number.isFinite(v)) { s += v; c++; } }
  }
  return c > 0 ? s / c : NaN;
}

const identity = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/**
 * Means of `B` two-way bootstrap resamples: concepts and repeats are resampled independently, with
 * replacement (Owen's 2007 "pigeonhole" bootstrap for crossed random effects). Resampling concepts alone
 * treats the fold assignment and the shuffle seed as fixed; they are random too (three Binder shuffle seeds
 * spread wider than a concept-only CI), so the repeats are resampled as a second factor. With one repeat
 * this is the ordinary concept bootstrap.
 */
export function twoWayBootstrapMeans(m: RepeatScores, B: number, seed: number): number[] {
  const R = m.length;
  const n = m[0]?.length ?? 0;
  const rng = new SeededRandom(seed);
  const reps = new Int32Array(R);
  const items = new Int32Array(n);
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) reps[r] = rng.int(R);
    for (let i = 0; i < n; i++) items[i] = rng.int(n);
    out.push(cellMean(m, reps, items));
  }
  return out;
}

export function meanOf(m: RepeatScores): number {
  return cellMean(m, identity(m.length), identity(m[0]?.length ?? 0));
}

/** Percentile CI of the mean from the two-way bootstrap. */
export function repeatMeanCI(m: RepeatScores, o: { resamples: number; seed: number; level?: number }): ConfidenceInterval {
  const level = o.level ?? 0.95;
  const means = twoWayBootstrapMeans(m, o.resamples, o.seed).filter(Number.isFinite).sort((a, b) => a - b);
  if (means.length === 0) return { estimate: NaN, low: NaN, high: NaN, level };
  const a = (1 - level) / 2;
  return { estimate: meanOf(m), low: quantileSorted(means, a), high: quantileSorted(means, 1 - a), level };
}

export interface PairedTest {
  /** mean of sys minus control over concepts and repeats */
  difference: number;
  /** two-way bootstrap 95% CI of that difference */
  low: number;
  high: number;
  /** paired standardised effect d_z: mean difference over the sd of the per-concept differences (averaged over repeats) */
  effectSize: number;
  /** one-sided p of H0 "sys <= control": the share of null-centred bootstrap means >= the observed one */
  p: number;
}

/**
 * Paired test of sys > control on the same concepts and the same folds, with both sources of
 * randomness in the null distribution: the per-(repeat, concept) differences are bootstrapped two-way,
 * centred on 0 (the null), and p = (1 + #{centred mean >= observed}) / (1 + B).
 */
export function pairedRepeatTest(sys: RepeatScores, control: RepeatScores, o: { resamples: number; seed: number }): PairedTest {
  const D = sys.map((row, r) => row.map((v, i) => v - control[r][i]));
  const observed = meanOf(D);
  const means = twoWayBootstrapMeans(D, o.resamples, o.seed).filter(Number.isFinite);
  let atLeast = 0;
  for (const m of means) if (m - observed >= observed - 1e-12) atLeast++;
  const sorted = [...means].sort((a, b) => a - b);
  // d_z from the per-concept differences averaged over repeats (the unit the effect is about)
  const n = D[0]?.length ?? 0;
  const perConcept: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    let c = 0;
    for (const row of D) if (Number.isFinite(row[i])) { s += row[i]; c++; }
    if (c > 0) perConcept.push(s / c);
  }
  const mu = perConcept.reduce((a, b) => a + b, 0) / Math.max(1, perConcept.length);
  const sd = Math.sqrt(perConcept.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, perConcept.length - 1));
  return {
    difference: observed,
    low: sorted.length ? quantileSorted(sorted, 0.025) : NaN,
    high: sorted.length ? quantileSorted(sorted, 0.975) : NaN,
    effectSize: sd > 0 ? mu / sd : mu > 0 ? Infinity : 0,
    p: means.length ? (1 + atLeast) / (1 + means.length) : NaN,
  };
}

/**
 * Holm's step-down adjustment (Holm 1979): controls the family-wise error over all the p-values given,
 * under any dependence. Adjusted p_(i) = max_{j<=i} min(1, (m - j + 1) p_(j)); NaN stays NaN (not counted in m).
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const idx = ps.map((p, i) => [p, i] as const).filter(([p]) => Number.isFinite(p)).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out = ps.map(() => NaN);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
