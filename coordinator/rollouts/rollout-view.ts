import type { SqlRunner } from '../store/sql-runner.ts';
import { FINAL_TARGET_STATES } from '../store/store.ts';
import { describeRollout } from './rollout-spec.ts';
import { FAILED, RolloutStore, type RolloutState } from './rollouts.ts';

/** One rollout as the dashboard and the HTML export show it (docs/monitoring.md, "Staged rollouts"). */
export interface RolloutRow {
  jobId: string;
  /** the job's plan in a few words: models, variants, probes */
  plan: string;
  state: RolloutState;
  /** waves whose devices have all finished (completed, failed, ...), of all waves */
  wavesDone: number;
  waves: number;
  /** the wave sizes, the interval and the abort limits, as `jobs list` says them */
  rate: string;
  devices: number;
  /** failed, rejected or timed-out targets (a cancelled target is none of these) */
  failures: number;
  /** why it stopped (aborted, cancelled) or how it ended; null while running */
  detail: string | null;
  updatedAt: string;
}

function planSummary(planJson: string): string {
  try {
    const p = JSON.parse(planJson) as { models?: Array<{ name?: string }>; variants?: string[]; probes?: string[] };
    return [(p.models ?? []).map((m) => m.name).join(', '), (p.variants ?? []).join(', '), (p.probes ?? []).join(', ')].filter(Boolean).join(' · ') || '–';
  } catch {
    return '(unreadable plan)';
  }
}

/** The newest `limit` rollouts with their progress, from the rollouts table and their jobs' targets only. */
export async function rolloutTable(sql: SqlRunner, limit = 50): Promise<RolloutRow[]> {
  const rollouts = (await new RolloutStore(sql).list()).slice(0, limit);
  if (rollouts.length === 0) return [];
  const marks = rollouts.map(() => '?').join(', ');
  const ids = rollouts.map((r) => r.jobId);
  const plans = new Map((await sql.all<{ job_id: string; plan: string }>(`SELECT job_id, plan FROM jobs WHERE job_id IN (${marks})`, ids)).map((r) => [r.job_id, r.plan]));
  const counts = await sql.all<{ job_id: string; wave: number; state: string; n: number }>(
    `SELECT job_id, wave, state, COUNT(*) AS n FROM job_targets WHERE job_id IN (${marks}) GROUP BY job_id, wave, state`, ids);
  return rollouts.map((r) => {
    const mine = counts.filter((c) => c.job_id === r.jobId);
    let wavesDone = 0;
    for (let w = 0; w <= r.wave; w++) {
      const wave = mine.filter((c) => Number(c.wave) === w && c.state !== 'cancelled');
      const size = wave.reduce((a, c) => a + Number(c.n), 0);
      if (size > 0 && wave.every((c) => (FINAL_TARGET_STATES as readonly string[]).includes(c.state))) wavesDone++;
    }
    return {
      jobId: r.jobId, plan: planSummary(plans.get(r.jobId) ?? ''), state: r.state, wavesDone, waves: r.waves, rate: describeRollout(r.spec),
      devices: mine.reduce((a, c) => a + Number(c.n), 0), failures: mine.filter((c) => FAILED.includes(c.state)).reduce((a, c) => a + Number(c.n), 0),
      detail: r.detail, updatedAt: r.updatedAt,
    };
  });
}
