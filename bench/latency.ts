/**
 * Latency, size and drift of edgeprobe's compressed variants at sequence length 128:
 * the largest model in ../shared/models (all variants, with the instrumented-graph overhead) and the
 * generated MiniLM (6x384) and BERT-base (12x768) shapes (fp32 vs int8-dynamic).
 * Writes bench/results/latency.json. Run once: `npx tsx bench/latency.ts` (about 5-8 minutes on 2 cores).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark, speedPhrase } from '../probes/benchmark/run-benchmark.ts';
import { deviceProfile } from '../agent/device-profile.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { SHARED_DIR } from '../harness/shared-data.ts';
import { writeBenchResult } from './bench-result.ts';

interface Row { metric: string; value: number; unit: string; target?: string; pass?: boolean }
interface Target { text: string; ok: (v: number) => boolean }

const progress = createProgress(process.stderr.isTTY ? 'tty' : 'lines');
const rows: Row[] = [];
const notes: string[] = [];
const row = (metric: string, value: number, unit: string, target?: Target): void => {
  rows.push({ metric, value: Number(value.toFixed(4)), unit, ...(target ? { target: target.text, pass: target.ok(value) } : {}) });
};

function largestSharedModel(): string {
  const modelsDir = join(SHARED_DIR, 'models');
  const dirs = readdirSync(modelsDir).map((d) => join(modelsDir, d)).filter((d) => { try { return statSync(join(d, 'model.onnx')).isFile(); } catch { return false; } });
  if (dirs.length === 0) throw new Error(`no model in ${modelsDir}`);
  return dirs.sort((a, b) => statSync(join(b, 'model.onnx')).size - statSync(join(a, 'model.onnx')).size)[0];
}

const settings = { seqLen: 128, batch: 8, warmup: 5 };
const shared = loadModelDir(largestSharedModel());
progress.info(`shared model: ${shared.name}`);
const recs = await runBenchmark(shared, ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'], { ...settings, minQueries: 60, minDurationS: 4, progress });
const byName = new Map(recs.map((r) => [r.variant.name, r.data as BenchmarkData]));
const fp32 = byName.get('fp32')!;
const m = shared.name;
row(`${m} fp32 p50 (plain)`, fp32.latencyMs.p50, 'ms');
row(`${m} fp32 p50 (plain, queried alternately with instrumented)`, fp32.instrumented!.plainP50Ms, 'ms');
row(`${m} fp32 p50 (instrumented: all hidden states + attention exposed)`, fp32.instrumented!.p50Ms, 'ms');
row(`${m} instrumented / plain fp32 p50`, fp32.instrumented!.ratioToPlain, 'x', { text: '<= 1.15x', ok: (v) => v <= 1.15 });
const sizeTargets: Record<string, Target | undefined> = { 'int8-dynamic': { text: '<= 0.30x', ok: (v) => v <= 0.3 } };
const speedTargets: Record<string, Target | undefined> = { 'int8-dynamic': { text: '>= 1.5x', ok: (v) => v >= 1.5 } };
const cosTargets: Record<string, Target | undefined> = {
  'int8-dynamic': { text: '>= 0.99', ok: (v) => v >= 0.99 }, fp16: { text: '>= 0.999', ok: (v) => v >= 0.999 },
};
for (const name of ['fp16', 'int8-dynamic', 'int8-weight']) {
  const d = byName.get(name)!;
  row(`${m} ${name} size / fp32`, d.sizeRatio, 'x', sizeTargets[name]);
  row(`${m} ${name} p50`, d.latencyMs.p50, 'ms');
  row(`${m} ${name} p50 when queried alternately with fp32`, d.pairedWithFp32!.p50Ms, 'ms');
  row(`${m} fp32 p50 queried alternately with ${name}`, d.pairedWithFp32!.fp32P50Ms, 'ms');
  row(`${m} ${name} p50 speed-up vs fp32 (fp32 p50 / variant p50, queried alternately)`, d.speedupVsFp32, 'x', speedTargets[name]);
  row(`${m} ${name} pooled-embedding cosine to fp32 (min over 8 sentences)`, d.drift!.pooledCosineMin, 'cosine', cosTargets[name]);
  row(`${m} ${name} max abs diff of last hidden state vs fp32`, d.drift!.maxAbsDiffLastHidden, 'abs');
  row(`${m} ${name} throughput at batch ${settings.batch}`, d.throughput.sequencesPerS, 'seq/s');
  row(`${m} ${name} peak RSS (own process)`, d.peakRssMB, 'MB');
  notes.push(`${m} ${name}: ${speedPhrase(d.speedupVsFp32)}; compute: ${d.compute}`);
}
row(`${m} fp32 throughput at batch ${settings.batch}`, fp32.throughput.sequencesPerS, 'seq/s');
row(`${m} fp32 peak RSS (own process)`, fp32.peakRssMB, 'MB');

for (const shape of ['minilm', 'bert-base'] as const) {
  progress.info(`generating ${shape} (random weights, latency only)`);
  const md = loadModelDir(ensureGeneratedModel(shape));
  const r = await runBenchmark(md, ['fp32', 'int8-dynamic'], { ...settings, minQueries: shape === 'bert-base' ? 20 : 40, minDurationS: 3, progress });
  const [a, b] = r.map((x) => x.data as BenchmarkData);
  row(`generated ${shape} fp32 p50`, a.latencyMs.p50, 'ms');
  row(`generated ${shape} int8-dynamic p50`, b.latencyMs.p50, 'ms');
  row(`generated ${shape} int8-dynamic speed-up vs fp32 (queried alternately)`, b.speedupVsFp32, 'x', { text: '>= 1.5x', ok: (v) => v >= 1.5 });
  row(`generated ${shape} int8-dynamic size / fp32`, b.sizeRatio, 'x');
}

const dev = await deviceProfile();
notes.push(
  `sequence length ${settings.seqLen}, batch ${settings.batch}; single-stream latency runs until both a minimum query count and a minimum duration are met; each variant measured in its own child process, one at a time`,
  `onnxruntime ${dev.onnxruntime.version}, CPU execution provider, default threads (${dev.cpu.cores} cores); int8 dot-product instructions on this CPU: ${dev.dotProduct.join(', ') || 'none'}`,
  'the machine is shared with other jobs while this ran, so absolute ms are noisy; speed-ups and the instrumented ratio come from queries alternating between the two graphs in one process, which background load hits alike',
  'generated minilm / bert-base have random weights: their latency is meaningful, their drift is not reported',
);
writeBenchResult({
  topic: 'latency',
  title: 'Compressed variants: size, latency, drift at sequence length 128',
  machine: { cpu: `${dev.cpu.manufacturer} ${dev.cpu.brand}`, cores: dev.cpu.cores, node: process.version },
  rows,
  notes,
});
progress.done();
for (const r of rows) process.stdout.write(`${r.metric}: ${r.value} ${r.unit}${r.target ? ` (target ${r.target}: ${r.pass ? 'pass' : 'MISS'})` : ''}\n`);
