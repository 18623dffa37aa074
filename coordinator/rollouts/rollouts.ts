import type { SqlRunner } from '../store/sql-runner.ts';
import { FINAL_TARGET_STATES } from '../store/store.ts';
import type { RolloutSpec } from './rollout-spec.ts';

export type RolloutState = 'running' | 'completed' | 'aborted' | 'cancelled';

export interface Rollout {
  jobId: string;
  spec: RolloutSpec;
  waves: number;
  /** the wave released last (0-based) */
  wave: number;
  state: RolloutState;
  waveStartedAt: string;
  updatedAt: string;
  detail: string | null;
}

/** What one round did to a rollout, for the coordinator's log. */
export interface RolloutEvent { jobId: string; action: 'released' | 'aborted' | 'completed' | 'cancelled'; wave: number; detail: string }

interface Row { job_id: string; spec: string; waves: number; wave: number; state: RolloutState; wave_started_ms: number; updated_ms: number; detail: string | null }
const toRollout = (r: Row): Rollout => ({
  jobId: r.job_id, spec: JSON.parse(r.spec) as RolloutSpec, waves: Number(r.waves), wave: Number(r.wave), state: r.state,
  waveStartedAt: new Date(Number(r.wave_started_ms)).toISOString(), updatedAt: new Date(Number(r.updated_ms)).toISOString(), detail: r.detail,
});

/** Target states that count towards a wave's failure rate. */
export const FAILED = ['failed', 'rejected', 'timed-out'];
const pct = (x: number): string => `${+(x * 100).toFixed(1)}%`;

/**
 * The rollout duty (run by the replica holding the dispatch lease, before dispatch): every state change
 * is a conditional UPDATE on the stored row, so a second replica or a restart mid-round repeats nothing,
 * and everything it needs is in the store, so a restarted coordinator carries on where the last one was.
 */
export class RolloutStore {
  constructor(private readonly sql: SqlRunner) {}

  async list(jobId?: string): Promise<Rollout[]> {
    const rows = await this.sql.all<Row>(`SELECT * FROM rollouts ${jobId ? 'WHERE job_id = ?' : ''} ORDER BY updated_ms DESC, job_id`, jobId ? [jobId] : []);
    return rows.map(toRollout);
  }

  /** Where the current wave stands: its targets by state (cancelled ones do not count towards the failure rate). */
  private async waveCounts(jobId: string, wave: number): Promise<{ size: number; failed: number; finished: number; held: number }> {
    const rows = await this.sql.all<{ state: string; n: number }>('SELECT state, COUNT(*) AS n FROM job_targets WHERE job_id = ? AND wave = ? GROUP BY state', [jobId, wave]);
    let size = 0, failed = 0, finished = 0, held = 0;
    for (const r of rows) {
      const n = Number(r.n);
      if (r.state === 'cancelled') continue;
      size += n;
      if (FAILED.includes(r.state)) failed += n;
      if ((FINAL_TARGET_STATES as readonly string[]).includes(r.state)) finished += n;
      if (r.state === 'held') held += n;
    }
    return { size, failed, finished, held };
  }

  /** Devices of the wave with a regression alert raised on this job (coordinator/monitoring). */
  private async regressed(jobId: string, wave: number): Promise<number> {
    const [r] = await this.sql.all<{ n: number }>(`SELECT COUNT(DISTINCT a.device_id) AS n FROM alerts a
      JOIN job_targets t ON t.job_id = a.after_job AND t.device_id = a.device_id WHERE a.after_job = ? AND t.wave = ?`, [jobId, wave]);
    return Number(r?.n ?? 0);
  }

  private async finish(r: Row, state: RolloutState, detail: string, nowMs: number): Promise<boolean> {
    return (await this.sql.run('UPDATE rollouts SET state = ?, detail = ?, updated_ms = ? WHERE job_id = ? AND state = ? AND wave = ?',
      [state, detail, nowMs, r.job_id, 'running', r.wave])) > 0;
  }

  /** Held targets of an aborted rollout become cancelled first: a crash before the rollout row is marked repeats the abort. */
  private async abort(r: Row, detail: string, nowMs: number): Promise<RolloutEvent | undefined> {
    await this.sql.run("UPDATE job_targets SET state = 'cancelled', detail = ?, activity_ms = ? WHERE job_id = ? AND state = 'held'", [`rollout aborted: ${detail}`.slice(0, 2000), nowMs, r.job_id]);
    return (await this.finish(r, 'aborted', detail, nowMs)) ? { jobId: r.job_id, action: 'aborted', wave: Number(r.wave), detail } : undefined;
  }

  /**
   * One round: for each running rollout, abort as soon as the current wave's failures pass the limit
   * (failures only grow, so waiting for the rest of the wave cannot bring the rate back under it); when
   * the wave has finished everywhere and the interval has passed, check the regression limit and release
   * the next wave (its held targets become queued, so this round's dispatch sends them), or complete.
   */
  async advance(nowMs: number): Promise<RolloutEvent[]> {
    const events: RolloutEvent[] = [];
    for (const r of await this.sql.all<Row>("SELECT * FROM rollouts WHERE state = 'running'")) {
      const spec = JSON.parse(r.spec) as RolloutSpec;
      const wave = Number(r.wave);
      // idempotent: a release interrupted between the two updates is finished here
      await this.sql.run("UPDATE job_targets SET state = 'queued' WHERE job_id = ? AND wave = ? AND state = 'held'", [r.job_id, wave]);
      const c = await this.waveCounts(r.job_id, wave);
      const label = `wave ${wave + 1} of ${r.waves}`;
      if (c.size > 0 && c.failed / c.size > spec.maxFailureRate) {
        const e = await this.abort(r, `${label}: ${c.failed} of ${c.size} devices failed (${pct(c.failed / c.size)}, limit ${pct(spec.maxFailureRate)})`, nowMs);
        if (e) events.push(e);
        continue;
      }
      if (c.size === 0) { // every target of the wave was cancelled by the operator
        const detail = `cancelled in wave ${wave + 1} of ${r.waves}`;
        if (await this.finish(r, 'cancelled', detail, nowMs)) events.push({ jobId: r.job_id, action: 'cancelled', wave, detail });
        continue;
      }
      if (c.finished < c.size || nowMs < Number(r.wave_started_ms) + spec.intervalS * 1000) continue;
      if (spec.maxRegressionRate !== undefined) {
        const n = await this.regressed(r.job_id, wave);
        if (n / c.size > spec.maxRegressionRate) {
          const e = await this.abort(r, `${label}: ${n} of ${c.size} devices regressed (${pct(n / c.size)}, limit ${pct(spec.maxRegressionRate)})`, nowMs);
          if (e) events.push(e);
          continue;
        }
      }
      if (wave + 1 >= Number(r.waves)) {
        const detail = `${r.waves} wave(s) done`;
        if (await this.finish(r, 'completed', detail, nowMs)) events.push({ jobId: r.job_id, action: 'completed', wave, detail });
        continue;
      }
      const next = await this.waveCounts(r.job_id, wave + 1);
      if (next.size === 0) { // the operator cancelled the job: its held targets are cancelled, nothing is left to send
        const detail = `cancelled before wave ${wave + 2} of ${r.waves}`;
        if (await this.finish(r, 'cancelled', detail, nowMs)) events.push({ jobId: r.job_id, action: 'cancelled', wave, detail });
        continue;
      }
      const took = await this.sql.run("UPDATE rollouts SET wave = ?, wave_started_ms = ?, updated_ms = ? WHERE job_id = ? AND wave = ? AND state = 'running'", [wave + 1, nowMs, nowMs, r.job_id, wave]);
      if (took === 0) continue;
      await this.sql.run("UPDATE job_targets SET state = 'queued', activity_ms = ? WHERE job_id = ? AND wave = ? AND state = 'held'", [nowMs, r.job_id, wave + 1]);
      events.push({ jobId: r.job_id, action: 'released', wave: wave + 1, detail: `wave ${wave + 2} of ${r.waves}: ${next.size} device(s)` });
    }
    return events;
  }
}
