import { relativeL2 } from '../../core/numeric/vectors.ts';
import type { ProbeKind, ProbeRecord, VerdictStatus } from '../../core/results/probe-record.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BenchmarkData } from '../../probes/benchmark/benchmark-data.ts';
import type { FleetCompareData } from '../../probes/divergence/runner.ts';
import type { DeviceRow, StoredResult } from '../store/store.ts';
import { crossDeviceConsistency, DEFAULT_TOLERANCE, type ConsistencyResult } from './consistency.ts';

/** A probe's verdict on one row, with the layers it locates a break in. */
export interface RowVerdict { status: VerdictStatus; layers: number[] }

export interface ComparisonRow {
  deviceId: string;
  online: boolean;
  model: string;
  variant: string;
  /** throughput batch of the benchmark record shown (the smallest benchmarked); latency is single-stream */
  batchSize: number | null;
  seqLen: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  sizeBytes: number | null;
  /** fp32 p50 / this p50, from fp32 and this variant timed alternately on the device */
  speedupVsFp32: number | null;
  /** lowest cosine of mean-pooled last hidden states to fp32 on the drift sentences (1 = no drift) */
  pooledCosineVsFp32: number | null;
  /** relative L2 of this variant's fingerprint to the fp32 fingerprint on the same device (compression drift) */
  driftVsFp32: number | null;
  /** relative L2 of this device's fingerprint to the median of all devices (cross-device drift) */
  driftVsFleet: number | null;
  crossDeviceOutlier: boolean;
  /** task-output agreement with fp32 (from the compare probe, when the model has a task head) */
  task: { task: string; items: number; top1Accuracy: number | null; top1Agreement: number; top5Agreement: number } | null;
  attention: RowVerdict | null;
  /** passes-controls / fails-controls from the property-inference probe; null until it ran */
  properties: RowVerdict | null;
  /** where error jumps when compressed (null jump: grows evenly; worst = largest increase) */
  compare: { status: VerdictStatus; jumpLayer: number | null; worstLayer: number } | null;
  /** every probe's latest status */
  verdicts: Partial<Record<ProbeKind, VerdictStatus>>;
  /** stored records of this device x model x variant whose numeric health gate failed (kept, counted, never hidden) */
  invalid: number;
  records: number;
}

export interface ConsistencyRow extends ConsistencyResult { model: string; variant: string; inputsSha256: string }

export interface ComparisonReport {
  demo: boolean;
  devices: number;
  results: number;
  /** records whose health gate failed, over all rows */
  invalid: number;
  tolerance: number;
  rows: ComparisonRow[];
  consistency: ConsistencyRow[];
}

const key = (...p: string[]): string => p.join('\u0000');
// records from agents of an older version (or a foreign probe) may carry another benchmark shape: they
// count as records but never enter the latency and drift columns
const benchmarkShape = TypeCompiler.Compile(BenchmarkData);
const isInvalid = (r: ProbeRecord): boolean => r.verdict.status === 'invalid' || r.health?.ok === false;

/** fp32 first, then the variants in their usual order (unknown names last, alphabetically). */
const VARIANT_ORDER = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'];
function byDeviceModelVariant(a: string, b: string): number {
  const [da, ma, va] = a.split('\u0000');
  const [db, mb, vb] = b.split('\u0000');
  const rank = (v: string): number => (VARIANT_ORDER.includes(v) ? VARIANT_ORDER.indexOf(v) : VARIANT_ORDER.length);
  return da.localeCompare(db) || ma.localeCompare(mb) || rank(va) - rank(vb) || va.localeCompare(vb);
}

/** Devices x variants from the stored records: the latest record of each (device, model, variant, probe) wins. */
export function buildComparison(results: readonly StoredResult[], devices: readonly DeviceRow[], tolerance = DEFAULT_TOLERANCE): ComparisonReport {
  const bench = new Map<string, BenchmarkData>();
  const latest = new Map<string, Map<ProbeKind, ProbeRecord>>();
  const counts = new Map<string, { invalid: number; records: number }>();
  for (const { record, deviceId } of results) {
    const k = key(deviceId, record.model.name, record.variant.name);
    const c = counts.get(k) ?? { invalid: 0, records: 0 };
    c.records++;
    if (isInvalid(record)) c.invalid++;
    counts.set(k, c);
    if (record.probe === 'benchmark' && !isInvalid(record) && benchmarkShape.Check(record.data)) {
      const d = record.data as BenchmarkData;
      const prev = bench.get(k);
      if (!prev || d.throughput.batch <= prev.throughput.batch) bench.set(k, d);
    }
    const probes = latest.get(k) ?? new Map<ProbeKind, ProbeRecord>();
    probes.set(record.probe, record);
    latest.set(k, probes);
  }
  const keys = [...latest.keys()].sort(byDeviceModelVariant);

  // cross-device groups: same model, variant and fingerprint inputs
  const groups = new Map<string, Array<{ deviceId: string; d: BenchmarkData; model: string; variant: string }>>();
  for (const [k, d] of bench) {
    const [deviceId, model, variant] = k.split('\u0000');
    const g = key(model, variant, d.fingerprint.inputsSha256);
    groups.set(g, [...(groups.get(g) ?? []), { deviceId, d, model, variant }]);
  }
  const consistency: ConsistencyRow[] = [];
  const fleetDrift = new Map<string, { relL2: number; outlier: boolean }>();
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const c = crossDeviceConsistency(members.map((m) => ({ deviceId: m.deviceId, vectors: m.d.fingerprint.vectors, exactSha256: m.d.fingerprint.exactSha256 })), tolerance);
    consistency.push({ model: members[0].model, variant: members[0].variant, inputsSha256: members[0].d.fingerprint.inputsSha256, ...c });
    for (const d of c.drift) fleetDrift.set(key(d.deviceId, members[0].model, members[0].variant), d);
  }

  const online = new Map(devices.map((d) => [d.deviceId, d.online]));
  const rows = keys.map((k): ComparisonRow => {
    const [deviceId, model, variant] = k.split('\u0000');
    const d = bench.get(k);
    const fp32 = bench.get(key(deviceId, model, 'fp32'));
    const comparable = d && fp32 && d.fingerprint.inputsSha256 === fp32.fingerprint.inputsSha256;
    const fleet = fleetDrift.get(k);
    const probes = latest.get(k)!;
    const verdictOf = (p: ProbeKind): RowVerdict | null => {
      const r = probes.get(p);
      return r ? { status: r.verdict.status, layers: r.verdict.layers ?? [] } : null;
    };
    const cmp = probes.get('compare');
    const cmpData = cmp?.data as Partial<FleetCompareData> | undefined;
    return {
      deviceId, online: online.get(deviceId) ?? false, model, variant,
      batchSize: d?.throughput.batch ?? null, seqLen: d?.settings.seqLen ?? null,
      p50Ms: d?.latencyMs.p50 ?? null, p90Ms: d?.latencyMs.p90 ?? null, p99Ms: d?.latencyMs.p99 ?? null,
      sizeBytes: d?.sizeBytes ?? null,
      speedupVsFp32: d ? d.speedupVsFp32 : null,
      pooledCosineVsFp32: d?.drift?.pooledCosineMin ?? (d && variant === 'fp32' ? 1 : null),
      driftVsFp32: comparable ? relativeL2(fp32.fingerprint.vectors.flat(), d.fingerprint.vectors.flat()) : null,
      driftVsFleet: fleet?.relL2 ?? null,
      crossDeviceOutlier: fleet?.outlier ?? false,
      task: cmpData?.task ? { task: cmpData.task.task, items: cmpData.task.items, top1Accuracy: cmpData.task.top1Accuracy, top1Agreement: cmpData.task.top1Agreement, top5Agreement: cmpData.task.top5Agreement } : null,
      attention: verdictOf('attention'),
      properties: verdictOf('properties'),
      compare: cmp && cmpData?.jump ? { status: cmp.verdict.status, jumpLayer: cmpData.jump.jumpLayer, worstLayer: cmpData.jump.worstLayer } : null,
      verdicts: Object.fromEntries([...probes].map(([p, r]) => [p, r.verdict.status])),
      invalid: counts.get(k)!.invalid,
      records: counts.get(k)!.records,
    };
  });
  return {
    demo: [...bench.values()].some((d) => d.demoModel), devices: devices.length, results: results.length,
    invalid: rows.reduce((n, r) => n + r.invalid, 0), tolerance, rows, consistency,
  };
}
