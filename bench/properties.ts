/**
 * Property-inference benchmark and doc tables: times PLSR + 10-fold CV on McRae for one layer, the whole
 * properties suite (all controls, all layers) per norm set and for the three sets together, with peak
 * RSS; writes bench/results/properties.json (+ properties-records.json with the full records) and
 * prints the markdown tables used in docs/properties.md.
 * Usage: npx tsx bench/properties.ts [--variants fp32,int8-dynamic] [--layers all] [--norms mcrae,binder] [--tag name]
 * (--tag writes bench/results/properties-<tag>.json instead, e.g. for a reduced-layer budget run)
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { loadPropertiesConfig } from '../probes/properties/config.ts';
import { conceptEmbeddings } from '../probes/properties/concept-embeddings.ts';
import { crossValidatedPredictions } from '../probes/properties/evaluate.ts';
import { kFolds } from '../probes/properties/folds.ts';
import { plsrMapper } from '../probes/properties/mappers.ts';
import { loadNormSet, runPropertiesProbes } from '../probes/properties/properties-probe.ts';
import { binarized, denseTargets } from '../probes/properties/targets.ts';
import { controlsTableRows, layerTableRows, markdownTable, PAPER_VALUES } from '../probes/properties/table.ts';
import { parseVariantNames } from '../probes/properties/variants.ts';
import { writeBenchRecords, writeBenchResult } from './bench-result.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : undefined; };
const shared = process.env.EDGEPROBE_SHARED ?? join(root, '..', 'shared');
const md = loadModelDir(join(shared, 'models', 'wordnet-bert-small'));
const progress = createProgress('lines');
const cfg = loadPropertiesConfig();
const rssMb = (): number => process.resourceUsage().maxRSS / 1024;
const tag = arg('tag');
const base = tag ? `properties-${tag}` : 'properties';
const rows: Array<{ metric: string; value: number; unit: string; target?: string; pass?: boolean }> = [];

// 1. PLSR (nested component search) + 10-fold CV on McRae, one layer, embeddings already computed
{
  const { set } = loadNormSet('mcrae', cfg, { progress });
  const emb = await conceptEmbeddings(md, set.words, { templates: cfg.templates, variant: 'fp32', progress });
  const n = set.concepts.length, q = set.features.length, p = emb.hidden;
  const X = new Float64Array(n * p);
  set.words.forEach((w, i) => X.set(emb.vectors.get('L4')!.get(w)!, i * p));
  const t = performance.now();
  crossValidatedPredictions(plsrMapper(cfg.plsr, { metric: 'f1', k: 10 }), X, p, binarized(denseTargets(set.values, n, q)), kFolds(n, 10, cfg.seed), cfg.seed);
  rows.push({ metric: `PLSR nested CV + 10-fold CV, McRae (${n} concepts x ${q} features), layer L4`, value: (performance.now() - t) / 1000, unit: 's' });
  rows.push({ metric: 'peak RSS after PLSR CV', value: rssMb(), unit: 'MB' });
}

// 2./3. the whole suite per norm set, then the three together
const variants = parseVariantNames(arg('variants'));
const records: ProbeRecord[] = [];
let suite = 0;
for (const norms of (arg('norms') ?? 'mcrae,buchanan,binder').split(',')) {
  const t = performance.now();
  const recs = await runPropertiesProbes({ md, norms: [norms], variants, layers: arg('layers'), progress });
  const s = (performance.now() - t) / 1000;
  suite += s;
  records.push(...recs);
  rows.push({ metric: `properties suite, ${norms}, ${variants.join('+')}, all controls, layers ${arg('layers') ?? 'all'}`, value: s, unit: 's' });
  rows.push({ metric: `peak RSS after ${norms}`, value: rssMb(), unit: 'MB' });
}
rows.push({ metric: `properties suite, three norm sets, ${variants.join('+')}`, value: suite, unit: 's', target: '<= 300 s per variant', pass: suite / variants.length <= 300 });

const c = cfg.controls;
const notes = [
  `settings: ${cfg.folds}-fold CV, PLSR components by nested ${cfg.plsr.innerFolds}-fold CV over ${JSON.stringify(cfg.plsr.componentGrid)} (criterion ${cfg.plsr.criterion}), ${c.shuffleSeeds} shuffle seeds, ${c.bootstrapResamples} bootstrap resamples, ${c.permutations} permutations, oracle k=${c.oracleNeighbours}`,
  `templates: ${JSON.stringify(cfg.templates)}; thresholds: ${JSON.stringify(cfg.norms)}`,
  'embeddings are cached in SQLite after the first run; the suite times include computing them only when the cache was cold (see properties-records.json timings)',
  `load average at the end: ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} (the machine is shared)`,
];
writeBenchResult({ topic: base, title: `Property inference (PLSR, all controls${tag ? `, ${tag}` : ''})`, rows, notes });
writeBenchRecords(base, records);

const table = controlsTableRows(records);
const paper = [['norm set', 'source', 'Sys', 'Upper', 'Shuffle', 'Shuf-Upper', 'Rand'], ...Object.entries(PAPER_VALUES).map(([k, v]) => [k, 'paper', ...v.map(String)])];
process.stdout.write(`\n## Controls at the best layer\n\n${markdownTable(table)}\n\n## Paper\n\n${markdownTable(paper)}\n`);
for (const r of records) process.stdout.write(`\n### ${(r.data as { normSet: { name: string } }).normSet.name} (${r.variant.name}): per layer\n\n${markdownTable(layerTableRows(r))}\n`);
process.stdout.write(`\n${rows.map((r) => `${r.metric}: ${r.value.toFixed(2)} ${r.unit}`).join('\n')}\n`);
