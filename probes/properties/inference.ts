import { quantileSorted } from 'simple-statistics';
import type { ConfidenceInterval } from '../../core/numeric/stats.ts';
import { twoWayBootstrapMeansMany, type RepeatScores } from './two-way-bootstrap.ts';

export type { RepeatScores };

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
 * this is the ordinary concept bootstrap. The batched form, for several matrices at once, is
 * twoWayBootstrapMeansMany; this is its one-matrix case.
 */
export function twoWayBootstrapMeans(m: RepeatScores, B: number, seed: number): number[] {
  return twoWayBootstrapMeansMany([m], B, seed)[0];
}

export function meanOf(m: RepeatScores): number {
  return cellMean(m, identity(m.length), identity(m[0]?.length ?? 0));
}

const ascending = (xs: readonly number[]): number[] => xs.filter(Number.isFinite).sort((a, b) => a - b);

/** Percentile CI of the mean from the two-way bootstrap. */
export function repeatMeanCI(m: RepeatScores, o: { resamples: number; seed: number; level?: number }): ConfidenceInterval {
  return repeatMeanCIs([m], o)[0];
}

/** repeatMeanCI of each matrix, all from the same resample draws (each CI is the one repeatMeanCI gives). */
export function repeatMeanCIs(ms: readonly RepeatScores[], o: { resamples: number; seed: number; level?: number }): ConfidenceInterval[] {
  const level = o.level ?? 0.95;
  const a = (1 - level) / 2;
  return twoWayBootstrapMeansMany(ms, o.resamples, o.seed).map((draws, k) => {
    const means = ascending(draws);
    if (means.length === 0) return { estimate: NaN, low: NaN, high: NaN, level };
    return { estimate: meanOf(ms[k]), low: quantileSorted(means, a), high: quantileSorted(means, 1 - a), level };
  });
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
  return pairedRepeatTests([[sys, control]], o)[0];
}

/**
 * pairedRepeatTest of each (sys, control) pair, with common random numbers: every test resamples the
 * same (repeat, concept) draws, so each p keeps its meaning (it is the p pairedRepeatTest gives with this
 * seed) and the draws are paid once. The tests become dependent (as they already were through shared sys
 * scores); Holm over them holds under any dependence.
 */
export function pairedRepeatTests(pairs: readonly (readonly [sys: RepeatScores, control: RepeatScores])[], o: { resamples: number; seed: number }): PairedTest[] {
  const Ds = pairs.map(([sys, control]) => sys.map((row, r) => row.map((v, i) => v - control[r][i])));
  const draws = twoWayBootstrapMeansMany(Ds, o.resamples, o.seed);
  return Ds.map((D, k) => pairedSummary(D, draws[k]));
}

function pairedSummary(D: RepeatScores, draws: readonly number[]): PairedTest {
  const observed = meanOf(D);
  const sorted = ascending(draws);
  let atLeast = 0;
  for (const m of sorted) if (m - observed >= observed - 1e-12) atLeast++;
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
    p: sorted.length ? (1 + atLeast) / (1 + sorted.length) : NaN,
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
