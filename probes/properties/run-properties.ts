import type { ModelDir } from '../../core/model/model-dir.ts';
import type { Progress } from '../../core/progress.ts';
import { epError } from '../../core/errors.ts';
import { conceptEmbeddings, representationNames, type Representation } from './concept-embeddings.ts';
import type { EmbeddingCache } from './embedding-cache.ts';
import type { PropertiesConfig } from './config.ts';
import { categoryGroups } from './controls.ts';
import { foldCategories } from './fold-categories.ts';
import { complement, kFolds } from './folds.ts';
import { goldControls } from './gold-controls.ts';
import { runLayerJobs, workerCount } from './layer-pool.ts';
import type { LayerJob, LayerScores } from './layer-suite.ts';
import type { MapperName } from './mappers.ts';
import { selectConcepts, type NormSet, type PreprocessOptions } from './norm-set.ts';
import type { LayerResult, PropertiesData } from './schema.ts';
import { denseTargets } from './targets.ts';
import { rankLayers } from './verdict.ts';
import { layerVerdicts, tiedWithBest, type VerdictSettings } from './verdict-rules.ts';

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

export interface LayersInput {
  norms: NormSet;
  layers: Array<{ layer: string; X: Float64Array }>;
  /** embedding width */
  p: number;
  cfg: PropertiesConfig;
  mapper: MapperName;
  binarizeForPlsr: boolean;
  progress?: (r: LayerScores, done: number) => void;
}

/**
 * Every control on every layer with repeated CV, then the verdicts (Holm over the whole record). Takes
 * the embedding matrices, so planted data can be probed without a model.
 */
export async function evaluateLayers(e: LayersInput): Promise<{ results: LayerResult[]; family: number; scores: LayerScores[]; folds: number[][][]; repeats: number; seed: number; cats: ReturnType<typeof categoryGroups>; workers: number; verdictSettings: VerdictSettings; poolS: number; poolCpuS: number; jobsS: number }> {
  const { norms, cfg } = e;
  const n = norms.concepts.length;
  const q = norms.features.length;
  const gold = denseTargets(norms.values, n, q);
  // PLSR trains on binarized targets as the reference code does, but only for feature lists scored by F1:
  // binarizing ratings scored by rank correlation (Binder, dense user norms) leaves nothing to rank
  const binarize = e.mapper === 'plsr' && e.binarizeForPlsr && norms.metric === 'f1';
  const seed = cfg.seed;
  const repeats = Math.max(1, cfg.repeats ?? 1);
  // repeat r has its own fold assignment (and its own shuffle / random-target seeds in the layer jobs)
  const folds = Array.from({ length: repeats }, (_, r) => kFolds(n, Math.min(cfg.folds, n), seed + 1009 * r));
  const all = Array.from({ length: n }, (_, i) => i);
  // the descriptive "neighbourhood among other categories" metric of sys: categories of all concepts
  const cats = categoryGroups(gold, norms.categories, cfg.controls.categoryClusters, seed);
  // filled while the pool runs its first jobs (runLayerJobs sends no category control before); the jobs
  // share this array, so a job posted later carries it filled
  const foldCats: LayerJob['foldCats'] = [];
  let goldScores: ReturnType<typeof goldControls> | undefined;
  const prepare = (): void => {
    foldCats.push(...folds.map((rf, r) => rf.map((test, f) => foldCategories(gold, norms.categories, cfg.controls.categoryClusters, seed + 10 * r + f, complement(all, test)))));
    goldScores = goldControls(gold, norms.metric, folds, { k: cfg.metrics.k, oracleNeighbours: cfg.controls.oracleNeighbours, shuffleSeeds: cfg.controls.shuffleSeeds, seed });
  };
  const jobs: LayerJob[] = e.layers.map(({ layer, X }) => ({
    layer, X, p: e.p, gold: norms.values, n, q, metric: norms.metric, binarize,
    mapper: e.mapper, cfg, seed, folds, foldCats, reportGroup: cats.group,
  }));
  const workers = workerCount(cfg.workers);
  let done = 0;
  const tPool = performance.now();
  const cPool = process.cpuUsage();
  const scores = await runLayerJobs(jobs, workers, (r) => e.progress?.(r, ++done), prepare);
  const poolS = (performance.now() - tPool) / 1000;
  // CPU in the pool's window: the workers' and the preparation this thread did meanwhile (both spread
  // over the cores); what this thread does after it is the serial part
  const cpu = process.cpuUsage(cPool);
  const poolCpuS = (cpu.user + cpu.system) / 1e6;
  const verdictSettings: VerdictSettings = {
    alpha: cfg.controls.alpha, minEffect: cfg.controls.minEffect ?? { f1: 0.02, spearman: 0.05 },
    bootstrapResamples: cfg.controls.bootstrapResamples, permutations: cfg.controls.permutations, seed,
  };
  const gridMax = e.mapper === 'plsr' && cfg.plsr.components === 'auto' ? Math.max(...cfg.plsr.componentGrid) : undefined;
  const { results, family } = layerVerdicts(scores, goldScores!, norms.metric, verdictSettings, gridMax);
  return { results, family, scores, folds, repeats, seed, cats, workers, verdictSettings, poolS, poolCpuS, jobsS: scores.reduce((a, x) => a + x.seconds, 0) };
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

  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const ev = await evaluateLayers({
    norms, layers: layers.map((layer) => ({ layer, X: matrixOf(emb.vectors.get(layer)!, norms.words, p) })), p,
    cfg, mapper: run.mapper, binarizeForPlsr: run.preprocess.binarizeForPlsr, progress: (r, done) => progress?.step(`properties ${norms.name} ${run.variant}`, done, layers.length, `${r.layer} (${r.seconds.toFixed(1)} s)`),
  });
  const { results, family, folds, repeats, seed, cats, workers } = ev;
  const cpuAll = process.cpuUsage(c1);
  const ranking = rankLayers(results);
  return {
    normSet: { name: norms.name, path: norms.path, concepts: n, features: q, metric: norms.metric, categories: norms.categories ? cats.source : cats.source.replace('k-means on the norms', 'k-means on the norms of each training fold, test concepts assigned to the nearest centroid'), notes: norms.notes },
    coverage: { ...emb.coverage, conceptsDropped: dropped },
    mapper: run.mapper,
    settings: {
      folds: folds[0].length, repeats, seed, templates: cfg.templates, preprocess: run.preprocess, controls: cfg.controls, metrics: cfg.metrics,
      ...(run.mapper === 'plsr' ? { plsr: cfg.plsr } : { ffnn: cfg.ffnn }),
    },
    layers: results,
    ranking,
    bestLayer: ranking[0],
    selection: {
      exploratory: true, family, tiedWithBest: tiedWithBest(ev.scores, ranking[0], ev.verdictSettings),
      note: `best layer by sys score, chosen after the fact; its verdict is Holm-corrected over all ${family} tests of this record (every layer x every control), which covers the choice`,
    },
    timings: { embeddingsS: tEmb, controlsS: (performance.now() - t1) / 1000, embeddingsCached: emb.cached, workers, poolS: ev.poolS, jobsS: ev.jobsS, poolCpuS: ev.poolCpuS, serialCpuS: Math.max(0, (cpuAll.user + cpuAll.system) / 1e6 - ev.poolCpuS) },
  };
}
