import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import { goldGram, oraclePredict } from './controls.ts';
import type { RepeatScores } from './inference.ts';
import { headlineOf } from './layer-suite.ts';
import type { HeadlineMetric } from './norm-set.ts';
import { presence, priorPredictions } from './priors.ts';
import type { Targets } from './targets.ts';

/** The controls that read no embedding: the same for every layer, computed once per repeat. */
export const GOLD_CONTROLS = ['prior', 'prior-frequency', 'upper', 'shuffle-upper'] as const;
export type GoldControl = (typeof GOLD_CONTROLS)[number];

export interface GoldScores { headline: Partial<Record<GoldControl, RepeatScores>> }

function score(pred: Float64Array, gold: Targets, metric: HeadlineMetric, k: number): number[] {
  const { n, q } = gold;
  return Array.from({ length: n }, (_, i) => headlineOf(pred.subarray(i * q, (i + 1) * q), gold.values.subarray(i * q, (i + 1) * q), metric, k));
}

/**
 * prior (training-fold mean of the values), prior-frequency (training share of concepts having each
 * feature; feature lists only, where it differs from the mean of production counts), upper and
 * shuffle-upper, for each repeat's folds.
 */
export function goldControls(gold: Targets, metric: HeadlineMetric, folds: number[][][], o: { k: number; oracleNeighbours: number; shuffleSeeds: number; seed: number }): GoldScores {
  const { n, q } = gold;
  const gram = goldGram(gold);
  const all = Array.from({ length: n }, (_, i) => i);
  const headline: Partial<Record<GoldControl, RepeatScores>> = { prior: [], upper: [], 'shuffle-upper': [] };
  if (metric === 'f1') headline['prior-frequency'] = [];
  const pres = metric === 'f1' ? presence(gold.values) : undefined;
  folds.forEach((rf, r) => {
    // the gold's nonzeros cover presence's too (value > 0 implies value !== 0)
    headline.prior!.push(score(priorPredictions(gold.values, n, q, rf, gold.nonzero), gold, metric, o.k));
    if (pres) headline['prior-frequency']!.push(score(priorPredictions(pres, n, q, rf, gold.nonzero), gold, metric, o.k));
    const oracle = (random?: SeededRandom): Float64Array => {
      const pred = new Float64Array(n * q);
      for (const test of rf) {
        const held = new Set(test);
        const out = oraclePredict(gold, gram, all.filter((i) => !held.has(i)), test, o.oracleNeighbours, random);
        test.forEach((row, t) => pred.set(out.subarray(t * q, (t + 1) * q), row * q));
      }
      return pred;
    };
    headline.upper!.push(score(oracle(), gold, metric, o.k));
    const runs = Array.from({ length: o.shuffleSeeds }, (_, s) => score(oracle(new SeededRandom(o.seed + 1000 + r * o.shuffleSeeds + s)), gold, metric, o.k));
    headline['shuffle-upper']!.push(runs[0].map((_, i) => runs.reduce((a, x) => a + x[i], 0) / runs.length));
  });
  return { headline };
}
