import type { DataRecord, ReportCell, ReportCells } from '../../core/probes/contract.ts';
import type { VerdictStatus } from '../../core/results/probe-record.ts';
import { byVariant } from '../../core/variants/variant-types.ts';
import { probeContracts } from '../../probes/index.ts';
import type { DeviceRow, StoredResult } from '../store/store.ts';
import { crossDeviceConsistency, DEFAULT_TOLERANCE, type ConsistencyResult } from './consistency.ts';
import { readRecords, rowKey, splitKey, type ReadRecords } from './probe-records.ts';

/** A probe's verdict on one row (the worst of its current records), with the layers it locates a break in. */
export interface RowVerdict { status: VerdictStatus; layers: number[]; summary: string }

/** One device x model x variant. Probe figures are in `cells[kind]`, as each probe's contract reports them. */
export interface FleetReportRow {
  deviceId: string;
  online: boolean;
  model: string;
  variant: string;
  /** every probe's current verdict */
  verdicts: Record<string, RowVerdict>;
  cells: Record<string, ReportCells>;
  /** relative L2 of this device's output fingerprint to the median of all devices (cross-device drift) */
  driftVsFleet: number | null;
  crossDeviceOutlier: boolean;
  /** stored records of this row whose numeric gate failed (kept, counted, never hidden) */
  invalid: number;
  /** stored records of this row its probe's contract could not read (another agent version, an unknown probe) */
  unreadable: number;
  records: number;
}

export interface ConsistencyRow extends ConsistencyResult { model: string; variant: string; probe: string; inputsSha256: string }

export interface FleetReport {
  demo: boolean;
  devices: number;
  results: number;
  /** records whose numeric gate failed, over all rows */
  invalid: number;
  tolerance: number;
  /** the probes' report columns, in registry order (what `cells` holds) */
  columns: Array<{ probe: string; key: string; header: string; csvOnly: boolean }>;
  /** probes whose verdict gets its own column (those that judge an explanation) */
  verdictProbes: string[];
  /** probes whose records carry an output fingerprint (the cross-device drift column follows their cells) */
  fingerprintProbes: string[];
  /** the registered probes in registry order: the order of their columns */
  probeOrder: string[];
  /** what each probe's columns mean, for the lines under the table */
  notes: Array<{ probe: string; text: string }>;
  rows: FleetReportRow[];
  consistency: ConsistencyRow[];
}

/**
 * Worse verdicts first; a row shows the worst of a probe's current records. Surviving against an invalid
 * fp32 explanation ranks below degrading: what is kept was never a valid explanation.
 */
export const SEVERITY: Record<VerdictStatus, number> = { invalid: 0, fails: 1, 'fails-controls': 1, 'survives-invalid-reference': 2, degrades: 3, 'passes-controls': 4, survives: 4, measured: 5 };

/** A cell's JSON/CSV value, or null: `cellValue(row, 'benchmark', 'p50Ms')`. */
export function cellValue(row: FleetReportRow, probe: string, key: string): ReportCell['value'] {
  return row.cells[probe]?.[key]?.value ?? null;
}

/** Devices x variants from the stored records, each probe's part drawn by its contract. */
export function buildFleetReport(results: readonly StoredResult[], devices: readonly DeviceRow[], tolerance = DEFAULT_TOLERANCE, read: ReadRecords = readRecords(results)): FleetReport {
  const contracts = probeContracts();
  const keys = [...read.counts.keys()].sort((a, b) => {
    const [da, ma, va] = splitKey(a);
    const [db, mb, vb] = splitKey(b);
    return da.localeCompare(db) || ma.localeCompare(mb) || byVariant(va, vb);
  });

  // cross-device groups: same probe, model, variant and fingerprint inputs
  const groups = new Map<string, Array<{ deviceId: string; model: string; variant: string; probe: string; vectors: number[][]; exactSha256: string; inputsSha256: string }>>();
  let demo = false;
  for (const [k, probes] of read.current) {
    const [deviceId, model, variant] = splitKey(k);
    for (const c of contracts) {
      const recs = probes.get(c.kind) ?? [];
      if (c.demoModel && recs.some((r) => c.demoModel!(r.record.data as never))) demo = true;
      if (!c.fingerprint) continue;
      const shown = c.report.pick ? c.report.pick(recs as never) : recs;
      const fp = shown[0] ? c.fingerprint(shown[0].record.data as never) : null;
      if (!fp || shown[0].record.verdict.status === 'invalid') continue;
      const g = [c.kind, model, variant, fp.inputsSha256].join('\u0000');
      groups.set(g, [...(groups.get(g) ?? []), { deviceId, model, variant, probe: c.kind, vectors: fp.vectors, exactSha256: fp.exactSha256, inputsSha256: fp.inputsSha256 }]);
    }
  }
  const consistency: ConsistencyRow[] = [];
  const fleetDrift = new Map<string, { relL2: number; outlier: boolean }>();
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const c = crossDeviceConsistency(members, tolerance);
    const m = members[0];
    consistency.push({ model: m.model, variant: m.variant, probe: m.probe, inputsSha256: m.inputsSha256, ...c });
    for (const d of c.drift) fleetDrift.set(rowKey(d.deviceId, m.model, m.variant), d);
  }

  const online = new Map(devices.map((d) => [d.deviceId, d.online]));
  const rows = keys.map((k): FleetReportRow => {
    const [deviceId, model, variant] = splitKey(k);
    const probes: Map<string, DataRecord<unknown>[]> = read.current.get(k) ?? new Map();
    const verdicts: Record<string, RowVerdict> = {};
    const cells: Record<string, ReportCells> = {};
    for (const c of contracts) {
      const recs = probes.get(c.kind) ?? [];
      if (recs.length === 0) continue;
      const worst = recs.reduce((a, b) => (SEVERITY[b.record.verdict.status] < SEVERITY[a.record.verdict.status] ? b : a));
      verdicts[c.kind] = { status: worst.record.verdict.status, layers: worst.record.verdict.layers ?? [], summary: worst.record.verdict.summary };
      const shown = c.report.pick ? c.report.pick(recs as never) : recs;
      const sibling = (v: string) => (read.current.get(rowKey(deviceId, model, v))?.get(c.kind) ?? []) as never;
      cells[c.kind] = c.report.cells(shown as never, { deviceId, model, variant, sibling });
    }
    const fleet = fleetDrift.get(k);
    const n = read.counts.get(k)!;
    return {
      deviceId, online: online.get(deviceId) ?? false, model, variant, verdicts, cells,
      driftVsFleet: fleet?.relL2 ?? null, crossDeviceOutlier: fleet?.outlier ?? false,
      invalid: n.invalid, unreadable: n.unreadable, records: n.records,
    };
  });
  return {
    // every stored result is counted in its row (readRecords, or the record view's SQL counts)
    demo, devices: devices.length, results: [...read.counts.values()].reduce((n, c) => n + c.records, 0),
    invalid: rows.reduce((s, r) => s + r.invalid, 0), tolerance,
    columns: contracts.flatMap((c) => c.report.columns.map((col) => ({ probe: c.kind, key: col.key, header: col.header, csvOnly: col.csvOnly ?? false }))),
    verdictProbes: contracts.filter((c) => c.explains).map((c) => c.kind),
    fingerprintProbes: contracts.filter((c) => c.fingerprint).map((c) => c.kind),
    probeOrder: contracts.map((c) => c.kind),
    notes: contracts.flatMap((c) => (c.report.notes ?? []).map((text) => ({ probe: c.kind, text }))),
    rows, consistency,
  };
}
