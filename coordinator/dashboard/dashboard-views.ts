import type { VerdictStatus } from '../../core/results/probe-record.ts';
import { VARIANT_NAMES } from '../../core/variants/variant-types.ts';
import { probeContracts } from '../../probes/index.ts';
import { SEVERITY } from '../report/fleet-report.ts';
import { readCurrentRecords, recentJobTargets, syncRecordView } from '../report/record-view.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import type { AdmittedVia } from '../security/admission.ts';
import type { DeviceRow } from '../store/store.ts';
import { buildDashboardData, type DashboardData } from './dashboard-data.ts';

/**
 * The dashboard's views at fleet scale (docs/monitoring.md "Views that scale"): the fleet summary counts
 * in SQL over current_view (one row per device x model x variant x probe x series, kept by the record
 * view), the device table is a sorted, filtered page of `devices`, and the per-probe views, the report
 * rows and the outliers are built from that page's current records only. No call reads the whole fleet's
 * records; a call's cost follows the page size, not the fleet.
 */

export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;
/** the jobs table's newest targets (older ones: `jobs list`) */
export const PAGE_JOB_TARGETS = 200;

export const DEVICE_SORTS = ['deviceId', 'lastSeen', 'firstSeen', 'online'] as const;
export type DeviceSort = (typeof DEVICE_SORTS)[number];

export interface PageQuery {
  offset: number;
  limit: number;
  sort: DeviceSort;
  desc: boolean;
  /** substring of the device id */
  q: string;
  online?: boolean;
}

export interface DevicePage extends PageQuery { total: number; devices: DeviceRow[] }

/** Reads ?offset&limit&sort&order&q&online; returns an error message for a bad one (the caller answers 400). */
export function parsePageQuery(q: Record<string, string | undefined>): PageQuery | string {
  const int = (v: string | undefined, dflt: number): number => (v === undefined || v === '' ? dflt : /^\d+$/.test(v) ? Number(v) : NaN);
  const offset = int(q.offset, 0), limit = int(q.limit, PAGE_DEFAULT);
  if (Number.isNaN(offset)) return 'offset is a whole number of devices, e.g. offset=100';
  if (Number.isNaN(limit) || limit < 1 || limit > PAGE_MAX) return `limit is 1..${PAGE_MAX} devices per page`;
  const sort = (q.sort ?? 'deviceId') as DeviceSort;
  if (!DEVICE_SORTS.includes(sort)) return `sort is one of ${DEVICE_SORTS.join(', ')}`;
  if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') return 'order is asc or desc';
  if (q.online !== undefined && q.online !== 'true' && q.online !== 'false') return 'online is true or false';
  return { offset, limit, sort, desc: q.order === 'desc', q: (q.q ?? '').slice(0, 200), ...(q.online === undefined ? {} : { online: q.online === 'true' }) };
}

const SORT_SQL: Record<DeviceSort, string> = { deviceId: 'device_id', lastSeen: 'last_seen_ms', firstSeen: 'first_seen_ms', online: 'online' };
const iso = (ms: number): string => new Date(Number(ms)).toISOString();

/** One page of the device table, sorted and filtered in SQL (devices_by_last_seen serves the lastSeen sort). */
export async function devicePage(sql: SqlRunner, p: PageQuery): Promise<DevicePage> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (p.q) { where.push("device_id LIKE ? ESCAPE '\\'"); params.push(`%${p.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`); }
  if (p.online !== undefined) { where.push('online = ?'); params.push(p.online ? 1 : 0); }
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  // the same order as store.devices() on both engines (PostgreSQL's default collation ignores punctuation)
  const id = sql.dialect === 'postgres' ? 'device_id COLLATE "C"' : 'device_id';
  const dir = p.desc ? 'DESC' : 'ASC';
  const order = p.sort === 'deviceId' ? `${id} ${dir}` : `${SORT_SQL[p.sort]} ${dir}, ${id} ${dir}`;
  const [{ n }] = await sql.all<{ n: number }>(`SELECT COUNT(*) AS n FROM devices ${w}`, params);
  const rows = await sql.all<{ device_id: string; profile: string; allowed: string; first_seen_ms: number; last_seen_ms: number; online: number; heartbeat: string | null; admitted_via: string | null }>(
    `SELECT device_id, profile, allowed, first_seen_ms, last_seen_ms, online, heartbeat, admitted_via FROM devices ${w} ORDER BY ${order} LIMIT ${p.limit} OFFSET ${p.offset}`, params);
  return {
    ...p, total: Number(n),
    devices: rows.map((r) => ({
      deviceId: r.device_id, profile: JSON.parse(r.profile), allowed: JSON.parse(r.allowed), firstSeen: iso(r.first_seen_ms), lastSeen: iso(r.last_seen_ms),
      online: Number(r.online) === 1, heartbeat: r.heartbeat ? JSON.parse(r.heartbeat) : null, admittedVia: (r.admitted_via ?? undefined) as AdmittedVia | undefined,
    })),
  };
}

export interface FleetVerdictCount {
  model: string;
  variant: string;
  probe: string;
  /** devices with a current record of this probe */
  devices: number;
  byStatus: Record<string, number>;
  /** the worst current verdict and one device that has it */
  worst: { status: string; deviceId: string; summary: string };
}

export interface FleetSummary {
  generatedAt: string;
  variantOrder: string[];
  probes: Array<{ kind: string; title: string; explains: boolean }>;
  devices: number;
  online: number;
  /** current records (the latest per device x model x variant x probe x series); the history's size is not counted (O(history)) */
  current: number;
  verdicts: FleetVerdictCount[];
}

/** The whole fleet in a few GROUP BYs over current_view: devices, verdict counts per model x variant x probe, the worst of each. */
export async function fleetSummary(sql: SqlRunner): Promise<FleetSummary> {
  await syncRecordView(sql);
  const [d] = await sql.all<{ n: number; online: number | null }>('SELECT COUNT(*) AS n, SUM(online) AS online FROM devices');
  const groups = await sql.all<{ model_name: string; variant_name: string; probe: string; status: string; n: number }>(
    'SELECT model_name, variant_name, probe, status, COUNT(*) AS n FROM current_view GROUP BY model_name, variant_name, probe, status');
  const devices = await sql.all<{ model_name: string; variant_name: string; probe: string; n: number }>(
    'SELECT model_name, variant_name, probe, COUNT(DISTINCT device_id) AS n FROM current_view GROUP BY model_name, variant_name, probe');
  const key = (m: string, v: string, p: string): string => JSON.stringify([m, v, p]);
  const byKey = new Map<string, FleetVerdictCount>();
  let current = 0;
  for (const g of groups) {
    current += Number(g.n);
    const k = key(g.model_name, g.variant_name, g.probe);
    const e = byKey.get(k) ?? { model: g.model_name, variant: g.variant_name, probe: g.probe, devices: 0, byStatus: {}, worst: { status: g.status, deviceId: '', summary: '' } };
    e.byStatus[g.status] = Number(g.n);
    const sev = (s: string): number => SEVERITY[s as VerdictStatus] ?? -1;
    if (sev(g.status) < sev(e.worst.status)) e.worst.status = g.status;
    byKey.set(k, e);
  }
  for (const r of devices) { const e = byKey.get(key(r.model_name, r.variant_name, r.probe)); if (e) e.devices = Number(r.n); }
  // one example device per worst verdict: its summary from the record itself (a handful of rows; current_view_by_row ends in result_id)
  for (const e of byKey.values()) {
    const [w] = await sql.all<{ device_id: string; record: string }>(
      `SELECT c.device_id, r.record FROM current_view c JOIN results r ON r.id = c.result_id
       WHERE c.model_name = ? AND c.variant_name = ? AND c.probe = ? AND c.status = ? ORDER BY c.result_id DESC LIMIT 1`, [e.model, e.variant, e.probe, e.worst.status]);
    if (w) e.worst = { status: e.worst.status, deviceId: w.device_id, summary: String((JSON.parse(w.record) as { verdict?: { summary?: unknown } }).verdict?.summary ?? '') };
  }
  const contracts = probeContracts();
  return {
    generatedAt: new Date().toISOString(), variantOrder: [...VARIANT_NAMES], probes: contracts.map((c) => ({ kind: c.kind, title: c.title, explains: c.explains })),
    devices: Number(d.n), online: Number(d.online ?? 0), current,
    verdicts: [...byKey.values()].sort((a, b) => a.model.localeCompare(b.model) || a.variant.localeCompare(b.variant) || a.probe.localeCompare(b.probe)),
  };
}

/** The dashboard document for one page of devices: the same shape as before, plus the page (the fleet summary is /api/summary). */
export interface PageData extends DashboardData { page: Omit<DevicePage, 'devices'> }

export async function dashboardPage(sql: SqlRunner, p: PageQuery, opts: { tolerance?: number; mapModels?: string[] } = {}): Promise<PageData> {
  const page = await devicePage(sql, p);
  const ids = page.devices.map((d) => d.deviceId);
  const { results, read } = await readCurrentRecords(sql, ids);
  const data = buildDashboardData(results, page.devices, await recentJobTargets(sql, PAGE_JOB_TARGETS), { ...opts, read });
  const { devices, ...meta } = page;
  void devices;
  return { ...data, page: meta };
}
