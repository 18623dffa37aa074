import type { ModelDir } from '../../core/model/model-dir.ts';
import type { Progress } from '../../core/progress.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { AnyVariantName, Variant, VariantName } from '../../core/variants/variant-types.ts';
import { loadPropertiesConfig, preprocessFor, type PropertiesConfig } from './config.ts';
import type { MapperName } from './mappers.ts';
import { loadRawNorms } from './norm-loaders.ts';
import { buildNormSet, type HeadlineMetric, type NormSet, type PreprocessOptions } from './norm-set.ts';
import type { PropertiesData } from './schema.ts';
import { parseLayers, runPropertiesProbe } from './run-properties.ts';
import { variantModelDirs } from './variants.ts';
import { compareToFp32 } from './verdict.ts';
import { numericGate } from '../../core/runtime/numeric-gate-sweep.ts';

export interface PropertiesProbeOptions {
  md: ModelDir;
  norms: string[];
  normsDir?: string;
  variants: VariantName[];
  mapper?: MapperName;
  layers?: string;
  folds?: number;
  seed?: number;
  configPath?: string;
  /** overrides of the preprocessing thresholds for every norm set */
  preprocess?: Partial<PreprocessOptions>;
  metric?: HeadlineMetric;
  progress?: Progress;
  /** variants already built and loaded (the fleet agent's own); when given, `variants` is not used to build them */
  variantDirs?: Array<{ name: AnyVariantName; md: ModelDir }>;
  /** user-supplied files (--variant NAME=PATH), run after the built-in variants and compared with fp32 */
  userVariants?: Variant[];
  /** null: no SQLite cache (tests) */
  noCache?: boolean;
}

export function loadNormSet(spec: string, cfg: PropertiesConfig, o: Pick<PropertiesProbeOptions, 'normsDir' | 'preprocess' | 'metric' | 'progress'>): { set: NormSet; preprocess: PreprocessOptions } {
  const warn = (m: string): void => o.progress?.warn(m);
  const raw = loadRawNorms(spec, { normsDir: o.normsDir, warn, metric: o.metric });
  const preprocess = { ...preprocessFor(cfg, raw.name), ...o.preprocess };
  return { set: buildNormSet(raw, preprocess, warn), preprocess };
}

/** One ProbeRecord per (variant, norm set); compressed variants carry their comparison with fp32. */
export async function runPropertiesProbes(o: PropertiesProbeOptions): Promise<ProbeRecord[]> {
  const cfg = loadPropertiesConfig(o.configPath);
  if (o.folds !== undefined) cfg.folds = o.folds;
  if (o.seed !== undefined) cfg.seed = o.seed;
  const sets = o.norms.map((spec) => loadNormSet(spec, cfg, o));
  const variants = o.variantDirs ?? await variantModelDirs(o.md, o.variants, o.progress, o.userVariants);
  const records: ProbeRecord[] = [];
  const fp32 = new Map<string, PropertiesData>();
  for (const v of variants) {
    // numeric gate gate, once per variant: concept embeddings from broken numbers mean nothing
    const gate = await numericGate(v.md, v.name);
    if (!gate.ok) o.progress?.warn(`${v.name}: numeric gate gate failed (${gate.reasons[0]}); its property results are recorded as invalid`);
    for (const { set, preprocess } of sets) {
      const start = performance.now();
      const data = await runPropertiesProbe({
        md: v.md, variant: v.name, norms: set, preprocess, cfg, mapper: o.mapper ?? cfg.mapper,
        layers: parseLayers(o.layers, v.md.layers.layers), progress: o.progress, cache: o.noCache ? null : undefined,
      });
      if (v.name === 'fp32') fp32.set(set.name, data);
      else if (fp32.has(set.name)) data.comparedToFp32 = compareToFp32(fp32.get(set.name)!, data);
      records.push(toRecord(o.md, v.md, v.name, data, (performance.now() - start) / 1000, gate));
    }
  }
  return records;
}

function toRecord(source: ModelDir, md: ModelDir, variant: string, data: PropertiesData, durationS: number, gate: { ok: boolean; reasons: string[] }): ProbeRecord {
  const best = data.layers.find((l) => l.layer === data.bestLayer)!;
  const failing = data.layers.filter((l) => !l.passes).map((l) => l.layer).filter((l) => l.startsWith('L')).map((l) => Number(l.slice(1)));
  const change = data.comparedToFp32;
  const changeText = change
    ? ` Against fp32: ${change.verdictChangedLayers.length > 0 ? `verdict changes on ${change.verdictChangedLayers.join(', ')}` : 'no verdict changes'}; layer ranking ${change.rankingChanged ? `changes (rho ${change.rankCorrelation.toFixed(2)})` : 'unchanged'}${change.reference && !change.reference.passes ? `; the fp32 verdict it is compared against fails its controls (${change.reference.layer} explained by ${change.reference.explanation ?? 'a control'}), so keeping it keeps no explanation` : ''}.`
    : '';
  return {
    recordVersion: 2,
    probe: 'properties',
    model: { name: source.name, sha256: source.model.sha256 },
    variant: { name: variant, sha256: md.model.sha256 },
    verdict: {
      status: !gate.ok ? 'invalid' : best.passes ? 'passes-controls' : 'fails-controls',
      summary: `${gate.ok ? '' : `invalid: ${gate.reasons.slice(0, 3).join('; ')}. `}${data.normSet.name}, best layer ${best.summary}.${changeText}`.slice(0, 2000),
      layers: failing,
    },
    numericGate: gate,
    durationS,
    createdAt: new Date().toISOString(),
    data,
  };
}
