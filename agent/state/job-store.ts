import { normalizePlan, type JobPlan } from '../../core/protocol/plan.ts';
import type { JobState } from '../../core/protocol/messages.ts';
import type { StateDb } from './state-db.ts';

export interface StoredJob { jobId: string; attempt: number; plan: JobPlan; state: JobState; detail: string | null }

export const FINAL_STATES: readonly JobState[] = ['completed', 'failed', 'rejected', 'cancelled'];

/** Jobs the agent has received, so unfinished ones resume after a crash and redeliveries are recognised. */
export class JobStore {
  constructor(private readonly db: StateDb) {}

  get(jobId: string): StoredJob | undefined {
    const row = this.db.prepare<[string], { jobId: string; attempt: number; plan: string; state: JobState; detail: string | null }>(
      'SELECT job_id AS jobId, attempt, plan, state, detail FROM jobs WHERE job_id = ?').get(jobId);
    return row ? { ...row, plan: normalizePlan(JSON.parse(row.plan)) as JobPlan } : undefined;
  }

  insert(jobId: string, attempt: number, plan: JobPlan, state: JobState, detail: string | null = null): void {
    const now = new Date().toISOString();
    this.db.prepare('INSERT INTO jobs (job_id, attempt, plan, state, detail, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(jobId, attempt, JSON.stringify(plan), state, detail, now, now);
  }

  setState(jobId: string, state: JobState, detail: string | null = null): void {
    this.db.prepare('UPDATE jobs SET state = ?, detail = ?, updated_at = ? WHERE job_id = ?').run(state, detail, new Date().toISOString(), jobId);
  }

  setAttempt(jobId: string, attempt: number): void {
    this.db.prepare('UPDATE jobs SET attempt = MAX(attempt, ?) WHERE job_id = ?').run(attempt, jobId);
  }

  /** Jobs accepted but not finished, oldest first: what a restarted agent resumes. */
  unfinished(): StoredJob[] {
    const finals = FINAL_STATES.map((st) => `'${st}'`).join(', ');
    const rows = this.db.prepare<[], { jobId: string }>(`SELECT job_id AS jobId FROM jobs WHERE state NOT IN (${finals}) ORDER BY received_at`).all();
    return rows.map((r) => this.get(r.jobId)!);
  }

  hasRecord(jobId: string, recordKey: string): boolean {
    return this.db.prepare('SELECT 1 FROM job_records WHERE job_id = ? AND record_key = ?').get(jobId, recordKey) !== undefined;
  }

  markRecord(jobId: string, recordKey: string): void {
    this.db.prepare('INSERT INTO job_records (job_id, record_key) VALUES (?, ?)').run(jobId, recordKey);
  }
}
