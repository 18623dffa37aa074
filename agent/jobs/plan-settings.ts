import type { JobPlan } from '../../core/protocol/plan.ts';

/**
 * A plan's probe blocks with every default filled in. Defaults match the CLI commands (`edgeprobe
 * bench`, `probe attention`, `compare`), so a fleet result and a local run of the same command agree.
 */
export interface FleetBenchmarkSettings {
  seqLen: number;
  warmup: number;
  minQueries: number;
  minDurationS: number;
  /** one record per entry: the throughput batch size */
  batchSizes: number[];
  cooldownMs: number;
  /** drift and fingerprint sentences; undefined = the benchmark's fixed DRIFT_SENTENCES */
  sentences?: string[];
}

export function benchmarkSettings(plan: JobPlan): FleetBenchmarkSettings {
  const b = plan.benchmark ?? {};
  const minQueries = b.minQueries ?? b.runs ?? 100;
  // a first-version plan said `runs: N` and meant exactly N timed runs, with no minimum duration
  const minDurationS = b.minDurationS ?? (b.runs !== undefined || b.minQueries !== undefined ? 0 : 5);
  return {
    seqLen: b.seqLen ?? 128, warmup: b.warmup ?? 5, minQueries, minDurationS,
    batchSizes: b.batchSizes ?? [8], cooldownMs: b.cooldownMs ?? 0, sentences: b.sentences,
  };
}

export interface FleetAttentionSettings { sentences: number; seed: number; sanityChecks: boolean }

export function attentionSettings(plan: JobPlan): FleetAttentionSettings {
  const a = plan.attention ?? {};
  return { sentences: a.sentences ?? 200, seed: a.seed ?? plan.seed ?? 1, sanityChecks: a.sanityChecks ?? true };
}

export interface FleetCompareSettings { sentences: number; seed: number; fillMaskItems: number }

export function compareSettings(plan: JobPlan): FleetCompareSettings {
  const c = plan.compare ?? {};
  return { sentences: c.sentences ?? 64, seed: c.seed ?? plan.seed ?? 1, fillMaskItems: c.fillMaskItems ?? 200 };
}
