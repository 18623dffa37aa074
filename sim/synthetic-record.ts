import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { FINGERPRINT_DIMS, FINGERPRINT_SENTENCES } from '../core/results/fingerprint.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';

const SHA_MODEL = '5'.repeat(64);
const SHA_FP32 = '5'.repeat(64);
const SHA_INT8 = '8'.repeat(64);
const FP32_BYTES = 17_000_000;

/**
 * A benchmark ProbeRecord with the shape and size of what a real agent sends (probes/benchmark/run-benchmark.ts:
 * BenchmarkData with a 16 x 32 fingerprint), filled with seeded synthetic numbers. It is load, not a
 * measurement: the verdict says so, and the results message carries `simulated: true`, which the
 * coordinator stores in its own column.
 */
export function syntheticBenchmarkRecord(rng: SeededRandom, model = 'sim-model', variant = 'fp32', batchSize = 1): ProbeRecord {
  const p50 = 5 + rng.next() * 20;
  const isRef = variant === 'fp32';
  const sizeBytes = isRef ? FP32_BYTES : 4_600_000;
  const speedup = isRef ? 1 : 1 + rng.next();
  const vectors = Array.from({ length: FINGERPRINT_SENTENCES }, () => Array.from({ length: FINGERPRINT_DIMS }, () => Number(rng.normal().toFixed(6))));
  const data: BenchmarkData = {
    settings: { seqLen: 32, batch: batchSize, warmup: 2, minQueries: 20, minDurationS: 0, executionProvider: 'cpu' },
    variant,
    compute: 'simulated',
    loadMs: 50 + rng.next() * 100,
    latencyMs: { p50, p90: p50 * 1.1, p99: p50 * 1.3, mean: p50 * 1.02, queries: 20, durationS: (20 * p50) / 1000 },
    throughput: { batch: batchSize, batches: 10, sequencesPerS: (1000 * batchSize) / p50 },
    peakRssMB: 120 + rng.next() * 40,
    baselineRssMB: 60,
    sizeBytes,
    sizeRatio: sizeBytes / FP32_BYTES,
    speedupVsFp32: speedup,
    ...(isRef ? {} : { pairedWithFp32: { fp32P50Ms: p50 * speedup, p50Ms: p50 } }),
    drift: isRef ? null : { sentences: FINGERPRINT_SENTENCES, pooledCosineMean: 0.999, pooledCosineMin: 0.998, maxAbsDiffLastHidden: 0.01 },
    fingerprint: { method: 'simulated', inputsSha256: 'e'.repeat(64), dims: FINGERPRINT_DIMS, vectors, exactSha256: 'f'.repeat(64) },
    demoModel: true,
  };
  return {
    recordVersion: 2,
    probe: 'benchmark',
    model: { name: model, sha256: SHA_MODEL },
    variant: { name: variant, sha256: isRef ? SHA_FP32 : SHA_INT8 },
    verdict: { status: 'measured', summary: `SIMULATED by edgeprobe simulate (load tool): batch ${batchSize}, p50 ${p50.toFixed(2)} ms` },
    numericGate: { ok: true, reasons: [] },
    durationS: 0.5,
    createdAt: new Date().toISOString(),
    data,
  };
}
