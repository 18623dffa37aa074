import type { ModelDir } from '../../core/model/model-dir.ts';
import { pairedPermutationPValue } from '../../core/numeric/stats.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { Progress } from '../../core/progress.ts';
import { epError } from '../../core/errors.ts';
import { conceptEmbeddings, representationNames, type Representation } from './concept-embeddings.ts';
import type { EmbeddingCache } from './embedding-cache.ts';
import type { PropertiesConfig } from './config.ts';
import { categoryGroups, goldGram, oraclePredict, randomTargets, residualiseOnCategories } from './controls.ts';
import { crossValidatedPredictions, meanScores, scoreConcepts, summarise, type ConceptScores, type ScoreOptions } from './evaluate.ts';
import { kFolds } from './folds.ts';
import { ffnnMapper, plsrMapper, type Mapper, type MapperName } from './mappers.ts';
import { selectConcepts, type NormSet, type PreprocessOptions } from './norm-set.ts';
import type { ControlScore, LayerResult, PropertiesData } from './schema.ts';
import { binarized, denseTargets, type Targets } from './targets.ts';
import { layerVerdict, rankLayers } from './verdict.ts';

export interface PropertiesRun {
  md: ModelDir;
  variant: string;
  norms: NormSet;
  preprocess: PreprocessOptions;
  cfg: PropertiesConfig;
  mapper: MapperName;
  /** representations to probe; default all (`static`, `L0`..`Ln`) */
  layers?: Representation[];
  progress?: Progress;
  cache?: EmbeddingCache | null;
}

/** `static,0,3` / `all` -> representation names, checked against the model's layer count. */
export function parseLayers(spec: string | undefined, layerCount: number): Representation[] {
  const all = representationNames(layerCount);
  if (!spec || spec === 'all') return all;
  return spec.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const name = /^\d+$/.test(s) ? `L${s}` : s;
    if (!all.includes(name)) throw epError('EP_LAYERS_UNKNOWN', { layer: s, count: layerCount });
    return name;
  });
}

function matrixOf(vectors: Map<string, Float32Array>, words: readonly string[], p: number): Float64Array {
  const X = new Float64Array(words.length * p);
  words.forEach((w, i) => X.set(vectors.get(w)!, i * p));
  return X;
}

/** Runs the mapper and all controls with the same folds and metrics on every requested layer. */
export async function runPropertiesProbe(run: PropertiesRun): Promise<PropertiesData> {
  const { md, cfg, progress } = run;
  const t0 = performance.now();
  const emb = await conceptEmbeddings(md, run.norms.words, { templates: cfg.templates, variant: run.variant, progress, cache: run.cache });
  const tEmb = (performance.now() - t0) / 1000;
  const covered = new Set(emb.vectors.get('L0')!.keys());
  const keep = run.norms.words.map((w, i) => (covered.has(w) ? i : -1)).filter((i) => i >= 0);
  const dropped = run.norms.concepts.length - keep.length;
  if (emb.coverage.missing.length > 0) progress?.warn(`${run.norms.name}: ${emb.coverage.missing.length} word(s) have pieces outside the vocabulary and are dropped: ${emb.coverage.missing.slice(0, 10).join(', ')}`);
  const norms = keep.length === run.norms.concepts.length ? run.norms : selectConcepts(run.norms, keep);
  const n = norms.concepts.length;
  const q = norms.features.length;
  const p = emb.hidden;
  const layers = run.layers ?? representationNames(md.layers.layers);

  const gold = denseTargets(norms.values, n, q);
  // PLSR trains on binarized targets as the reference code does, but only for feature lists scored by F1:
  // binarizing ratings scored by rank correlation (Binder, dense user norms) leaves nothing to rank
  const binarize = run.mapper === 'plsr' && run.preprocess.binarizeForPlsr && norms.metric === 'f1';
  const trainOf = (t: Targets): Targets => (binarize ? binarized(t) : t);
  const mapper: Mapper = run.mapper === 'plsr' ? plsrMapper(cfg.plsr, { metric: norms.metric, k: cfg.metrics.k }) : ffnnMapper(cfg.ffnn);
  const seed = cfg.seed;
  const folds = kFolds(n, Math.min(cfg.folds, n), seed);
  const cats = categoryGroups(gold, norms.categories, cfg.controls.categoryClusters, seed);
  const scoreOpts: ScoreOptions = { metric: norms.metric, k: cfg.metrics.k, neighbourhoodK: cfg.metrics.neighbourhoodK, group: cats.group };
  const { resamples, alpha } = { resamples: cfg.controls.bootstrapResamples, alpha: cfg.controls.alpha };
  const summary = (s: ConceptScores, extra: Partial<ControlScore> = {}): ControlScore => ({ ...summarise(s, resamples, seed), ...extra });

  // oracle controls read only the gold norms: the same for every layer
  const t1 = performance.now();
  const gram = goldGram(gold);
  const all = Array.from({ length: n }, (_, i) => i);
  const oracle = (random?: SeededRandom): Float64Array => {
    const pred = new Float64Array(n * q);
    for (const test of folds) {
      const held = new Set(test);
      const out = oraclePredict(gold, gram, all.filter((i) => !held.has(i)), test, cfg.controls.oracleNeighbours, random);
      test.forEach((row, t) => pred.set(out.subarray(t * q, (t + 1) * q), row * q));
    }
    return pred;
  };
  const upperScores = scoreConcepts(oracle(), gold, scoreOpts);
  const shufUpperRuns = Array.from({ length: cfg.controls.shuffleSeeds }, (_, s) => scoreConcepts(oracle(new SeededRandom(seed + 1000 + s)), gold, scoreOpts));
  const randGold = denseTargets(randomTargets(norms.values, n, q, seed + 2000), n, q);

  const results: LayerResult[] = [];
  const steps = layers.length * (3 + cfg.controls.shuffleSeeds);
  let done = 0;
  const tick = (what: string): void => progress?.step(`properties ${norms.name} ${run.variant}`, ++done, steps, what);
  for (const layer of layers) {
    const X = matrixOf(emb.vectors.get(layer)!, norms.words, p);
    const sysRun = crossValidatedPredictions(mapper, X, p, trainOf(gold), folds, seed);
    // controls search their own PLSR components (nested) or reuse the ones sys chose per fold
    const fixed = run.mapper === 'plsr' && cfg.plsr.controlComponents === 'as-sys' ? sysRun.chosen : undefined;
    const cv = (x: Float64Array, y: Targets, s: number): { predictions: Float64Array; chosen: number[] } => crossValidatedPredictions(mapper, x, p, trainOf(y), folds, s, fixed);
    const sys = scoreConcepts(sysRun.predictions, gold, scoreOpts);
    tick(`${layer} sys`);
    const shuffleRuns: ConceptScores[] = [];
    for (let s = 0; s < cfg.controls.shuffleSeeds; s++) {
      const perm = new SeededRandom(seed + 3000 + s).permutation(n);
      const Xs = new Float64Array(n * p);
      perm.forEach((src, i) => Xs.set(X.subarray(src * p, (src + 1) * p), i * p));
      shuffleRuns.push(scoreConcepts(cv(Xs, gold, seed + s).predictions, gold, scoreOpts));
      tick(`${layer} shuffle ${s + 1}`);
    }
    const randRun = cv(X, randGold, seed);
    const rand = scoreConcepts(randRun.predictions, randGold, { ...scoreOpts, group: undefined });
    tick(`${layer} rand`);
    const resid = residualiseOnCategories(X, p, trainOf(gold), cats.group, cats.groups);
    const residGold = residualiseOnCategories(X, p, gold, cats.group, cats.groups).Y;
    const catRun = crossValidatedPredictions(mapper, resid.X, p, resid.Y, folds, seed, fixed);
    const cat = scoreConcepts(catRun.predictions, residGold, scoreOpts);
    tick(`${layer} category-destroyed`);

    const shuffle = meanScores(shuffleRuns);
    const perm = { permutations: cfg.controls.permutations, seed };
    const pValues = {
      shuffle: pairedPermutationPValue(sys.headline, shuffle.headline, perm),
      rand: pairedPermutationPValue(sys.headline, rand.headline, perm),
      'category-destroyed': pairedPermutationPValue(sys.headline, cat.headline, perm),
    };
    const controls = {
      sys: summary(sys, { chosen: sysRun.chosen }),
      upper: summary(upperScores),
      shuffle: summary(shuffle, { seeds: shuffleRuns.map((r) => summarise(r, 10, seed).headline.estimate) }),
      'shuffle-upper': summary(meanScores(shufUpperRuns)),
      rand: summary(rand, { chosen: randRun.chosen }),
      'category-destroyed': summary(cat, { chosen: catRun.chosen }),
    };
    const mean = (c: keyof typeof pValues): { mean: number; p: number } => ({ mean: controls[c].headline.estimate, p: pValues[c] });
    results.push({ layer, controls, pValues, ...layerVerdict(layer, norms.metric, controls.sys.headline.estimate, { shuffle: mean('shuffle'), rand: mean('rand'), 'category-destroyed': mean('category-destroyed') }, alpha) });
  }
  const ranking = rankLayers(results);
  return {
    normSet: { name: norms.name, path: norms.path, concepts: n, features: q, metric: norms.metric, categories: cats.source, notes: norms.notes },
    coverage: { ...emb.coverage, conceptsDropped: dropped },
    mapper: run.mapper,
    settings: {
      folds: folds.length, seed, templates: cfg.templates, preprocess: run.preprocess, controls: cfg.controls, metrics: cfg.metrics,
      ...(run.mapper === 'plsr' ? { plsr: cfg.plsr } : { ffnn: cfg.ffnn }),
    },
    layers: results,
    ranking,
    bestLayer: ranking[0],
    timings: { embeddingsS: tEmb, controlsS: (performance.now() - t1) / 1000, embeddingsCached: emb.cached },
  };
}
