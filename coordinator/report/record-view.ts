import { isInvalidRecord, type ProbeRecord } from '../../core/results/probe-record.ts';
import { checkRecord, probeContract } from '../../probes/index.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import type { FleetStore, JobTargetRow, StoredResult, TargetState } from '../store/store.ts';
import { readRecords, rowKey, type ReadRecords } from './probe-records.ts';

/**
 * What the report, the dashboard's /api/data and the HTML export read, without reading every stored
 * result: `result_view` (migration 7) holds, per result, the few facts readRecords derives from the whole
 * record (its row, its probe and series key, whether its contract reads it, whether it is invalid). The
 * views then read only the current record of each device x model x variant x probe x series, and the
 * per-row counts, from SQL. The table is brought up to date by the reader, not the ingest, so ingest
 * costs nothing more and a store written by an older coordinator is indexed on its first read.
 */

// ids above the highest indexed one minus this are checked for gaps: PostgreSQL hands ids out at insert,
// so a transaction of another replica can commit a lower id after a higher one was indexed
const LOOKBACK_IDS = 10_000;
const BATCH = 500;

interface RawRow { id: number; device_id: string; record: string }

/** What readRecords would derive from one stored record. */
function viewOf(raw: ProbeRecord): { model: string; variant: string; probe: string; seriesKey: string; readable: number; invalid: number; status: string } {
  const checked = checkRecord(raw);
  const record = checked.ok ? checked.value : raw;
  const contract = probeContract(record.probe);
  const readable = checked.ok && contract !== undefined;
  return {
    model: record.model.name, variant: record.variant.name, probe: readable ? contract.kind : String(record.probe),
    seriesKey: readable && contract.series ? contract.series(record.data as never) : '', readable: readable ? 1 : 0, invalid: isInvalidRecord(record) ? 1 : 0,
    status: String((record.verdict as { status?: unknown } | undefined)?.status ?? ''),
  };
}

/** Indexes the results not yet in result_view (idempotent: two readers at once insert each row once). Returns the rows added. */
export async function syncRecordView(sql: SqlRunner): Promise<number> {
  const [{ top }] = await sql.all<{ top: number }>('SELECT COALESCE(MAX(result_id), 0) AS top FROM result_view');
  // SQLite has one writer at a time, so its ids commit in order: nothing below the top can still appear
  let after = sql.dialect === 'sqlite' ? Number(top) : Math.max(0, Number(top) - LOOKBACK_IDS);
  let added = 0;
  for (;;) {
    const rows = await sql.all<RawRow>(`SELECT r.id, r.device_id, r.record FROM results r
      WHERE r.id > ? AND NOT EXISTS (SELECT 1 FROM result_view v WHERE v.result_id = r.id) ORDER BY r.id LIMIT ${BATCH}`, [after]);
    if (!rows.length) return added;
    const params: unknown[] = [];
    // the newest readable row per current key in this batch (PostgreSQL refuses one upsert touching a row twice)
    const current = new Map<string, unknown[]>();
    for (const r of rows) {
      const v = viewOf(JSON.parse(r.record) as ProbeRecord);
      params.push(Number(r.id), r.device_id, v.model, v.variant, v.probe, v.seriesKey, v.readable, v.invalid);
      if (v.readable) current.set(JSON.stringify([r.device_id, v.model, v.variant, v.probe, v.seriesKey]), [r.device_id, v.model, v.variant, v.probe, v.seriesKey, Number(r.id), v.status]);
    }
    // current_view first: a reader stopped between the two statements indexes these rows again (the upsert is idempotent)
    if (current.size) {
      await sql.run(`INSERT INTO current_view (device_id, model_name, variant_name, probe, series_key, result_id, status)
        VALUES ${[...current.keys()].map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}
        ON CONFLICT (device_id, model_name, variant_name, probe, series_key)
        DO UPDATE SET result_id = excluded.result_id, status = excluded.status WHERE excluded.result_id > current_view.result_id`, [...current.values()].flat());
    }
    added += await sql.run(`INSERT INTO result_view (result_id, device_id, model_name, variant_name, probe, series_key, readable, invalid)
      VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')} ON CONFLICT (result_id) DO NOTHING`, params);
    after = Number(rows[rows.length - 1].id);
  }
}

interface StoredRow { id: number; message_id: string; device_id: string; seq: number; sent_at: string; job_id: string; record_key: string; record: string; received_ms: number; simulated: number }
const toStored = (r: StoredRow): StoredResult => ({
  messageId: r.message_id, deviceId: r.device_id, seq: Number(r.seq), sentAt: r.sent_at, jobId: r.job_id, recordKey: r.record_key,
  record: JSON.parse(r.record) as ProbeRecord, receivedAt: new Date(Number(r.received_ms)).toISOString(), simulated: Number(r.simulated) === 1,
});

/** The views' input: the current records (the latest per device x model x variant x probe x series, in id order) and every row's counts. */
export interface CurrentRecords { results: StoredResult[]; read: ReadRecords; stored: number }

/** The whole fleet's current records, or (`deviceIds`) only those devices' (a dashboard page). */
export async function readCurrentRecords(sql: SqlRunner, deviceIds?: readonly string[]): Promise<CurrentRecords> {
  await syncRecordView(sql);
  const only = deviceIds ? `WHERE device_id IN (${deviceIds.map(() => '?').join(', ') || 'NULL'})` : '';
  const ids = deviceIds ?? [];
  const rows = await sql.all<StoredRow>(`SELECT r.id, r.message_id, r.device_id, r.seq, r.sent_at, r.job_id, r.record_key, r.record, r.received_ms, r.simulated
    FROM results r JOIN (SELECT result_id FROM current_view ${only}) c ON c.result_id = r.id ORDER BY r.id`, ids);
  const results = rows.map(toStored);
  const read = readRecords(results);
  const counts = await sql.all<{ device_id: string; model_name: string; variant_name: string; records: number; invalid: number; unreadable: number }>(
    `SELECT device_id, model_name, variant_name, COUNT(*) AS records, SUM(invalid) AS invalid, SUM(1 - readable) AS unreadable
     FROM result_view ${only} GROUP BY device_id, model_name, variant_name`, ids);
  read.counts.clear();
  let stored = 0;
  for (const c of counts) {
    read.counts.set(rowKey(c.device_id, c.model_name, c.variant_name), { records: Number(c.records), invalid: Number(c.invalid), unreadable: Number(c.unreadable) });
    stored += Number(c.records);
  }
  return { results, read, stored };
}

/** The newest job targets (the dashboard's jobs table): a fleet's history of scheduled runs is not sent whole. */
export async function recentJobTargets(sql: SqlRunner, limit: number): Promise<JobTargetRow[]> {
  const n = Math.max(1, Math.floor(limit));
  // newest jobs first, each job's targets by its primary key (job_id, device_id): the history of targets
  // is never sorted whole, and a job of 10,000 targets is read only as far as the page needs
  type Row = { job_id: string; device_id: string; state: string; attempt: number; done: number; total: number; detail: string | null; wave: number; created_ms: number };
  const jobs = await sql.all<{ job_id: string; created_ms: number }>(`SELECT job_id, created_ms FROM jobs ORDER BY created_ms DESC, job_id DESC LIMIT ${n}`);
  const rows: Row[] = [];
  for (const j of jobs) {
    if (rows.length >= n) break;
    const targets = await sql.all<Omit<Row, 'created_ms'>>(`SELECT job_id, device_id, state, attempt, done, total, detail, wave FROM job_targets
      WHERE job_id = ? ORDER BY device_id DESC LIMIT ${n - rows.length}`, [j.job_id]);
    rows.push(...targets.map((t) => ({ ...t, created_ms: j.created_ms })));
  }
  return rows.reverse().map((r) => ({
    jobId: r.job_id, deviceId: r.device_id, state: r.state as TargetState, attempt: Number(r.attempt), done: Number(r.done), total: Number(r.total),
    detail: r.detail, wave: Number(r.wave), createdAt: new Date(Number(r.created_ms)).toISOString(),
  }));
}

/** For callers holding a store. */
export const currentRecordsOf = (store: FleetStore): Promise<CurrentRecords> => readCurrentRecords(store.sql());
