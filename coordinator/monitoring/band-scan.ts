import { crossDeviceConsistency } from '../report/consistency.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { DEFAULT_DETECT, type DetectOptions, type Regression } from './regressions.ts';
import { buildSeries, fingerprintChanges, seriesKey, type RunPoint } from './series.ts';

/** Per series: where its last run stood against its job's consistency band (a few numbers, no fingerprints). */
export type BandState = Map<string, { run: Omit<RunPoint, 'fingerprint'>; outlier: boolean; relL2: number }>;

/**
 * consistencyExits (regressions.ts) one job at a time, in ingest order, so only one job's fingerprints
 * are in memory: each job's benchmark records come through the results_by_job index, and `state` carries
 * each series' last band position from job to job (and from one evaluation to the next).
 */
export async function bandExits(sql: SqlRunner, afterId: number, state: BandState, o: DetectOptions = DEFAULT_DETECT): Promise<Regression[]> {
  const jobs = await sql.all<{ job_id: string }>(
    `SELECT job_id, MIN(id) AS first FROM results WHERE probe = 'benchmark' AND job_id IN (SELECT DISTINCT job_id FROM results WHERE id > ?) GROUP BY job_id ORDER BY first`, [afterId]);
  const out: Regression[] = [];
  for (const { job_id: jobId } of jobs) {
    const rows = await sql.all<{ device_id: string; record: string }>(`SELECT device_id, record FROM results WHERE job_id = ? AND probe = 'benchmark'`, [jobId]);
    const series = buildSeries(rows.map((r) => ({ deviceId: r.device_id, jobId, record: JSON.parse(r.record) as ProbeRecord })));
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
