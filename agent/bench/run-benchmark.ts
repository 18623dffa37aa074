import type { ModelDir } from '../../core/model/model-dir.ts';
import { cosine, maxAbsDiff, meanRows } from '../../core/numeric/vectors.ts';
import { mean } from '../../core/numeric/stats.ts';
import type { Progress } from '../../core/progress.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { ensureVariants } from '../compress/ensure-variants.ts';
import type { Variant, VariantName } from '../compress/variant-types.ts';
import type { BenchmarkData, BenchmarkSettings } from './benchmark-data.ts';
import { DRIFT_SENTENCES } from './bench-inputs.ts';
import { measureInChild } from './measure-in-child.ts';
import type { WorkerResult } from './measure-worker.ts';

export interface BenchmarkOptions extends Partial<BenchmarkSettings> {
  outDir?: string;
  progress?: Progress;
}

export const DEFAULT_SETTINGS: BenchmarkSettings = { seqLen: 128, batch: 8, warmup: 5, minQueries: 100, minDurationS: 5, executionProvider: 'cpu' };

/**
 * Benchmarks the named variants of a model (fp32 is always measured first: it is the reference for
 * speed-up and drift) and returns one 'benchmark' ProbeRecord per variant, fp32 included.
 * Each variant is measured in its own child process, one after another, so peak RSS is per variant
 * and variants never compete for the cores.
 */
export async function runBenchmark(md: ModelDir, names: VariantName[], opts: BenchmarkOptions = {}): Promise<ProbeRecord[]> {
  const { outDir, progress, ...given } = opts;
  const settings: BenchmarkSettings = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  if (settings.seqLen > md.tokenizer.maxLength) {
    progress?.warn(`--seq-len ${settings.seqLen} is longer than ${md.name}'s ${md.tokenizer.maxLength} positions; benchmarking at ${md.tokenizer.maxLength}`);
    settings.seqLen = md.tokenizer.maxLength;
  }
  const ordered: VariantName[] = ['fp32', ...names.filter((n) => n !== 'fp32')];
  const variants = await ensureVariants(md, ordered, { outDir, progress, executionProvider: settings.executionProvider });
  const records: ProbeRecord[] = [];
  let reference: { variant: Variant; result: WorkerResult } | undefined;
  for (const [i, variant] of variants.entries()) {
    progress?.step('benchmark', i, variants.length, variant.name);
    const started = performance.now();
    const result = await measureInChild({
      modelDir: md.dir, onnxPath: variant.onnxPath, settings, timeInstrumented: variant.name === 'fp32', driftSentences: DRIFT_SENTENCES,
      referenceOnnxPath: variant.name === 'fp32' ? undefined : variants[0].onnxPath,
    });
    reference ??= { variant, result };
    const data = benchmarkData(variant, result, reference, settings);
    records.push({
      recordVersion: 1,
      probe: 'benchmark',
      model: { name: md.name, sha256: md.model.sha256 },
      variant: { name: variant.name, sha256: variant.manifest.sha256 },
      verdict: { status: 'measured', summary: summarize(data) },
      durationS: (performance.now() - started) / 1000,
      createdAt: new Date().toISOString(),
      data,
    });
  }
  progress?.step('benchmark', variants.length, variants.length);
  return records;
}

function benchmarkData(variant: Variant, r: WorkerResult, ref: { variant: Variant; result: WorkerResult }, settings: BenchmarkSettings): BenchmarkData {
  const isRef = ref.variant === variant;
  return {
    settings,
    variant: variant.name,
    compute: variant.manifest.compute,
    loadMs: r.loadMs,
    latencyMs: r.latencyMs,
    throughput: r.throughput,
    peakRssMB: r.peakRssMB,
    baselineRssMB: r.baselineRssMB,
    sizeBytes: variant.manifest.bytes,
    sizeRatio: variant.manifest.bytes / ref.variant.manifest.bytes,
    // paired (alternating) p50s when measured; the sequential runs' ratio otherwise
    speedupVsFp32: r.paired ? r.paired.referenceP50Ms / r.paired.p50Ms : ref.result.latencyMs.p50 / r.latencyMs.p50,
    ...(r.paired ? { pairedWithFp32: { fp32P50Ms: r.paired.referenceP50Ms, p50Ms: r.paired.p50Ms } } : {}),
    drift: isRef ? null : drift(ref.result, r),
    ...(r.instrumented ? { instrumented: { p50Ms: r.instrumented.p50Ms, plainP50Ms: r.instrumented.plainP50Ms, ratioToPlain: r.instrumented.p50Ms / r.instrumented.plainP50Ms } } : {}),
  };
}

/** Cosine of mean-pooled last hidden states and max abs difference, sentence by sentence, against fp32. */
export function drift(ref: WorkerResult, r: WorkerResult): NonNullable<BenchmarkData['drift']> {
  const H = ref.hidden;
  const cosines = ref.driftHidden.map((a, i) => {
    const b = r.driftHidden[i];
    const rows = a.length / H;
    return cosine(meanRows(a, H, 0, rows), meanRows(b, H, 0, rows));
  });
  const maxDiff = Math.max(...ref.driftHidden.map((a, i) => maxAbsDiff(a, r.driftHidden[i])));
  return { sentences: cosines.length, pooledCosineMean: mean(cosines), pooledCosineMin: Math.min(...cosines), maxAbsDiffLastHidden: maxDiff };
}

/** "1.8x faster than fp32" / "1.3x slower than fp32" from a speed-up ratio. */
export function speedPhrase(speedup: number): string {
  if (Math.abs(speedup - 1) < 0.05) return 'about as fast as fp32';
  return speedup > 1 ? `${speedup.toFixed(2)}x faster than fp32` : `${(1 / speedup).toFixed(2)}x slower than fp32`;
}

function summarize(d: BenchmarkData): string {
  const parts = [`${d.variant}: p50 ${d.latencyMs.p50.toFixed(2)} ms at seq ${d.settings.seqLen}`];
  if (d.drift) parts.push(speedPhrase(d.speedupVsFp32), `size ${d.sizeRatio.toFixed(2)}x fp32`, `pooled cosine to fp32 ${d.drift.pooledCosineMin.toFixed(4)} (min)`);
  if (d.instrumented) parts.push(`instrumented p50 ${d.instrumented.ratioToPlain.toFixed(2)}x plain`);
  parts.push(`${d.throughput.sequencesPerS.toFixed(1)} seq/s at batch ${d.throughput.batch}`, `peak RSS ${d.peakRssMB.toFixed(0)} MB`);
  return parts.join('; ');
}
