import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Fingerprint } from '../../core/results/fingerprint.ts';

/** Options of one benchmark run; every field is recorded with the result so numbers can be compared. */
export const BenchmarkSettings = Type.Object({
  seqLen: Type.Integer({ minimum: 2 }),
  batch: Type.Integer({ minimum: 1 }),
  warmup: Type.Integer({ minimum: 0 }),
  /** MLPerf LoadGen style: single-stream runs until BOTH the query count and the duration are reached */
  minQueries: Type.Integer({ minimum: 1 }),
  minDurationS: Type.Number({ minimum: 0 }),
  threads: Type.Optional(Type.Integer({ minimum: 1 })),
  executionProvider: Type.String(),
});
export type BenchmarkSettings = Static<typeof BenchmarkSettings>;

const Latency = Type.Object({ p50: Type.Number(), p90: Type.Number(), p99: Type.Number(), mean: Type.Number(), queries: Type.Integer(), durationS: Type.Number() });

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** One reading of the board's sensors (agent/telemetry/board-sensors.ts); arrays aligned with the zones, cpus and rails. */
export const ConditionSample = Type.Object({
  phase: Type.Union([Type.Literal('before'), Type.Literal('latency'), Type.Literal('throughput'), Type.Literal('paired'), Type.Literal('after')]),
  /** ms since the before sample */
  tMs: Type.Number(),
  throttledBits: Nullable(Type.Integer({ minimum: 0 })),
  tempC: Type.Array(Nullable(Type.Number())),
  curMHz: Type.Array(Nullable(Type.Number())),
  maxMHz: Type.Array(Nullable(Type.Number())),
  powerMW: Type.Array(Nullable(Type.Number())),
});
export type ConditionSample = Static<typeof ConditionSample>;

/** Temperature, clocks, throttling and power before, during and after the measurement. */
export const RunConditions = Type.Object({
  /** per source: where it was read, or "unavailable: why" */
  sources: Type.Object({ throttled: Type.String(), thermal: Type.String(), cpufreq: Type.String(), power: Type.String() }),
  zones: Type.Array(Type.Object({ zone: Type.String(), type: Type.String(), passiveTripC: Nullable(Type.Number()) })),
  cpus: Type.Array(Type.Object({ cpu: Type.String(), hwMaxMHz: Nullable(Type.Number()) })),
  rails: Type.Array(Type.String()),
  samples: Type.Array(ConditionSample, { maxItems: 80 }),
  /** the board throttled (or capped its clocks) at some sample: the latency is not comparable with an unthrottled run */
  throttled: Type.Boolean(),
  reasons: Type.Array(Type.String()),
  maxTempC: Nullable(Type.Number()),
  /** mean board power during the single-stream phase x mean latency; null when the board reports no power */
  energyPerInferenceMJ: Nullable(Type.Number()),
  energyNote: Type.String(),
});
export type RunConditions = Static<typeof RunConditions>;

/** `data` of a ProbeRecord with probe 'benchmark': one variant of one model on one device. */
export const BenchmarkData = Type.Object({
  settings: BenchmarkSettings,
  variant: Type.String(),
  /** how the variant computed (from its manifest), e.g. "fp16 storage, cast to fp32 at load" */
  compute: Type.String(),
  loadMs: Type.Number(),
  latencyMs: Latency,
  throughput: Type.Object({ batch: Type.Integer(), batches: Type.Integer(), sequencesPerS: Type.Number() }),
  /** peak resident set of the child process that measured only this variant, and its RSS before loading */
  peakRssMB: Type.Number(),
  baselineRssMB: Type.Number(),
  sizeBytes: Type.Integer(),
  sizeRatio: Type.Number({ description: 'bytes / fp32 bytes' }),
  /** fp32 p50 / this p50 (> 1 is faster than fp32), from pairedWithFp32 when present */
  speedupVsFp32: Type.Number(),
  /** p50s of fp32 and this variant queried alternately in this variant's process (not for fp32 itself) */
  pairedWithFp32: Type.Optional(Type.Object({ fp32P50Ms: Type.Number(), p50Ms: Type.Number() })),
  /** against fp32 on a fixed sentence set; null for fp32 itself */
  drift: Type.Union([Type.Null(), Type.Object({
    sentences: Type.Integer(),
    pooledCosineMean: Type.Number(),
    pooledCosineMin: Type.Number(),
    maxAbsDiffLastHidden: Type.Number(),
  })]),
  /** fp32 only: p50 of the instrumented graph (all hidden states and attention exposed) and of the plain graph, queried alternately */
  instrumented: Type.Optional(Type.Object({ p50Ms: Type.Number(), plainP50Ms: Type.Number(), ratioToPlain: Type.Number() })),
  /** this variant's outputs on the drift sentences, compared across devices by the fleet report */
  fingerprint: Fingerprint,
  /** the model is a generated random-weight model (config.json edgeprobe_demo) */
  demoModel: Type.Boolean(),
  /** board conditions over the measurement (records of agents before 0.2 have none) */
  conditions: Type.Optional(RunConditions),
  /** 33 evenly spaced quantiles (0, 1/32, ..., 1) of the single-stream latencies (ms): the run's distribution, compactly */
  latencyQuantilesMs: Type.Optional(Type.Array(Type.Number(), { minItems: 2, maxItems: 65 })),
});
export type BenchmarkData = Static<typeof BenchmarkData>;

/** "1.8x faster than fp32" / "1.3x slower than fp32" from a speed-up ratio. */
export function speedPhrase(speedup: number): string {
  if (Math.abs(speedup - 1) < 0.05) return 'about as fast as fp32';
  return speedup > 1 ? `${speedup.toFixed(2)}x faster than fp32` : `${(1 / speedup).toFixed(2)}x slower than fp32`;
}

/**
 * The plan block of the 'benchmark' probe (the same benchmark `edgeprobe bench` runs); every field has a
 * default so a plan can omit the block. `runs`, `batchSizes`, `sentences` and `cooldownMs` are the first
 * plan version's fields and keep their meaning.
 */
export const BenchmarkPlanSettings = Type.Object({
  /** first-version name of `minQueries`; given without `minDurationS`, there is no minimum duration (exactly as before: N timed runs) */
  runs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** untimed queries first (session warm-up, allocator) */
  warmup: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** one record per batch size: the throughput batch (latency is always single-stream) */
  batchSizes: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 64 }), { minItems: 1, maxItems: 8 })),
  /** drift against fp32 and the cross-device fingerprint are computed on exactly these */
  sentences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { minItems: 1, maxItems: 256 })),
  /** pause between measurements, so a passively cooled device is not measured while throttling */
  cooldownMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  /** tokens per query (cut to the model's positions) */
  seqLen: Type.Optional(Type.Integer({ minimum: 2, maximum: 8192 })),
  /** LoadGen single-stream: at least this many timed queries AND at least minDurationS seconds */
  minQueries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  minDurationS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
  /** onnxruntime intra-op threads (default: onnxruntime's choice, every core); recorded with the result */
  threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })),
}, { additionalProperties: false });
export type BenchmarkPlanSettings = Static<typeof BenchmarkPlanSettings>;

/** The plan block with every default filled in; defaults match `edgeprobe bench`. */
export interface ResolvedBenchmarkSettings {
  seqLen: number;
  warmup: number;
  minQueries: number;
  minDurationS: number;
  /** one record per entry: the throughput batch size */
  batchSizes: number[];
  cooldownMs: number;
  threads?: number;
  /** drift and fingerprint sentences; undefined = the benchmark's fixed DRIFT_SENTENCES */
  sentences?: string[];
}

export function resolveBenchmarkSettings(b: BenchmarkPlanSettings = {}): ResolvedBenchmarkSettings {
  const minQueries = b.minQueries ?? b.runs ?? 100;
  // a first-version plan said `runs: N` and meant exactly N timed runs, with no minimum duration
  const minDurationS = b.minDurationS ?? (b.runs !== undefined || b.minQueries !== undefined ? 0 : 5);
  return {
    seqLen: b.seqLen ?? 128, warmup: b.warmup ?? 5, minQueries, minDurationS,
    batchSizes: b.batchSizes ?? [8], cooldownMs: b.cooldownMs ?? 0, sentences: b.sentences, ...(b.threads ? { threads: b.threads } : {}),
  };
}
