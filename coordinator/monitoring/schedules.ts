import { randomBytes } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { epError } from '../../core/errors.ts';
import { normalizePlan, type JobPlan } from '../../core/protocol/plan.ts';
import type { SqlRunner } from '../store/sql-runner.ts';
import { FINAL_TARGET_STATES, type FleetStore, type NewJob } from '../store/store.ts';
import { planWaves, type RolloutSpec } from '../rollouts/rollout-spec.ts';

/** Which devices a schedule runs on: fixed ids, or a pattern on device ids resolved at every run (new devices join). */
export interface ScheduleTarget { devices?: string[]; group?: string }
export type ScheduleState = 'active' | 'paused';

export interface Schedule {
  scheduleId: string;
  plan: JobPlan;
  target: ScheduleTarget;
  everyMs: number | null;
  cron: string | null;
  state: ScheduleState;
  nextRunAt: string;
  createdAt: string;
  timeoutS: number;
  maxAttempts: number;
  /** each run is rolled out in waves over the devices it runs on (coordinator/rollouts) */
  rollout: RolloutSpec | null;
}

/** What one run of a schedule did for one device. */
export type RunState = 'dispatched' | 'skipped-offline' | 'skipped-busy' | 'caught-up' | 'superseded';
export interface ScheduleRun { scheduleId: string; dueAt: string; deviceId: string; state: RunState; jobId: string | null }

export interface NewSchedule { plan: JobPlan; target: ScheduleTarget; everyHours?: number; cron?: string; startMs?: number; timeoutS: number; maxAttempts: number; rollout?: RolloutSpec }

interface Row { schedule_id: string; plan: string; target: string; every_ms: number | null; cron: string | null; state: ScheduleState; next_ms: number; created_ms: number; timeout_s: number; max_attempts: number; rollout: string | null }
const iso = (ms: number): string => new Date(Number(ms)).toISOString();
const toSchedule = (r: Row): Schedule => ({
  scheduleId: r.schedule_id, plan: normalizePlan(JSON.parse(r.plan)) as JobPlan, target: JSON.parse(r.target) as ScheduleTarget,
  everyMs: r.every_ms === null ? null : Number(r.every_ms), cron: r.cron, state: r.state, nextRunAt: iso(r.next_ms), createdAt: iso(r.created_ms),
  timeoutS: Number(r.timeout_s), maxAttempts: Number(r.max_attempts), rollout: r.rollout ? JSON.parse(r.rollout) as RolloutSpec : null,
});

/** A run's job, rolled out in waves when the schedule says so (devices in the order resolved). */
const runJob = (s: Schedule, jobId: string, devices: string[]): NewJob => ({
  jobId, plan: s.plan, devices, timeoutS: s.timeoutS, maxAttempts: s.maxAttempts,
  ...(s.rollout ? { rollout: { spec: s.rollout, waves: planWaves(s.rollout, devices.length) } } : {}),
});

/** The first due time after `afterMs`: on the `every` grid from `anchorMs`, or the cron expression's next time (UTC). */
export function nextDue(s: { everyMs: number | null; cron: string | null }, anchorMs: number, afterMs: number): number {
  if (s.everyMs !== null) return anchorMs + s.everyMs * (Math.floor((afterMs - anchorMs) / s.everyMs) + 1);
  return CronExpressionParser.parse(s.cron!, { currentDate: new Date(afterMs), tz: 'UTC' }).next().getTime();
}

/** `pi-*` -> /^pi-.*$/: device ids are letters, digits, _ and -, so only * and ? are special. */
export const groupPattern = (group: string): RegExp => new RegExp(`^${group.replace(/[^a-zA-Z0-9_*?-]/g, '').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

const stamp = (ms: number): string => iso(ms).replace(/[-:T]/g, '').slice(0, 14);

export class ScheduleStore {
  constructor(private readonly sql: SqlRunner) {}

  async add(s: NewSchedule, nowMs: number): Promise<Schedule> {
    if ((s.everyHours === undefined) === (s.cron === undefined)) throw epError('EP_SCHEDULE_CADENCE');
    if (s.everyHours !== undefined && !(s.everyHours > 0)) throw epError('EP_SCHEDULE_EVERY_INVALID', { value: String(s.everyHours) });
    if (s.cron !== undefined) {
      try { CronExpressionParser.parse(s.cron, { tz: 'UTC', strict: false }); } catch (err) { throw epError('EP_SCHEDULE_CRON_INVALID', { cron: JSON.stringify(s.cron), reason: (err as Error).message }); }
    }
    if (!s.target.devices?.length && !s.target.group) throw epError('EP_SCHEDULE_TARGET');
    const id = randomBytes(4).toString('hex');
    const everyMs = s.everyHours === undefined ? null : Math.round(s.everyHours * 3_600_000);
    // an interval schedule runs first at its start (now by default); a cron schedule at its next time
    const first = s.startMs ?? (everyMs !== null ? nowMs : nextDue({ everyMs, cron: s.cron! }, nowMs, nowMs));
    await this.sql.run('INSERT INTO schedules (schedule_id, plan, target, every_ms, cron, state, next_ms, created_ms, timeout_s, max_attempts, rollout) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [id, JSON.stringify(s.plan), JSON.stringify(s.target), everyMs, s.cron ?? null, 'active', first, nowMs, s.timeoutS, s.maxAttempts, s.rollout ? JSON.stringify(s.rollout) : null]);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Schedule | undefined> {
    const [r] = await this.sql.all<Row>('SELECT * FROM schedules WHERE schedule_id = ?', [id]);
    return r && toSchedule(r);
  }

  async list(): Promise<Schedule[]> {
    return (await this.sql.all<Row>('SELECT * FROM schedules ORDER BY created_ms, schedule_id')).map(toSchedule);
  }

  async setState(id: string, state: ScheduleState): Promise<void> {
    if ((await this.sql.run('UPDATE schedules SET state = ? WHERE schedule_id = ?', [state, id])) === 0) throw epError('EP_SCHEDULE_UNKNOWN', { id });
  }

  /** Removes the schedule; its jobs and their results stay (they are the monitoring's history). */
  async remove(id: string): Promise<void> {
    if ((await this.sql.run('DELETE FROM schedules WHERE schedule_id = ?', [id])) === 0) throw epError('EP_SCHEDULE_UNKNOWN', { id });
    await this.sql.run('DELETE FROM schedule_runs WHERE schedule_id = ?', [id]);
  }

  async runs(id?: string): Promise<ScheduleRun[]> {
    const rows = await this.sql.all<{ schedule_id: string; due_ms: number; device_id: string; state: RunState; job_id: string | null }>(
      `SELECT schedule_id, due_ms, device_id, state, job_id FROM schedule_runs ${id ? 'WHERE schedule_id = ?' : ''} ORDER BY due_ms, device_id`, id ? [id] : []);
    return rows.map((r) => ({ scheduleId: r.schedule_id, dueAt: iso(r.due_ms), deviceId: r.device_id, state: r.state, jobId: r.job_id }));
  }

  /**
   * One scheduler round (the coordinator's lease holder runs it with dispatch): every active schedule
   * that is due gets one job for its devices that are online and idle; the others are recorded as skipped
   * (offline or busy). A device skipped at the latest due time gets a catch-up job of its own when it is
   * back and idle; older skips are superseded by the newer run, so a device away for days runs once, not
   * once per missed slot. Missed slots of the coordinator itself (it was down) collapse the same way.
   */
  async runDue(store: FleetStore, nowMs: number): Promise<{ jobs: string[]; skipped: number; caughtUp: number }> {
    const jobs: string[] = [];
    let skipped = 0, caughtUp = 0;
    const devices = await this.sql.all<{ device_id: string; online: number }>('SELECT device_id, online FROM devices');
    const busyRows = await this.sql.all<{ device_id: string }>(`SELECT DISTINCT device_id FROM job_targets WHERE state NOT IN (${FINAL_TARGET_STATES.map((s) => `'${s}'`).join(', ')})`);
    const busy = new Set(busyRows.map((r) => r.device_id));
    const online = new Set(devices.filter((d) => Number(d.online) === 1).map((d) => d.device_id));
    const known = devices.map((d) => d.device_id);
    const ready = (d: string): boolean => online.has(d) && !busy.has(d);

    for (const r of await this.sql.all<Row>(`SELECT * FROM schedules WHERE state = 'active'`)) {
      const s = toSchedule(r);
      const targets = s.target.devices ? s.target.devices.filter((d) => known.includes(d)) : known.filter((d) => groupPattern(s.target.group!).test(d));
      const due = Number(r.next_ms);
      if (due <= nowMs) {
        // advanced first: a second replica (or a crash and restart) never runs the same slot twice
        const claimed = await this.sql.run('UPDATE schedules SET next_ms = ? WHERE schedule_id = ? AND next_ms = ?', [nextDue(s, due, nowMs), s.scheduleId, due]);
        if (claimed === 0) continue;
        await this.sql.run(`UPDATE schedule_runs SET state = 'superseded', updated_ms = ? WHERE schedule_id = ? AND state IN ('skipped-offline', 'skipped-busy')`, [nowMs, s.scheduleId]);
        const go = targets.filter(ready);
        const jobId = `sched-${s.scheduleId}-${stamp(due)}`;
        if (go.length) {
          await store.createJob(runJob(s, jobId, go), nowMs);
          jobs.push(jobId);
          for (const d of go) busy.add(d);
        }
        for (const d of targets) {
          const state: RunState = go.includes(d) ? 'dispatched' : online.has(d) ? 'skipped-busy' : 'skipped-offline';
          if (state !== 'dispatched') skipped++;
          await this.sql.run('INSERT INTO schedule_runs (schedule_id, due_ms, device_id, state, job_id, updated_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (schedule_id, due_ms, device_id) DO NOTHING',
            [s.scheduleId, due, d, state, state === 'dispatched' ? jobId : null, nowMs]);
        }
        continue;
      }
      // catch-up of the latest slot for devices that were away or busy and are ready now
      const missed = await this.sql.all<{ due_ms: number; device_id: string }>(`SELECT due_ms, device_id FROM schedule_runs WHERE schedule_id = ? AND state IN ('skipped-offline', 'skipped-busy')`, [s.scheduleId]);
      for (const m of missed) {
        if (!ready(m.device_id)) continue;
        const jobId = `sched-${s.scheduleId}-${stamp(Number(m.due_ms))}-c${randomBytes(3).toString('hex')}`;
        const took = await this.sql.run(`UPDATE schedule_runs SET state = 'caught-up', job_id = ?, updated_ms = ? WHERE schedule_id = ? AND due_ms = ? AND device_id = ? AND state IN ('skipped-offline', 'skipped-busy')`,
          [jobId, nowMs, s.scheduleId, m.due_ms, m.device_id]);
        if (took === 0) continue;
        await store.createJob(runJob(s, jobId, [m.device_id]), nowMs);
        busy.add(m.device_id);
        jobs.push(jobId);
        caughtUp++;
      }
    }
    return { jobs, skipped, caughtUp };
  }
}
