import type { BenchmarkData } from '../agent/jobs/benchmark-runner.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';

const SHA_MODEL = '5'.repeat(64);
const SHA_FP32 = '5'.repeat(64);
const SHA_INT8 = '8'.repeat(64);
// what the real benchmark runner sends: 16 fingerprint sentences x 32 projected dimensions
const FP_SENTENCES = 16;
const FP_DIMS = 32;

/**
 * A benchmark ProbeRecord with the shape and size of what a real agent sends (benchmark-runner.ts),
 * filled with seeded synthetic numbers. It is load, not a measurement: the verdict says so, and the
 * results message carries `simulated: true`, which the coordinator stores in its own column.
 */
export function syntheticBenchmarkRecord(rng: SeededRandom, model = 'sim-model', variant = 'fp32', batchSize = 1): ProbeRecord {
  const p50 = 5 + rng.next() * 20;
  const vectors = Array.from({ length: FP_SENTENCES }, () => Array.from({ length: FP_DIMS }, () => Number(rng.normal().toFixed(6))));
  const data: BenchmarkData = {
    batchSize, runs: 20, warmup: 2, sentences: 8,
    latencyMs: { p50, p90: p50 * 1.1, p99: p50 * 1.3, mean: p50 * 1.02, min: p50 * 0.9, max: p50 * 1.5 },
    sentencesPerS: (1000 * batchSize) / p50,
    sizeBytes: variant === 'fp32' ? 17_000_000 : 4_600_000,
    output: 'last_hidden_state',
    onnxruntime: 'simulated',
    demoModel: true,
    fingerprint: { method: 'simulated', inputsSha256: 'e'.repeat(64), dims: FP_DIMS, vectors, exactSha256: 'f'.repeat(64) },
  };
  return {
    recordVersion: 1,
    probe: 'benchmark',
    model: { name: model, sha256: SHA_MODEL },
    variant: { name: variant, sha256: variant === 'fp32' ? SHA_FP32 : SHA_INT8 },
    verdict: { status: 'measured', summary: `SIMULATED by edgeprobe simulate (load tool): batch ${batchSize}, p50 ${p50.toFixed(2)} ms` },
    health: { ok: true, reasons: [] },
    durationS: 0.5,
    createdAt: new Date().toISOString(),
    data,
  };
}
