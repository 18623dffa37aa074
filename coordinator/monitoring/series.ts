import type { Fingerprint } from '../../core/results/fingerprint.ts';
import type { ProbeRecord, SoftwareFingerprint, VerdictStatus } from '../../core/results/probe-record.ts';
import { checkRecord, probeContract } from '../../probes/index.ts';
import type { BenchmarkData } from '../../probes/benchmark/schema.ts';
import type { DivergenceData } from '../../probes/divergence/schema.ts';

/** A stored result as monitoring reads it: which device and job (= run) sent which record. */
export interface RunRecord { deviceId: string; jobId: string; record: ProbeRecord }

/** Everything one run (one job) measured for one device x model x variant. */
export interface RunPoint {
  jobId: string;
  /** earliest createdAt among the run's records (the device's clock) */
  at: string;
  software: SoftwareFingerprint | null;
  modelSha256: string;
  variantSha256: string;
  /** per probe (and series key, e.g. `properties:mcrae`): the verdict; a benchmark's is 'measured' */
  verdicts: Record<string, VerdictStatus>;
  /** smallest-batch benchmark of the run */
  latency?: { p50: number; p90: number; p99: number; quantilesMs?: number[]; throttled: boolean; throttleReasons: string[] };
  /** lowest pooled cosine of this variant's outputs to fp32 on the device */
  driftCosineMin?: number;
  taskAgreement?: { top1Agreement: number; items: number };
  /** the benchmark's output fingerprint (for the fleet's consistency band) */
  fingerprint?: Fingerprint;
  /** the key figures, by name, for the timeline */
  figures: Record<string, number>;
}

export interface Series { deviceId: string; model: string; variant: string; runs: RunPoint[] }

export const seriesKey = (deviceId: string, model: string, variant: string): string => [deviceId, model, variant].join('\u0000');

/**
 * Groups records into one time series per device x model x variant, one point per run (job), ordered by
 * the run's time. Each record is checked against its probe's contract first; one that does not pass never
 * enters a series (the report counts it as unreadable).
 */
export function buildSeries(rows: Iterable<RunRecord>): Series[] {
  const b = new SeriesBuilder();
  for (const row of rows) b.add(row);
  return b.series();
}

/** What a benchmark record gives its run point (addBenchmark): the record's data without the rest. */
type BenchmarkFacts = Pick<BenchmarkData, 'throughput' | 'latencyMs' | 'latencyQuantilesMs' | 'conditions' | 'drift'> & { fingerprint?: BenchmarkData['fingerprint'] };

/** What one stored record adds to its series (SeriesBuilder): checked against its probe's contract, a few fields kept. */
export interface RecordFacts {
  deviceId: string;
  jobId: string;
  model: string;
  variant: string;
  createdAt: string;
  software: SoftwareFingerprint | null;
  modelSha256: string;
  variantSha256: string;
  /** the probe (and series key, e.g. `properties:mcrae`) whose verdict this is */
  verdictKey: string;
  status: VerdictStatus;
  benchmark?: BenchmarkFacts;
  task?: { top1Agreement: number; items: number };
}

/** The facts of one record, or undefined for one that does not pass its contract. */
export function recordFacts(row: RunRecord): RecordFacts | undefined {
  const checked = checkRecord(row.record);
  if (!checked.ok) return undefined;
  const r = checked.value;
  const contract = probeContract(r.probe);
  if (!contract) return undefined;
  const sub = contract.series ? contract.series(r.data as never) : '';
  const f: RecordFacts = {
    deviceId: row.deviceId, jobId: row.jobId, model: r.model.name, variant: r.variant.name, createdAt: r.createdAt, software: r.software ?? null,
    modelSha256: r.model.sha256, variantSha256: r.variant.sha256, verdictKey: contract.kind === 'benchmark' || !sub ? contract.kind : `${contract.kind}:${sub}`, status: r.verdict.status,
  };
  if (contract.kind === 'benchmark') {
    const d = r.data as BenchmarkData;
    f.benchmark = { throughput: d.throughput, latencyMs: d.latencyMs, latencyQuantilesMs: d.latencyQuantilesMs, conditions: d.conditions, drift: d.drift, fingerprint: d.fingerprint };
  }
  if (contract.kind === 'divergence') {
    const task = (r.data as DivergenceData).task;
    if (task && task.items > 0) f.task = { top1Agreement: task.top1Agreement, items: task.items };
  }
  return f;
}

/**
 * buildSeries one record at a time: records added later (in the same order) give the same series as one
 * call with all of them, so a caller can keep a builder and add only the records stored since (band-scan.ts).
 */
export class SeriesBuilder {
  private readonly byKey = new Map<string, { s: Series; runs: Map<string, RunPoint> }>();

  add(row: RunRecord): void {
    const f = recordFacts(row);
    if (f) this.addFacts(f);
  }

  addFacts(f: RecordFacts): void {
    const k = seriesKey(f.deviceId, f.model, f.variant);
    let entry = this.byKey.get(k);
    if (!entry) this.byKey.set(k, (entry = { s: { deviceId: f.deviceId, model: f.model, variant: f.variant, runs: [] }, runs: new Map() }));
    let run = entry.runs.get(f.jobId);
    if (!run) {
      run = { jobId: f.jobId, at: f.createdAt, software: f.software, modelSha256: f.modelSha256, variantSha256: f.variantSha256, verdicts: {}, figures: {} };
      entry.runs.set(f.jobId, run);
    }
    if (f.createdAt < run.at) run.at = f.createdAt;
    run.software ??= f.software;
    run.verdicts[f.verdictKey] = f.status;
    if (f.benchmark) addBenchmark(run, f.benchmark);
    if (f.task) {
      run.taskAgreement = f.task;
      run.figures.top1Agreement = f.task.top1Agreement;
    }
  }

  /** The series so far; their run points are the builder's own (later `add`s update them). */
  series(): Series[] {
    return [...this.byKey.values()].map(({ s, runs }) => ({ ...s, runs: [...runs.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)) }));
  }
}

/** The smallest throughput batch is the run's benchmark (latency is single-stream in every record). */
function addBenchmark(run: RunPoint, d: BenchmarkFacts): void {
  const shown = run.figures.batch;
  if (shown !== undefined && shown <= d.throughput.batch) return;
  run.figures.batch = d.throughput.batch;
  run.latency = {
    p50: d.latencyMs.p50, p90: d.latencyMs.p90, p99: d.latencyMs.p99,
    ...(d.latencyQuantilesMs ? { quantilesMs: d.latencyQuantilesMs } : {}),
    throttled: d.conditions?.throttled ?? false,
    throttleReasons: d.conditions?.reasons ?? [],
  };
  run.figures.p50Ms = d.latencyMs.p50;
  run.figures.p99Ms = d.latencyMs.p99;
  if (d.drift) { run.driftCosineMin = d.drift.pooledCosineMin; run.figures.pooledCosineMin = d.drift.pooledCosineMin; }
  if (d.conditions?.energyPerInferenceMJ != null) run.figures.energyMJ = d.conditions.energyPerInferenceMJ;
  if (d.conditions?.maxTempC != null) run.figures.maxTempC = d.conditions.maxTempC;
  if ('fingerprint' in d) run.fingerprint = d.fingerprint;
}

/** What differs between two runs' software and weights, e.g. "onnxruntime 1.19.2 -> 1.20.0". */
export function fingerprintChanges(before: RunPoint, after: RunPoint): string[] {
  const changes: string[] = [];
  const short = (h: string): string => h.slice(0, 12);
  if (before.modelSha256 !== after.modelSha256) changes.push(`model sha256 ${short(before.modelSha256)} -> ${short(after.modelSha256)}`);
  if (before.variantSha256 !== after.variantSha256) changes.push(`variant weights sha256 ${short(before.variantSha256)} -> ${short(after.variantSha256)}`);
  const a = before.software, b = after.software;
  if (a && b) {
    for (const f of ['edgeprobe', 'onnxruntime', 'node', 'os', 'kernel', 'arch'] as const) if (a[f] !== b[f]) changes.push(`${f} ${a[f]} -> ${b[f]}`);
  } else if (a || b) changes.push(`software fingerprint ${a ? 'missing after' : 'missing before'} (an agent without it)`);
  return changes;
}
