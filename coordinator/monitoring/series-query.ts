import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import { recordFacts, type RecordFacts, type RunRecord } from './series.ts';

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

/** Full facts of the records one evaluation parsed, by result id: the band scan takes them instead of parsing again. */
export type ParsedFacts = Map<number, RecordFacts>;
// at most this many full facts (~5 KB each with the fingerprint) are handed on per evaluation
const PARSED_KEPT = 20_000;

function withoutFingerprint(b: NonNullable<RecordFacts['benchmark']>): NonNullable<RecordFacts['benchmark']> {
  const { fingerprint: _f, ...rest } = b;
  return rest;
}

/** Records whose facts a SeriesHistory keeps (least recently used dropped first): ~1 KB each without the fingerprint. */
const FACTS_CACHED = 50_000;
const IDS_PER_QUERY = 500;

/**
 * The newest records of a series as the monitor reads them every few seconds (seriesRecords with a
 * limit), turned into series facts (series.ts recordFacts; kept without the fingerprint, ~4 KB that only the band scan reads). Which records is
 * asked of the database every time (ids only, through the results_by_series index), but each record is
 * read and parsed once: a stored result never changes, so its facts are kept by result id.
 */
export class SeriesHistory {
  private readonly facts = new Map<number, RecordFacts | null>();
  readonly stats = { recordsParsed: 0 };

  constructor(private readonly maxFacts = FACTS_CACHED) {}

  /** `parsed` (optional) receives the full facts, fingerprint included, of each record parsed here, for the band scan. */
  async newest(sql: SqlRunner, id: SeriesId, limit: number, parsed?: ParsedFacts): Promise<RecordFacts[]> {
    const rows = (await sql.all<{ id: number | string; device_id: string; job_id: string }>(
      `SELECT id, device_id, job_id FROM results WHERE device_id = ? AND model_name = ? AND variant_name = ? AND received_ms >= ? AND received_ms <= ?
       ORDER BY received_ms DESC, id DESC LIMIT ?`,
      [id.deviceId, id.model, id.variant, 0, Number.MAX_SAFE_INTEGER, Math.min(limit, 5000)])).reverse().map((r) => ({ ...r, id: Number(r.id) }));
    const missing = rows.filter((r) => !this.facts.has(r.id));
    for (let i = 0; i < missing.length; i += IDS_PER_QUERY) {
      const some = missing.slice(i, i + IDS_PER_QUERY);
      const records = new Map((await sql.all<{ id: number | string; record: string }>(`SELECT id, record FROM results WHERE id IN (${some.map(() => '?').join(', ')})`, some.map((r) => r.id)))
        .map((r) => [Number(r.id), r.record]));
      for (const r of some) {
        const text = records.get(r.id);
        if (text === undefined) continue;
        this.stats.recordsParsed++;
        const f = recordFacts({ deviceId: r.device_id, jobId: r.job_id, record: JSON.parse(text) as ProbeRecord }) ?? null;
        if (f?.benchmark && parsed && parsed.size < PARSED_KEPT) parsed.set(r.id, f);
        this.remember(r.id, f?.benchmark ? { ...f, benchmark: withoutFingerprint(f.benchmark) } : f);
      }
    }
    const out: RecordFacts[] = [];
    for (const r of rows) {
      const f = this.facts.get(r.id);
      if (f === undefined) continue;
      // most recently used last, so the oldest entries go first when the cache is full
      this.facts.delete(r.id);
      this.facts.set(r.id, f);
      if (f) out.push(f);
    }
    return out;
  }

  private remember(id: number, f: RecordFacts | null): void {
    this.facts.set(id, f);
    if (this.facts.size > this.maxFacts) this.facts.delete(this.facts.keys().next().value!);
  }
}
