import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark } from '../probes/benchmark/run-benchmark.ts';
import { fillMaskAgreement, readFillMaskItems } from '../probes/divergence/task-eval.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import { SHARED_MLM_MODEL, SHARED_MODEL } from '../harness/shared-data.ts';
import { DEFAULT_PERCENTILE } from '../core/variants/recipe-settings.ts';
import { int8CpuFeatures, writeBenchResult, type BenchRow } from './bench-result.ts';

/**
 * The compressed forms people deploy (issue 16): int8-static (QDQ, min/max-calibrated activations) and int4-weight
 * (MatMulNBits, block 32) against fp32 on the shared encoder and its masked-LM form: size, p50 (queried
 * alternately with fp32 in one process), pooled cosine, and on the MLM form fill-mask top-1 agreement on
 * fill_mask_eval.jsonl; int8-static also with percentile calibration. Writes bench/results/compression-forms.json. `npm run bench -- compression-forms`
 * (about 3 minutes of CPU on 2 shared cores).
 */
const VARIANTS = ['int8-static', 'int4-weight'] as const;
const PERCENTILE = { method: 'percentile', percentile: DEFAULT_PERCENTILE } as const;
const progress = createProgress(process.stderr.isTTY ? 'tty' : 'lines');
const settings = { seqLen: 32, batch: 8, warmup: 5, minQueries: 60, minDurationS: 3 };
const rows: BenchRow[] = [];
const notes: string[] = [];
const cpuStart = process.cpuUsage();
const loadStart = loadavg()[0];
const cosines: string[] = [];
const t0 = performance.now();

for (const [label, dir] of [['encoder', SHARED_MODEL], ['mlm', SHARED_MLM_MODEL]] as const) {
  const md = loadModelDir(dir);
  progress.info(`${label}: ${md.dir}`);
  const recs = await runBenchmark(md, ['fp32', ...VARIANTS], { ...settings, progress });
  const data = new Map(recs.map((r) => [r.variant.name, r.data as BenchmarkData]));
  rows.push({ metric: `${label} fp32 p50 (seq ${settings.seqLen})`, value: data.get('fp32')!.latencyMs.p50, unit: 'ms' });
  const agreement = label === 'mlm'
    ? await fillMaskAgreement(md, await ensureVariants(md, ['fp32', ...VARIANTS]), readFillMaskItems(join(md.dir, 'fill_mask_eval.jsonl'), md), progress)
    : [];
  const fp32Accuracy = agreement.find((x) => x.variant === 'fp32')?.top1Accuracy;
  if (fp32Accuracy != null) rows.push({ metric: `${label} fp32 fill-mask top-1 accuracy`, value: fp32Accuracy, unit: 'fraction' });
  for (const v of VARIANTS) {
    const d = data.get(v)!;
    rows.push(
      { metric: `${label} ${v} size / fp32`, value: d.sizeRatio, unit: 'x' },
      { metric: `${label} ${v} p50 queried alternately with fp32 (fp32 p50 ${d.pairedWithFp32!.fp32P50Ms.toFixed(2)} ms)`, value: d.pairedWithFp32!.p50Ms, unit: 'ms' },
      { metric: `${label} ${v} p50 vs fp32 (variant p50 / fp32 p50, queried alternately)`, value: 1 / d.speedupVsFp32, unit: 'x' },
      { metric: `${label} ${v} pooled-embedding cosine to fp32 (min over ${d.drift!.sentences} sentences)`, value: d.drift!.pooledCosineMin, unit: 'cosine', target: '>= 0.99', pass: d.drift!.pooledCosineMin >= 0.99 },
    );
    cosines.push(`${label} ${v} ${d.drift!.pooledCosineMin.toFixed(4)}`);
    const a = agreement.find((x) => x.variant === v);
    if (a) {
      rows.push({ metric: `${label} ${v} fill-mask top-1 agreement with fp32 (${a.items} items)`, value: a.top1Agreement, unit: 'fraction', target: '>= 0.95', pass: a.top1Agreement >= 0.95 });
      if (a.top1Accuracy !== null) rows.push({ metric: `${label} ${v} fill-mask top-1 accuracy`, value: a.top1Accuracy, unit: 'fraction' });
    }
    notes.push(`${label} ${v}: ${d.compute}`);
  }
  // int8-static with percentile calibration, in its own directory (the variant's file name is the same)
  const pctDir = mkdtempSync(join(tmpdir(), 'ep-bench-pct-'));
  const pct = (await runBenchmark(md, ['int8-static'], { ...settings, progress, outDir: pctDir, variantSettings: { int8Calibration: PERCENTILE } })).find((r) => r.variant.name === 'int8-static')!.data as BenchmarkData;
  rows.push(
    { metric: `${label} int8-static (percentile ${PERCENTILE.percentile}) p50 vs fp32 (queried alternately)`, value: 1 / pct.speedupVsFp32, unit: 'x' },
    { metric: `${label} int8-static (percentile ${PERCENTILE.percentile}) pooled-embedding cosine to fp32 (min over ${pct.drift!.sentences} sentences)`, value: pct.drift!.pooledCosineMin, unit: 'cosine', target: '>= 0.99', pass: pct.drift!.pooledCosineMin >= 0.99 },
  );
  cosines.push(`${label} int8-static percentile ${pct.drift!.pooledCosineMin.toFixed(4)}`);
  if (label === 'mlm') {
    const [a] = await fillMaskAgreement(md, await ensureVariants(md, ['int8-static'], { outDir: pctDir, int8Calibration: PERCENTILE }), readFillMaskItems(join(md.dir, 'fill_mask_eval.jsonl'), md), progress);
    rows.push({ metric: `${label} int8-static (percentile ${PERCENTILE.percentile}) fill-mask top-1 agreement with fp32 (${a.items} items)`, value: a.top1Agreement, unit: 'fraction', target: '>= 0.95', pass: a.top1Agreement >= 0.95 });
  }
  rmSync(pctDir, { recursive: true, force: true });
}

const cpu = process.cpuUsage(cpuStart);
const features = int8CpuFeatures();
notes.push(
  `sequence length ${settings.seqLen}, batch ${settings.batch}; each variant timed in its own child process, alternately with fp32; the 2 cores are shared with other jobs (load average ${loadStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end), so absolute p50s are inflated and ratios noisy`,
  `pooled-embedding cosine to fp32 (min over the drift sentences), 4 digits: ${cosines.join('; ')}`,
  `CPU int8 features: ${features.join(' ') || 'none found'}. int8-static runs onnxruntime's QDQ -> integer MatMul kernels: fast with VNNI (avx512_vnni / avx_vnni) or Arm dot-product (asimddp), slower u8 x s8 paths on AVX2 alone. int4-weight (MatMulNBits, accuracy level 0) dequantizes 4-bit blocks to fp32 inside the kernel: it saves memory and bandwidth, and is faster than fp32 only on memory-bound (larger) models; int8 compute inside it (accuracy level 4) would again want VNNI / dot-product.`,
  `this process: ${((performance.now() - t0) / 1000).toFixed(0)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} s CPU (the timing children are not counted)`,
);
writeBenchResult({ topic: 'compression-forms', title: 'int8-static and int4-weight (shared encoder and its masked-LM form)', rows, notes });
console.log(rows.map((r) => `${r.metric}: ${r.value.toFixed(4)} ${r.unit}`).join('\n'));
