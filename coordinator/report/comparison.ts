import { relativeL2 } from '../../core/numeric/vectors.ts';
import type { ProbeKind, VerdictStatus } from '../../core/results/probe-record.ts';
import type { BenchmarkData } from '../../agent/jobs/benchmark-runner.ts';
import type { DeviceRow, StoredResult } from '../store/store.ts';
import { crossDeviceConsistency, DEFAULT_TOLERANCE, type ConsistencyResult } from './consistency.ts';

export interface ComparisonRow {
  deviceId: string;
  online: boolean;
  model: string;
  variant: string;
  /** batch size of the latency columns (the smallest benchmarked) */
  batchSize: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  sizeBytes: number | null;
  /** relative L2 of this variant's fingerprint to the fp32 fingerprint on the same device (compression drift) */
  driftVsFp32: number | null;
  /** relative L2 of this device's fingerprint to the median of all devices (cross-device drift) */
  driftVsFleet: number | null;
  crossDeviceOutlier: boolean;
  verdicts: Partial<Record<ProbeKind, VerdictStatus>>;
}

export interface ConsistencyRow extends ConsistencyResult { model: string; variant: string; inputsSha256: string }

export interface ComparisonReport {
  demo: boolean;
  devices: number;
  results: number;
  tolerance: number;
  rows: ComparisonRow[];
  consistency: ConsistencyRow[];
}

const key = (...p: string[]): string => p.join('\u0000');

/** Devices x variants from the stored records: the latest record of each (device, model, variant, probe) wins. */
export function buildComparison(results: readonly StoredResult[], devices: readonly DeviceRow[], tolerance = DEFAULT_TOLERANCE): ComparisonReport {
  const bench = new Map<string, BenchmarkData>();
  const verdicts = new Map<string, Partial<Record<ProbeKind, VerdictStatus>>>();
  for (const r of results) {
    const { record, deviceId } = r;
    const k = key(deviceId, record.model.name, record.variant.name);
    if (record.probe === 'benchmark') {
      const d = record.data as BenchmarkData;
      const prev = bench.get(k);
      if (!prev || d.batchSize <= prev.batchSize) bench.set(k, d);
    } else {
      verdicts.set(k, { ...verdicts.get(k), [record.probe]: record.verdict.status });
    }
  }
  const keys = [...new Set([...bench.keys(), ...verdicts.keys()])].sort();

  // cross-device groups: same model, variant and fingerprint inputs
  const groups = new Map<string, Array<{ deviceId: string; d: BenchmarkData; model: string; variant: string }>>();
  for (const k of bench.keys()) {
    const [deviceId, model, variant] = k.split('\u0000');
    const d = bench.get(k)!;
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
    return {
      deviceId, online: online.get(deviceId) ?? false, model, variant,
      batchSize: d?.batchSize ?? null, p50Ms: d?.latencyMs.p50 ?? null, p90Ms: d?.latencyMs.p90 ?? null, p99Ms: d?.latencyMs.p99 ?? null,
      sizeBytes: d?.sizeBytes ?? null,
      driftVsFp32: comparable ? relativeL2(fp32.fingerprint.vectors.flat(), d.fingerprint.vectors.flat()) : null,
      driftVsFleet: fleet?.relL2 ?? null,
      crossDeviceOutlier: fleet?.outlier ?? false,
      verdicts: verdicts.get(k) ?? {},
    };
  });
  return { demo: [...bench.values()].some((d) => d.demoModel), devices: devices.length, results: results.length, tolerance, rows, consistency };
}
