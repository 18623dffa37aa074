import { bootstrapMeanCI, type ConfidenceInterval } from '../../core/numeric/stats.ts';
import { attributeSpearman, conceptSpearman, f1AtK, neighbourhoodHits } from './metrics.ts';
import type { Mapper } from './mappers.ts';
import type { HeadlineMetric } from './norm-set.ts';
import type { Targets } from './targets.ts';

/** Every concept predicted once, by the mapper trained on the other folds. */
/** `fixed`: per-fold capacity to reuse (e.g. the components sys chose) instead of searching again. */
export async function crossValidatedPredictions(mapper: Mapper, X: Float64Array, p: number, Y: Targets, folds: number[][], seed: number, fixed?: readonly number[]): Promise<{ predictions: Float64Array; chosen: number[] }> {
  const { n, q } = Y;
  const predictions = new Float64Array(n * q);
  const all = Array.from({ length: n }, (_, i) => i);
  const chosen: number[] = [];
  for (const [f, test] of folds.entries()) {
    const held = new Set(test);
    const train = all.filter((i) => !held.has(i));
    const r = await mapper.fitPredict(X, p, Y, train, test, seed + f, fixed?.[f]);
    test.forEach((row, t) => predictions.set(r.predictions.subarray(t * q, (t + 1) * q), row * q));
    chosen.push(r.chosen);
  }
  return { predictions, chosen };
}

/** Per-concept scores of one control, aligned with the concepts (for paired tests). */
export interface ConceptScores {
  headline: number[];
  neighbourhood: number[];
  /** neighbourhood accuracy counted only against concepts of other categories */
  neighbourhoodOtherCategory?: number[];
  /** Spearman per feature across concepts (rating sets only) */
  perAttribute?: number[];
}

export interface ScoreOptions { metric: HeadlineMetric; k: number; neighbourhoodK: number; group?: Int32Array }

export function scoreConcepts(predictions: Float64Array, gold: Targets, o: ScoreOptions): ConceptScores {
  const { n, q } = gold;
  const headline: number[] = [];
  for (let i = 0; i < n; i++) {
    const pr = predictions.subarray(i * q, (i + 1) * q);
    const g = gold.values.subarray(i * q, (i + 1) * q);
    headline.push(o.metric === 'f1' ? f1AtK(pr, g, o.k) : conceptSpearman(pr, g));
  }
  const truth = Array.from({ length: n }, (_, i) => i);
  let others: ((t: number) => readonly number[]) | undefined;
  if (o.group) {
    const group = o.group;
    const byGroup = new Map<number, number[]>();
    group.forEach((g) => byGroup.set(g, []));
    const lists = new Map([...byGroup.keys()].map((g) => [g, truth.filter((i) => group[i] !== g)]));
    others = (t) => lists.get(group[t])!;
  }
  // one pass gives NA against all concepts and against other-category concepts only
  const na = neighbourhoodHits(predictions, truth, gold, o.neighbourhoodK, others);
  const neighbourhood = na.all;
  const neighbourhoodOtherCategory = na.restricted;
  const perAttribute = o.metric === 'spearman' ? attributeSpearman(predictions, gold.values, n, q) : undefined;
  return { headline, neighbourhood, neighbourhoodOtherCategory, perAttribute };
}

export interface ScoreSummary {
  headline: ConfidenceInterval;
  neighbourhood: ConfidenceInterval;
  neighbourhoodOtherCategory?: ConfidenceInterval;
  perAttributeMean?: number;
}

export function summarise(s: ConceptScores, resamples: number, seed: number): ScoreSummary {
  const finite = (xs: number[]): number[] => xs.filter(Number.isFinite);
  const ci = (xs: number[]): ConfidenceInterval => bootstrapMeanCI(finite(xs), { resamples, seed });
  const pa = s.perAttribute ? finite(s.perAttribute) : undefined;
  return {
    headline: ci(s.headline),
    neighbourhood: ci(s.neighbourhood),
    neighbourhoodOtherCategory: s.neighbourhoodOtherCategory ? ci(s.neighbourhoodOtherCategory) : undefined,
    perAttributeMean: pa && pa.length > 0 ? pa.reduce((a, b) => a + b, 0) / pa.length : undefined,
  };
}

/** Per-concept mean over several runs (shuffle seeds). */
export function meanScores(runs: ConceptScores[]): ConceptScores {
  const avg = (pick: (s: ConceptScores) => number[] | undefined): number[] | undefined => {
    const arrays = runs.map(pick);
    if (arrays.some((a) => !a)) return undefined;
    return arrays[0]!.map((_, i) => arrays.reduce((s, a) => s + a![i], 0) / arrays.length);
  };
  return {
    headline: avg((s) => s.headline)!,
    neighbourhood: avg((s) => s.neighbourhood)!,
    neighbourhoodOtherCategory: avg((s) => s.neighbourhoodOtherCategory),
    perAttribute: avg((s) => s.perAttribute),
  };
}
