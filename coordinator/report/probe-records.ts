import type { DataRecord, ProbeContract } from '../../core/probes/contract.ts';
import { isInvalidRecord, type ProbeRecord } from '../../core/results/probe-record.ts';
import { checkRecord, probeContracts } from '../../probes/index.ts';

/** Stored rows as the report and the dashboard read them: each record checked against its probe's contract. */
export interface ReadRecords {
  /** per device x model x variant key: the current records of each probe (the latest per `series` key) */
  current: Map<string, Map<string, DataRecord<unknown>[]>>;
  /** per key: every stored record, and how many of them failed the numeric gate or their contract */
  counts: Map<string, { records: number; invalid: number; unreadable: number }>;
}

export const rowKey = (deviceId: string, model: string, variant: string): string => [deviceId, model, variant].join('\u0000');
export const splitKey = (k: string): [string, string, string] => k.split('\u0000') as [string, string, string];

/**
 * Reads stored results the one way both views do: upgraded to the current record version and checked
 * against the probe's contract. A record that does not pass (an agent of another version, a probe this
 * coordinator does not know) counts as a record of its row but never enters a figure. Later rows
 * replace earlier ones of the same device, model, variant, probe and series.
 */
export function readRecords(results: ReadonlyArray<{ deviceId: string; record: ProbeRecord }>): ReadRecords {
  const latest = new Map<string, Map<string, Map<string, DataRecord<unknown>>>>();
  const counts = new Map<string, { records: number; invalid: number; unreadable: number }>();
  const byKind = new Map(probeContracts().map((c) => [c.kind, c]));
  for (const { deviceId, record: raw } of results) {
    const checked = checkRecord(raw);
    const record = checked.ok ? checked.value : raw;
    const k = rowKey(deviceId, record.model.name, record.variant.name);
    const c = counts.get(k) ?? { records: 0, invalid: 0, unreadable: 0 };
    c.records++;
    if (isInvalidRecord(record)) c.invalid++;
    if (!checked.ok) c.unreadable++;
    counts.set(k, c);
    const contract = byKind.get(record.probe);
    if (!checked.ok || !contract) continue;
    const probes = latest.get(k) ?? new Map<string, Map<string, DataRecord<unknown>>>();
    const series = probes.get(contract.kind) ?? new Map<string, DataRecord<unknown>>();
    series.set(contract.series ? contract.series(record.data as never) : '', { deviceId, record });
    probes.set(contract.kind, series);
    latest.set(k, probes);
  }
  const current = new Map([...latest].map(([k, probes]) => [k, new Map([...probes].map(([kind, s]) => [kind, [...s.values()]]))]));
  return { current, counts };
}

/** Every current record of one probe, over all rows (the dashboard's per-probe views). */
export function currentOf(read: ReadRecords, contract: ProbeContract): DataRecord<unknown>[] {
  return [...read.current.values()].flatMap((probes) => probes.get(contract.kind) ?? []);
}
