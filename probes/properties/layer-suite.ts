import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { PropertiesConfig } from './config.ts';
import { columnPermutedTargets, randomTargets } from './controls.ts';
import { scoreConcepts } from './evaluate.ts';
import { residualiseFold, residualRowInto, shuffleWithinCategories, trainCentroids, type FoldCategories } from './fold-categories.ts';
import { ffnnMapper, plsrMapper, type Mapper, type MapperName } from './mappers.ts';
import { conceptSpearman, f1AtK } from './metrics.ts';
import type { HeadlineMetric } from './norm-set.ts';
import { binarized, denseTargets, type Targets } from './targets.ts';
import type { RepeatScores } from './inference.ts';

/** The controls that need the embeddings (and a mapper fit per fold): one layer's share of the work. */
export const EMBEDDING_CONTROLS = ['sys', 'shuffle', 'rand', 'rand-marginal', 'category-shuffle', 'category-destroyed'] as const;
export type EmbeddingControl = (typeof EMBEDDING_CONTROLS)[number];

/** Everything one layer's controls need; structured-clonable, so it can be sent to a worker thread. */
export interface LayerJob {
  layer: string;
  X: Float64Array;
  p: number;
  /** gold values [n, q] as scored (not binarised) */
  gold: Float64Array;
  n: number;
  q: number;
  metric: HeadlineMetric;
  /** PLSR trains on value > 0 (feature lists) */
  binarize: boolean;
  mapper: MapperName;
  cfg: PropertiesConfig;
  seed: number;
  /** outer folds per repeat */
  folds: number[][][];
  /** categories per repeat and outer fold, fitted on that fold's training concepts */
  foldCats: FoldCategories[][];
  /** categories for the descriptive neighbourhood-within-other-categories metric of sys */
  reportGroup?: Int32Array;
  /** run only these controls (default all): a layer split into per-control jobs keeps every core busy */
  controls?: EmbeddingControl[];
}

export interface LayerScores {
  layer: string;
  /** headline per repeat and concept, per control (shuffle: mean over its seeds within a repeat) */
  headline: Record<EmbeddingControl, RepeatScores>;
  /** shuffle headline mean per seed (all repeats) */
  shuffleSeedMeans: number[];
  sysNeighbourhood: RepeatScores;
  sysNeighbourhoodOther?: RepeatScores;
  sysPerAttributeMean?: number;
  /** mapper capacity chosen per repeat and fold (PLSR components, FFNN epochs) */
  chosen: Record<EmbeddingControl, number[][]>;
  seconds: number;
}

export function mapperFor(name: MapperName, cfg: PropertiesConfig, metric: HeadlineMetric): Mapper {
  return name === 'plsr' ? plsrMapper(cfg.plsr, { metric, k: cfg.metrics.k }) : ffnnMapper(cfg.ffnn);
}

export function headlineOf(pred: ArrayLike<number>, gold: ArrayLike<number>, metric: HeadlineMetric, k: number): number {
  return metric === 'f1' ? f1AtK(pred, gold, k) : conceptSpearman(pred, gold);
}

/** Rows `test` of `X` with rows of the permutation; the seed is the repeat's. */
function permuteRows(X: Float64Array, p: number, perm: readonly number[]): Float64Array {
  const out = new Float64Array(X.length);
  perm.forEach((src, i) => out.set(X.subarray(src * p, (src + 1) * p), i * p));
  return out;
}

/**
 * Runs sys and every embedding control on one layer, for every repeat (fold seed). Every control
 * searches its own capacity with the same nested search as sys (a control that reuses sys's component
 * counts is handicapped: McRae shuffle rose from .149 to .158 when tuned on its own).
 */
export async function runLayerJob(job: LayerJob): Promise<LayerScores> {
  const t0 = performance.now();
  const { X, p, n, q, metric, cfg } = job;
  const k = cfg.metrics.k;
  const mapper = mapperFor(job.mapper, cfg, metric);
  const gold = denseTargets(job.gold, n, q);
  const trainOf = (t: Targets): Targets => (job.binarize ? binarized(t) : t);
  const R = job.folds.length;
  const headline = Object.fromEntries(EMBEDDING_CONTROLS.map((c) => [c, [] as number[][]])) as Record<EmbeddingControl, RepeatScores>;
  const chosen = Object.fromEntries(EMBEDDING_CONTROLS.map((c) => [c, [] as number[][]])) as Record<EmbeddingControl, number[][]>;
  const shuffleSeedMeans: number[] = [];
  const sysNeighbourhood: RepeatScores = [];
  const sysNeighbourhoodOther: RepeatScores = [];
  let perAttr = 0;
  let perAttrCount = 0;
  const want = (c: EmbeddingControl): boolean => !job.controls || job.controls.includes(c);

  /** One mapper per fold on (Xf, Yf) -> headline of the test rows against `score` (per fold), capacity per fold. */
  /** `score`: the scored targets [n, q], or the scored row of a test concept (computed for the test rows only) */
  /** `keep`: also return every concept's prediction [n, q] (sys only: 31 MB on Buchanan, unread by the controls) */
  const foldwise = async (folds: number[][], seed: number, input: (f: number, train: number[]) => { X: Float64Array; Y: Targets; score: Float64Array | ((row: number) => Float64Array) }, keep = false): Promise<{ scores: number[]; chosen: number[]; predictions?: Float64Array }> => {
    const scores = new Array<number>(n).fill(NaN);
    const ch: number[] = [];
    const predictions = keep ? new Float64Array(n * q) : undefined;
    const all = Array.from({ length: n }, (_, i) => i);
    for (const [f, test] of folds.entries()) {
      const held = new Set(test);
      const train = all.filter((i) => !held.has(i));
      const d = input(f, train);
      const r = await mapper.fitPredict(d.X, p, d.Y, train, test, seed + f);
      ch.push(r.chosen);
      test.forEach((row, t) => {
        const pr = r.predictions.subarray(t * q, (t + 1) * q);
        predictions?.set(pr, row * q);
        scores[row] = headlineOf(pr, typeof d.score === 'function' ? d.score(row) : d.score.subarray(row * q, (row + 1) * q), metric, k);
      });
    }
    return { scores, chosen: ch, predictions };
  };

  // the training targets of sys, shuffle and the category controls: the same in every repeat (rand's are its own)
  const trainGold = want('sys') || want('shuffle') || want('category-shuffle') || want('category-destroyed') ? trainOf(gold) : gold;
  for (let r = 0; r < R; r++) {
    const folds = job.folds[r];
    const seed = job.seed + 1000 * r;
    if (want('sys')) {
      const sys = await foldwise(folds, seed, () => ({ X, Y: trainGold, score: gold.values }), true);
      headline.sys.push(sys.scores);
      chosen.sys.push(sys.chosen);
      const full = scoreConcepts(sys.predictions!, gold, { metric, k, neighbourhoodK: cfg.metrics.neighbourhoodK, group: job.reportGroup });
      sysNeighbourhood.push(full.neighbourhood);
      if (full.neighbourhoodOtherCategory) sysNeighbourhoodOther.push(full.neighbourhoodOtherCategory);
      for (const v of full.perAttribute ?? []) if (Number.isFinite(v)) { perAttr += v; perAttrCount++; }
    }

    const shuffleRuns: number[][] = [];
    const shuffleChosen: number[] = [];
    for (let s = 0; want('shuffle') && s < cfg.controls.shuffleSeeds; s++) {
      const Xs = permuteRows(X, p, new SeededRandom(job.seed + 3000 + r * cfg.controls.shuffleSeeds + s).permutation(n));
      const run = await foldwise(folds, seed + s, () => ({ X: Xs, Y: trainGold, score: gold.values }));
      shuffleRuns.push(run.scores);
      shuffleChosen.push(...run.chosen);
      const fin = run.scores.filter(Number.isFinite);
      shuffleSeedMeans.push(fin.reduce((a, b) => a + b, 0) / fin.length);
    }
    if (want('shuffle')) {
      headline.shuffle.push(shuffleRuns[0].map((_, i) => shuffleRuns.reduce((a, run) => a + run[i], 0) / shuffleRuns.length));
      chosen.shuffle.push(shuffleChosen);
    }

    if (want('rand')) {
      const randGold = denseTargets(randomTargets(job.gold, n, q, job.seed + 2000 + r), n, q);
      // binarised once per repeat, not per fold (a 35 MB array each on Buchanan)
      const randTrain = trainOf(randGold);
      const rand = await foldwise(folds, seed, () => ({ X, Y: randTrain, score: randGold.values }));
      headline.rand.push(rand.scores);
      chosen.rand.push(rand.chosen);
    }

    if (want('rand-marginal')) {
      const margGold = denseTargets(columnPermutedTargets(job.gold, n, q, job.seed + 2500 + r), n, q);
      const margTrain = trainOf(margGold);
      const marg = await foldwise(folds, seed, () => ({ X, Y: margTrain, score: margGold.values }));
      headline['rand-marginal'].push(marg.scores);
      chosen['rand-marginal'].push(marg.chosen);
    }

    if (want('category-shuffle')) {
      const catShuffle = await foldwise(folds, seed, (f) => ({ X: shuffleWithinCategories(X, p, job.foldCats[r][f], job.seed + 4000 + 100 * r + f), Y: trainGold, score: gold.values }));
      headline['category-shuffle'].push(catShuffle.scores);
      chosen['category-shuffle'].push(catShuffle.chosen);
    }

    if (want('category-destroyed')) {
      const catDestroyed = await foldwise(folds, seed, (f, train) => {
        const cats = job.foldCats[r][f];
        const resid = residualiseFold(X, p, trainGold, cats, train);
        if (!job.binarize) return { X: resid.X, Y: resid.Y, score: resid.Y.values };
        // the scored targets: the gold itself residualised, for the fold's test rows only (the dense [n, q]
        // residual was a 35 MB array per fold on Buchanan, of which a tenth is read)
        const cy = trainCentroids(gold.values, q, cats, train, gold.nonzero);
        return { X: resid.X, Y: resid.Y, score: (row: number) => residualRowInto(gold.values, q, cats, cy, row) };
      });
      headline['category-destroyed'].push(catDestroyed.scores);
      chosen['category-destroyed'].push(catDestroyed.chosen);
    }
  }
  return {
    layer: job.layer, headline, shuffleSeedMeans, sysNeighbourhood,
    sysNeighbourhoodOther: sysNeighbourhoodOther.length ? sysNeighbourhoodOther : undefined,
    sysPerAttributeMean: perAttrCount > 0 ? perAttr / perAttrCount : undefined,
    chosen, seconds: (performance.now() - t0) / 1000,
  };
}

/** The per-control parts of one layer (jobs with `controls` subsets) joined into one LayerScores. */
export function mergeLayerScores(parts: readonly LayerScores[]): LayerScores {
  const from = (c: EmbeddingControl): LayerScores => parts.find((x) => x.headline[c].length > 0) ?? parts[0];
  const sys = from('sys');
  return {
    layer: parts[0].layer,
    headline: Object.fromEntries(EMBEDDING_CONTROLS.map((c) => [c, from(c).headline[c]])) as LayerScores['headline'],
    chosen: Object.fromEntries(EMBEDDING_CONTROLS.map((c) => [c, from(c).chosen[c]])) as LayerScores['chosen'],
    shuffleSeedMeans: from('shuffle').shuffleSeedMeans,
    sysNeighbourhood: sys.sysNeighbourhood, sysNeighbourhoodOther: sys.sysNeighbourhoodOther, sysPerAttributeMean: sys.sysPerAttributeMean,
    seconds: parts.reduce((a, x) => a + x.seconds, 0),
  };
}
