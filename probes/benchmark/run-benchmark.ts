import type { ResolvedVariantSettings } from '../../core/variants/recipe-settings.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { cosine, maxAbsDiff, meanRows } from '../../core/numeric/vectors.ts';
import { mean } from '../../core/numeric/stats.ts';
import type { Progress } from '../../core/progress.ts';
import { computeFingerprint } from '../../core/results/fingerprint.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { ensureVariants } from '../../agent/compress/ensure-variants.ts';
import { withQuantization } from '../../agent/compress/user-variants.ts';
import type { Variant, VariantName } from '../../core/variants/variant-types.ts';
import { speedPhrase, type BenchmarkData, type BenchmarkSettings } from './schema.ts';

export { speedPhrase };
import { DRIFT_SENTENCES } from './bench-inputs.ts';
import { measureInChild } from './measure-in-child.ts';
import type { WorkerResult } from './measure-worker.ts';

export interface BenchmarkOptions extends Partial<BenchmarkSettings> {
  outDir?: string;
  progress?: Progress;
  /** sentences for drift against fp32 and the cross-device fingerprint (default DRIFT_SENTENCES) */
  driftSentences?: string[];
  /** user-supplied files (already loaded and paired with the source), measured after the built-in variants */
  userVariants?: Variant[];
  /** recipe settings of the built-in variants (int4 block size, int8-static calibration) */
  variantSettings?: ResolvedVariantSettings;
}

export const DEFAULT_SETTINGS: BenchmarkSettings = { seqLen: 128, batch: 8, warmup: 5, minQueries: 100, minDurationS: 5, executionProvider: 'cpu' };

/** Defaults filled in; a sequence longer than the model's positions is cut to them (with a warning). */
export function resolveSettings(md: ModelDir, given: Partial<BenchmarkSettings>, progress?: Progress): BenchmarkSettings {
  const settings: BenchmarkSettings = { ...DEFAULT_SETTINGS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) };
  if (settings.seqLen > md.tokenizer.maxLength) {
    progress?.warn(`--seq-len ${settings.seqLen} is longer than ${md.name}'s ${md.tokenizer.maxLength} positions; benchmarking at ${md.tokenizer.maxLength}`);
    settings.seqLen = md.tokenizer.maxLength;
  }
  return settings;
}

/**
 * Benchmarks the named variants of a model (fp32 is always measured first: it is the reference for
 * speed-up and drift) and returns one 'benchmark' ProbeRecord per variant, fp32 included.
 * Each variant is measured in its own child process, one after another, so peak RSS is per variant
 * and variants never compete for the cores.
 */
export async function runBenchmark(md: ModelDir, names: VariantName[], opts: BenchmarkOptions = {}): Promise<ProbeRecord[]> {
  const { outDir, progress, driftSentences, userVariants, variantSettings, ...given } = opts;
  const settings = resolveSettings(md, given, progress);
  const ordered: VariantName[] = ['fp32', ...names.filter((n) => n !== 'fp32')];
  const variants = [...await ensureVariants(md, ordered, { outDir, progress, executionProvider: settings.executionProvider, ...variantSettings }), ...userVariants ?? []];
  const records: ProbeRecord[] = [];
  for (const [i, variant] of variants.entries()) {
    progress?.step('benchmark', i, variants.length, variant.name);
    records.push(await benchmarkVariant(md, variant, variants[0], settings, driftSentences));
  }
  withQuantization(records, variants);
  progress?.step('benchmark', variants.length, variants.length);
  return records;
}

/**
 * Measures ONE variant in a child process and returns its record. A compressed variant is timed
 * alternately with `fp32` and its drift is computed against fp32 in the same process, so each record
 * stands alone: the fleet runs one (model, variant) item at a time and may resume in the middle.
 */
export async function benchmarkVariant(md: ModelDir, variant: Variant, fp32: Variant, settings: BenchmarkSettings, driftSentences: string[] = DRIFT_SENTENCES): Promise<ProbeRecord> {
  const started = performance.now();
  const isRef = variant.onnxPath === fp32.onnxPath;
  const result = await measureInChild({
    modelDir: md.dir, onnxPath: variant.onnxPath, settings, timeInstrumented: isRef, driftSentences,
    referenceOnnxPath: isRef ? undefined : fp32.onnxPath,
    // tests point the sensor reader at a fixture sysfs tree
    sensorRoot: process.env.EDGEPROBE_SENSOR_ROOT || '/',
  });
  const data = benchmarkData(md, variant, result, fp32, settings, driftSentences);
  const finite = result.nonFinite === 0;
  return {
    recordVersion: 2,
    probe: 'benchmark',
    model: { name: md.name, sha256: md.model.sha256 },
    variant: { name: variant.name, sha256: variant.manifest.sha256 },
    verdict: { status: finite ? 'measured' : 'invalid', summary: finite ? summarize(data) : `invalid: ${result.nonFinite} non-finite output values on the drift sentences` },
    numericGate: { ok: finite, reasons: finite ? [] : [`${result.nonFinite} non-finite values in the last hidden state on the drift sentences`] },
    durationS: (performance.now() - started) / 1000,
    createdAt: new Date().toISOString(),
    data,
  };
}

function benchmarkData(md: ModelDir, variant: Variant, r: WorkerResult, fp32: Variant, settings: BenchmarkSettings, driftSentences: string[]): BenchmarkData {
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
    sizeRatio: variant.manifest.bytes / fp32.manifest.bytes,
    // paired (alternating) p50s; fp32 against itself is 1 by definition
    speedupVsFp32: r.paired ? r.paired.referenceP50Ms / r.paired.p50Ms : 1,
    ...(r.paired ? { pairedWithFp32: { fp32P50Ms: r.paired.referenceP50Ms, p50Ms: r.paired.p50Ms } } : {}),
    drift: r.referenceDriftHidden ? drift(r.referenceDriftHidden, r.driftHidden, r.hidden) : null,
    ...(r.instrumented ? { instrumented: { p50Ms: r.instrumented.p50Ms, plainP50Ms: r.instrumented.plainP50Ms, ratioToPlain: r.instrumented.p50Ms / r.instrumented.plainP50Ms } } : {}),
    fingerprint: computeFingerprint(driftSentences, r.driftHidden, r.hidden, r.driftOutput),
    demoModel: md.config.demo,
    conditions: r.conditions,
    latencyQuantilesMs: r.latencyQuantilesMs,
  };
}

/** Cosine of mean-pooled last hidden states and max abs difference, sentence by sentence, against fp32. */
export function drift(ref: readonly number[][], rows: readonly number[][], H: number): NonNullable<BenchmarkData['drift']> {
  const cosines = ref.map((a, i) => {
    const n = a.length / H;
    return cosine(meanRows(a, H, 0, n), meanRows(rows[i], H, 0, n));
  });
  const maxDiff = Math.max(...ref.map((a, i) => maxAbsDiff(a, rows[i])));
  return { sentences: cosines.length, pooledCosineMean: mean(cosines), pooledCosineMin: Math.min(...cosines), maxAbsDiffLastHidden: maxDiff };
}

function summarize(d: BenchmarkData): string {
  const parts: string[] = [];
  // first, so a cut summary still says it: a throttled latency is not comparable with an unthrottled one
  if (d.conditions?.throttled) parts.push(`THROTTLED during the measurement (${d.conditions.reasons.join('; ')}): not comparable with unthrottled runs`);
  parts.push(`${d.variant}: p50 ${d.latencyMs.p50.toFixed(2)} ms at seq ${d.settings.seqLen}`);
  if (d.drift) parts.push(speedPhrase(d.speedupVsFp32), `size ${d.sizeRatio.toFixed(2)}x fp32`, `pooled cosine to fp32 ${d.drift.pooledCosineMin.toFixed(4)} (min)`);
  if (d.instrumented) parts.push(`instrumented p50 ${d.instrumented.ratioToPlain.toFixed(2)}x plain`);
  parts.push(`${d.throughput.sequencesPerS.toFixed(1)} seq/s at batch ${d.throughput.batch}`, `peak RSS ${d.peakRssMB.toFixed(0)} MB`);
  if (d.conditions?.energyPerInferenceMJ != null) parts.push(`${d.conditions.energyPerInferenceMJ.toFixed(1)} mJ per inference`);
  if (d.conditions?.maxTempC != null) parts.push(`max ${d.conditions.maxTempC.toFixed(1)} °C`);
  return parts.join('; ').slice(0, 2000);
}
