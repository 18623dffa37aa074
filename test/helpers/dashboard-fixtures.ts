import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVariants } from '../../agent/compare/compare-variants.ts';
import { ensureVariants } from '../../agent/compress/ensure-variants.ts';
import type { Variant } from '../../agent/compress/variant-types.ts';
import { builtInCorpus } from '../../agent/corpus/sentence-corpus.ts';
import { benchmarkRunner } from '../../agent/jobs/runners/benchmark-runner.ts';
import { runAttentionProbe } from '../../agent/probes/attention/run-attention-probe.ts';
import { runPropertiesProbes } from '../../agent/probes/properties/properties-probe.ts';
import { loadModelDir, type ModelDir } from '../../core/model/model-dir.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { ensureGeneratedModel, GENERATED_DIR } from '../../models/generated-models.ts';

export const FIXTURE_VARIANTS = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'] as const;

export interface RealRecords {
  md: ModelDir;
  variants: Variant[];
  variantsDir: string;
  benchmark: ProbeRecord[];
  /** a second real benchmark run (fp32 and int8-dynamic), as another device would send */
  benchmarkSecondDevice: ProbeRecord[];
  attention: ProbeRecord[];
  compare: ProbeRecord[];
}

/**
 * Records from REAL runs of the benchmark, attention and compare probes on the generated demo model and
 * its real compressed variants (small settings so the browser tests stay fast).
 */
export async function runRealProbes(): Promise<RealRecords> {
  // larger initial weights give peaked, input-dependent attention, as in the attention probe's tests
  const md = loadModelDir(ensureGeneratedModel('demo', { dir: join(GENERATED_DIR, 'demo-peaked'), overrides: { initStd: 0.4 } }));
  const variantsDir = mkdtempSync(join(tmpdir(), 'ep-dash-variants-'));
  const variants = await ensureVariants(md, [...FIXTURE_VARIANTS], { outDir: variantsDir });
  const plan: JobPlan = { models: [{ name: md.name }], variants: [...FIXTURE_VARIANTS], probes: ['benchmark'], benchmark: { runs: 3, warmup: 1, batchSizes: [1], seqLen: 32 } };
  const bench = async (vs: Variant[]): Promise<ProbeRecord[]> => {
    const out: ProbeRecord[] = [];
    for (const variant of vs) {
      const model = variant.onnxPath === md.onnxPath ? md : loadModelDir(md.dir, { onnxPath: variant.onnxPath });
      const ctx = { reference: md, model, variant, fp32: variants[0], modelName: md.name, plan, signal: new AbortController().signal, note: () => {} };
      for await (const r of benchmarkRunner(ctx)) out.push(r);
    }
    return out;
  };
  const benchmark = await bench(variants);
  const benchmarkSecondDevice = await bench(variants.filter((v) => v.name === 'fp32' || v.name === 'int8-dynamic'));
  const attention = await runAttentionProbe(md, { corpus: builtInCorpus(1, 24), variants, seed: 1, sanityChecks: false });
  const compare = await compareVariants(md, variants.filter((v) => v.name !== 'fp32'), builtInCorpus(1, 16).sentences, { sweepLengths: [8] });
  return { md, variants, variantsDir, benchmark, benchmarkSecondDevice, attention, compare };
}

/**
 * Two small feature-norm sets in the generic CSV format (concept, feature, value, category), written for the
 * test from the demo vocabulary: one sparse (features listed per concept, scored with F1@10) and one dense
 * (ratings on every attribute, scored with Spearman), so the properties view gets both kinds of table row.
 */
export function writeTestNorms(dir: string): { sparse: string; dense: string } {
  const groups: Record<string, string[]> = {
    animal: ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep', 'pig', 'mouse', 'lion', 'tiger', 'bear', 'wolf', 'fox', 'rabbit', 'duck'],
    food: ['apple', 'banana', 'orange', 'grape', 'lemon', 'cherry', 'peach', 'pear', 'carrot', 'potato', 'onion', 'tomato', 'bread', 'cheese', 'milk', 'egg'],
    object: ['chair', 'table', 'desk', 'lamp', 'clock', 'mirror', 'cup', 'plate', 'bowl', 'knife', 'fork', 'spoon', 'door', 'window', 'bed', 'box'],
  };
  const feats: Record<string, string[]> = { animal: ['is_alive', 'has_legs', 'eats', 'makes_sounds'], food: ['is_edible', 'tastes', 'grows', 'is_sweet'], object: ['is_made', 'has_parts', 'is_used', 'is_hard'] };
  const sparse = ['concept,feature,value,category'];
  const dense = ['concept,feature,value,category'];
  const all = Object.values(feats).flat();
  for (const [cat, words] of Object.entries(groups)) {
    words.forEach((w, i) => {
      feats[cat].forEach((f, j) => { if ((i + j) % 4 !== 3) sparse.push(`${w},${f},${10 + ((i * 7 + j * 3) % 20)},${cat}`); });
      all.forEach((f, j) => dense.push(`${w},${f},${(feats[cat].includes(f) ? 4 : 1) + ((i + j) % 3) * 0.5},${cat}`));
    });
  }
  const paths = { sparse: join(dir, 'test-features.csv'), dense: join(dir, 'test-ratings.csv') };
  writeFileSync(paths.sparse, `${sparse.join('\n')}\n`);
  writeFileSync(paths.dense, `${dense.join('\n')}\n`);
  return paths;
}

/** A real run of the properties probe (fp32, two representations, 4 folds) on the test norms. */
export async function runRealProperties(md: ModelDir, dir: string): Promise<ProbeRecord[]> {
  const { sparse, dense } = writeTestNorms(dir);
  return runPropertiesProbes({ md, norms: [sparse, dense], variants: ['fp32'], layers: 'static,2', folds: 4, noCache: true });
}
