import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import type { RunRecord } from './series.ts';

export interface SeriesWindow { sinceMs?: number; untilMs?: number; /** newest records at most */ limit?: number }
export interface SeriesId { deviceId: string; model: string; variant: string }

/**
 * The stored records of one device x model x variant in a time window (received time), newest `limit`
 * first, returned oldest first; the results_by_series index answers it without reading other rows.
 */
export async function seriesRecords(sql: SqlRunner, id: SeriesId, w: SeriesWindow = {}): Promise<RunRecord[]> {
  const rows = await sql.all<{ device_id: string; job_id: string; record: string }>(
    `SELECT device_id, job_id, record FROM results WHERE device_id = ? AND model_name = ? AND variant_name = ? AND received_ms >= ? AND received_ms <= ?
     ORDER BY received_ms DESC, id DESC LIMIT ?`,
    [id.deviceId, id.model, id.variant, w.sinceMs ?? 0, w.untilMs ?? Number.MAX_SAFE_INTEGER, Math.min(w.limit ?? 500, 5000)]);
  return rows.reverse().map((r) => ({ deviceId: r.device_id, jobId: r.job_id, record: JSON.parse(r.record) as ProbeRecord }));
}

/** The series that got a result after `afterId`, and the highest result id seen (the next call's `afterId`). */
export async function touchedSeries(sql: SqlRunner, afterId: number): Promise<{ series: SeriesId[]; lastId: number }> {
  const [{ last }] = await sql.all<{ last: number | null }>('SELECT MAX(id) AS last FROM results');
  const lastId = Number(last ?? 0);
  if (lastId <= afterId) return { series: [], lastId };
  const rows = await sql.all<{ device_id: string; model_name: string; variant_name: string }>(
    'SELECT DISTINCT device_id, model_name, variant_name FROM results WHERE id > ? AND id <= ?', [afterId, lastId]);
  return { series: rows.map((r) => ({ deviceId: r.device_id, model: r.model_name, variant: r.variant_name })), lastId };
}
