import { crossDeviceConsistency } from '../report/consistency.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { DEFAULT_DETECT, type DetectOptions, type Regression } from './regressions.ts';
import { fingerprintChanges, seriesKey, SeriesBuilder, type RunPoint, type Series } from './series.ts';
import type { ParsedFacts } from './series-query.ts';

/** Per series: where its last run stood against its job's consistency band (a few numbers, no fingerprints). */
export type BandState = Map<string, { run: Omit<RunPoint, 'fingerprint'>; outlier: boolean; relL2: number }>;

/** Jobs whose series a JobSeriesCache keeps (least recently touched dropped first); a dropped job is read in full again. */
const JOBS_CACHED = 64;

/**
 * Each touched job's series built from its benchmark records, kept between evaluations so that an
 * evaluation reads only the records stored since the last one (a long job, or the load tool's stream
 * under one job id, would otherwise be re-read and re-parsed in full every few seconds). The series are
 * the same as a full read's: records are added in id order, and when a record with a lower id than
 * the last one read turns up (PostgreSQL replicas commit ids out of order) or rows went away, the job
 * is read again in full. The check is one COUNT over the results_by_job index.
 */
export class JobSeriesCache {
  private readonly jobs = new Map<string, { lastId: number; rows: number; builder: SeriesBuilder }>();
  /** what the last series() call did, for tests and the bench */
  readonly stats = { fullReads: 0, incrementalReads: 0, recordsRead: 0, recordsReused: 0 };

  constructor(private readonly maxJobs = JOBS_CACHED) {}

  /** `parsed`: records the series history parsed in this evaluation (series-query.ts), taken instead of parsing them again */
  async series(sql: SqlRunner, jobId: string, parsed?: ParsedFacts): Promise<Series[]> {
    let job = this.jobs.get(jobId);
    this.jobs.delete(jobId);
    // a job read before with no benchmark record yet has no id to continue from: read it in full
    if (job && job.rows > 0) {
      const rows = await benchmarkRows(sql, jobId, job.lastId);
      const [{ n }] = await sql.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM results WHERE job_id = ? AND probe = 'benchmark' AND id <= ?`,
        [jobId, rows.length ? rows[rows.length - 1].id : job.lastId]);
      if (Number(n) === job.rows + rows.length) {
        this.stats.incrementalReads++;
        this.add(job, jobId, rows, parsed);
      } else job = undefined;
    }
    if (!job || job.rows === 0) {
      this.stats.fullReads++;
      job = { lastId: -Infinity, rows: 0, builder: new SeriesBuilder() };
      this.add(job, jobId, await benchmarkRows(sql, jobId), parsed);
    }
    this.jobs.set(jobId, job);
    if (this.jobs.size > this.maxJobs) this.jobs.delete(this.jobs.keys().next().value!);
    return job.builder.series();
  }

  private add(job: { lastId: number; rows: number; builder: SeriesBuilder }, jobId: string, rows: Array<{ id: number; device_id: string; record: string }>, parsed?: ParsedFacts): void {
    this.stats.recordsRead += rows.length;
    for (const r of rows) {
      const f = parsed?.get(r.id);
      if (f) { this.stats.recordsReused++; job.builder.addFacts(f); } else job.builder.add({ deviceId: r.device_id, jobId, record: JSON.parse(r.record) as ProbeRecord });
    }
    job.rows += rows.length;
    if (rows.length) job.lastId = rows[rows.length - 1].id;
  }
}

/** A job's benchmark records (after `afterId`, else all), in id order (the order the builder must see them in). */
async function benchmarkRows(sql: SqlRunner, jobId: string, afterId?: number): Promise<Array<{ id: number; device_id: string; record: string }>> {
  const rows = await sql.all<{ id: number | string; device_id: string; record: string }>(
    `SELECT id, device_id, record FROM results WHERE job_id = ? AND probe = 'benchmark'${afterId === undefined ? '' : ' AND id > ?'} ORDER BY id`,
    afterId === undefined ? [jobId] : [jobId, afterId]);
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * consistencyExits (regressions.ts) one job at a time, in ingest order, so only one job's fingerprints
 * are read at a time: each job's benchmark records come through the results_by_job index (all of them,
 * or with `cache` only those stored since its last scan), and `state` carries each series' last band
 * position from job to job (and from one evaluation to the next).
 */
export async function bandExits(sql: SqlRunner, afterId: number, state: BandState, o: DetectOptions = DEFAULT_DETECT, cache?: JobSeriesCache, parsed?: ParsedFacts): Promise<Regression[]> {
  const jobs = await sql.all<{ job_id: string }>(
    `SELECT job_id, MIN(id) AS first FROM results WHERE probe = 'benchmark' AND job_id IN (SELECT DISTINCT job_id FROM results WHERE id > ?) GROUP BY job_id ORDER BY first`, [afterId]);
  const out: Regression[] = [];
  for (const { job_id: jobId } of jobs) {
    const series = await (cache ?? new JobSeriesCache(0)).series(sql, jobId, parsed);
    const groups = new Map<string, typeof series>();
    for (const s of series) {
      const fp = s.runs[0]?.fingerprint;
      if (!fp) continue;
      const k = [s.model, s.variant, fp.inputsSha256].join('\u0000');
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const members of groups.values()) {
      if (members.length < o.minBandDevices) continue;
      const c = crossDeviceConsistency(members.map((s) => ({ deviceId: s.deviceId, vectors: s.runs[0].fingerprint!.vectors, exactSha256: s.runs[0].fingerprint!.exactSha256 })), o.consistencyTolerance);
      members.forEach((s, i) => {
        const key = seriesKey(s.deviceId, s.model, s.variant);
        const { fingerprint: _fp, ...run } = s.runs[0];
        const now = { run, outlier: c.drift[i].outlier, relL2: c.drift[i].relL2 };
        const was = state.get(key);
        if (was && was.run.jobId !== jobId && !was.outlier && now.outlier) {
          out.push({
            kind: 'left-consistency-band', deviceId: s.deviceId, model: s.model, variant: s.variant, metric: 'output fingerprint',
            before: { jobId: was.run.jobId, at: was.run.at }, after: { jobId, at: run.at }, changed: fingerprintChanges(was.run as RunPoint, run as RunPoint),
            from: was.relL2, to: now.relL2, pValue: null,
            statistic: `relative L2 to the run's median fingerprint ${was.relL2.toExponential(2)} -> ${now.relL2.toExponential(2)} (band: <= ${o.consistencyTolerance})`,
          });
        }
        state.set(key, now);
      });
    }
  }
  return out;
}
