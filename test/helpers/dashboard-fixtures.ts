import { mkdtempSync } from 'node:fs';
import { writeTestNorms } from './test-norms.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareVariants } from '../../probes/divergence/divergence.ts';
import { ensureVariants } from '../../agent/compress/ensure-variants.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { builtInCorpus } from '../../core/corpus/sentence-corpus.ts';
import { benchmarkRunner } from '../../probes/benchmark/runner.ts';
import { benchmarkContract } from '../../probes/benchmark/contract.ts';
import { probeSettings } from '../../core/probes/contract.ts';
import { runAttentionProbe } from '../../probes/attention/run-attention-probe.ts';
import { runPropertiesProbes } from '../../probes/properties/properties-probe.ts';
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
  const plan: JobPlan = { models: [{ name: md.name }], variants: [...FIXTURE_VARIANTS], probes: ['benchmark'], settings: { benchmark: { runs: 3, warmup: 1, batchSizes: [1], seqLen: 32 } } };
  const bench = async (vs: Variant[]): Promise<ProbeRecord[]> => {
    const out: ProbeRecord[] = [];
    for (const variant of vs) {
      const model = variant.onnxPath === md.onnxPath ? md : loadModelDir(md.dir, { onnxPath: variant.onnxPath });
      const ctx = { settings: probeSettings(benchmarkContract, plan), reference: md, model, variant, fp32: variants[0], modelName: md.name, plan, signal: new AbortController().signal, note: () => {} };
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

/** A real run of the properties probe (fp32, two representations, 4 folds) on the test norms. */
export async function runRealProperties(md: ModelDir, dir: string): Promise<ProbeRecord[]> {
  const { sparse, dense } = writeTestNorms(dir);
  return runPropertiesProbes({ md, norms: [sparse, dense], variants: ['fp32'], layers: 'static,2', folds: 4, noCache: true });
}
