import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../core/sqlite-migrate.ts';
import { divergedSchemaRepair, migrationsFor } from './migrations.ts';
import { sqliteRunner, type SqlRunner } from './sql-runner.ts';
import type { AdmittedVia } from '../security/admission.ts';
import type { PayloadOf } from '../../core/protocol/messages.ts';
import { normalizePlan, type JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { FINAL_TARGET_STATES, type DataVersion, type Dispatch, type DeviceRow, type FleetStore, type HeartbeatRow, type JobTargetRow, type NewJob, type RejectedRow, type ResultRow, type StoredResult, type TargetState } from './store.ts';

const iso = (ms: number): string => new Date(ms).toISOString();
const FINAL_SQL = FINAL_TARGET_STATES.map((s) => `'${s}'`).join(', ');

/** The SQLite engine: WAL so `edgeprobe report` and `jobs submit` can read and write while the coordinator runs. */
export class SqliteStore implements FleetStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // the coordinator and CLI commands (fleet submit, jobs) share the file: every write transaction below is
    // BEGIN IMMEDIATE, so a second writer waits up to the busy timeout at BEGIN. A deferred transaction that
    // reads, then writes, fails at once with "database is locked" when another connection committed in
    // between (WAL's snapshot rule: the busy handler cannot help there; seen in CI from fleet submit)
    this.db.pragma('busy_timeout = 5000');
    repairDivergedSchema(this.db);
    migrate(this.db, migrationsFor('sqlite'));
    const d = this.db;
    this.stmts = {
      insertResult: d.prepare(`INSERT OR IGNORE INTO results (message_id, device_id, seq, sent_at, job_id, record_key, probe, model_name, variant_name, record, received_ms, simulated)
        VALUES (@messageId, @deviceId, @seq, @sentAt, @jobId, @recordKey, @probe, @modelName, @variantName, @record, @receivedMs, @simulated)`),
      touchTarget: d.prepare(`UPDATE job_targets SET activity_ms = ? WHERE job_id = ? AND device_id = ? AND state NOT IN (${FINAL_SQL})`),
      touchDevice: d.prepare('UPDATE devices SET last_seen_ms = ? WHERE device_id = ?'),
      known: d.prepare('SELECT 1 FROM devices WHERE device_id = ?'),
      admittedVia: d.prepare<[string], { via: string | null }>('SELECT admitted_via AS via FROM devices WHERE device_id = ?'),
    };
  }

  ingestResults(rows: ResultRow[], nowMs: number): { inserted: number; duplicates: number } {
    return this.db.transaction(() => {
      let inserted = 0;
      const touched = new Set<string>();
      for (const r of rows) {
        const res = this.stmts.insertResult.run({
          messageId: r.messageId, deviceId: r.deviceId, seq: r.seq, sentAt: r.sentAt, jobId: r.jobId, recordKey: r.recordKey,
          probe: r.record.probe, modelName: r.record.model.name, variantName: r.record.variant.name, record: r.recordJson ?? JSON.stringify(r.record), receivedMs: nowMs, simulated: r.simulated ? 1 : 0,
        });
        inserted += res.changes;
        touched.add(`${r.jobId}\u0000${r.deviceId}`);
      }
      for (const key of touched) {
        const [jobId, deviceId] = key.split('\u0000');
        this.stmts.touchTarget.run(nowMs, jobId, deviceId);
        this.stmts.touchDevice.run(nowMs, deviceId);
      }
      return { inserted, duplicates: rows.length - inserted };
    }).immediate();
  }

  isJobTarget(jobId: string, deviceId: string): boolean {
    return this.db.prepare('SELECT 1 FROM job_targets WHERE job_id = ? AND device_id = ?').get(jobId, deviceId) !== undefined;
  }

  isKnownDevice(deviceId: string): boolean {
    return this.stmts.known.get(deviceId) !== undefined;
  }

  registrationOf(deviceId: string): { via: AdmittedVia } | undefined {
    const via = this.stmts.admittedVia.get(deviceId)?.via;
    return via ? { via: via as AdmittedVia } : undefined;
  }

  registerDevice(deviceId: string, p: PayloadOf<'register'>, admittedVia: AdmittedVia, nowMs: number): void {
    this.db.prepare(`INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms, online, admitted_via) VALUES (?, ?, ?, ?, ?, 1, ?)
      ON CONFLICT (device_id) DO UPDATE SET profile = excluded.profile, allowed = excluded.allowed, last_seen_ms = excluded.last_seen_ms, online = 1,
        admitted_via = excluded.admitted_via`)
      .run(deviceId, JSON.stringify(p.profile), JSON.stringify(p.allowed), nowMs, nowMs, admittedVia);
  }

  setOnline(deviceId: string, online: boolean, nowMs: number): void {
    this.db.prepare('UPDATE devices SET online = ?, last_seen_ms = MAX(last_seen_ms, ?) WHERE device_id = ?').run(online ? 1 : 0, nowMs, deviceId);
  }

  recordHeartbeats(rows: HeartbeatRow[], nowMs: number): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO heartbeats (message_id, device_id, sent_at, received_ms, payload) VALUES (?, ?, ?, ?, ?)');
    const latest = this.db.prepare('UPDATE devices SET heartbeat = ?, last_seen_ms = ?, online = 1 WHERE device_id = ?');
    this.db.transaction(() => {
      for (const r of rows) {
        const payload = JSON.stringify(r.heartbeat);
        insert.run(r.messageId, r.deviceId, r.sentAt, nowMs, payload);
        latest.run(payload, nowMs, r.deviceId);
        if (r.heartbeat.activeJobId) this.stmts.touchTarget.run(nowMs, r.heartbeat.activeJobId, r.deviceId);
      }
    }).immediate();
  }

  pruneHeartbeats(beforeMs: number): number {
    return this.db.prepare('DELETE FROM heartbeats WHERE received_ms < ?').run(beforeMs).changes;
  }

  acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): boolean {
    const row = this.db.prepare<[string, string, number, number], { owner: string }>(`INSERT INTO leases (name, owner, expires_ms) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms
        WHERE leases.owner = excluded.owner OR leases.expires_ms < ? RETURNING owner`).get(name, owner, nowMs + ttlMs, nowMs);
    return row?.owner === owner;
  }

  recordProgress(deviceId: string, seq: number, p: PayloadOf<'progress'>, nowMs: number): void {
    // 'accepted'/'running' never overwrite a final state; done/total 0 means "state only" (a repeated final state)
    this.db.prepare(`UPDATE job_targets SET state = @state, progress_seq = @seq, activity_ms = @now, detail = COALESCE(@detail, detail),
        done = CASE WHEN @total > 0 THEN @done ELSE done END, total = CASE WHEN @total > 0 THEN @total ELSE total END
      WHERE job_id = @jobId AND device_id = @deviceId AND progress_seq < @seq
        AND (state NOT IN (${FINAL_SQL}) OR @state IN (${FINAL_SQL}))`)
      .run({ state: p.state, seq, now: nowMs, detail: p.detail ?? null, done: p.done, total: p.total, jobId: p.jobId, deviceId });
    this.stmts.touchDevice.run(nowMs, deviceId);
  }

  recordRejected(topic: string, deviceId: string | null, messageId: string | null, reason: string, nowMs: number): void {
    this.db.prepare('INSERT INTO rejected_messages (topic, device_id, message_id, reason, received_ms) VALUES (?, ?, ?, ?, ?)').run(topic, deviceId, messageId, reason.slice(0, 2000), nowMs);
  }

  recordRejectedMany(rows: RejectedRow[], nowMs: number): void {
    const insert = this.db.prepare('INSERT INTO rejected_messages (topic, device_id, message_id, reason, received_ms) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.topic, r.deviceId, r.messageId, r.reason.slice(0, 2000), nowMs);
    }).immediate();
  }

  createJob(job: NewJob, nowMs: number): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO jobs (job_id, plan, created_ms, timeout_s, max_attempts) VALUES (?, ?, ?, ?, ?)')
        .run(job.jobId, JSON.stringify(job.plan), nowMs, job.timeoutS, job.maxAttempts);
      const t = this.db.prepare('INSERT INTO job_targets (job_id, device_id, state, wave) VALUES (?, ?, ?, ?)');
      const waves = job.rollout?.waves;
      job.devices.forEach((d, i) => t.run(job.jobId, d, (waves?.[i] ?? 0) === 0 ? 'queued' : 'held', waves?.[i] ?? 0));
      if (job.rollout) {
        this.db.prepare("INSERT INTO rollouts (job_id, spec, waves, wave, state, wave_started_ms, updated_ms) VALUES (?, ?, ?, 0, 'running', ?, ?)")
          .run(job.jobId, JSON.stringify(job.rollout.spec), Math.max(0, ...job.rollout.waves) + 1, nowMs, nowMs);
      }
    }).immediate();
  }

  claimDispatches(nowMs: number): Dispatch[] {
    return this.db.transaction(() => {
      const rows = this.db.prepare<[], { jobId: string; deviceId: string; attempt: number; plan: string }>(
        `SELECT t.job_id AS jobId, t.device_id AS deviceId, t.attempt, j.plan FROM job_targets t
         JOIN jobs j ON j.job_id = t.job_id JOIN devices d ON d.device_id = t.device_id
         WHERE t.state = 'queued' AND d.online = 1 ORDER BY j.created_ms`).all();
      const mark = this.db.prepare("UPDATE job_targets SET state = 'dispatched', attempt = ?, activity_ms = ? WHERE job_id = ? AND device_id = ? AND state = 'queued'");
      const seq = this.db.prepare<[string], { out_seq: number }>('UPDATE devices SET out_seq = out_seq + 1 WHERE device_id = ? RETURNING out_seq');
      return rows.map((r) => {
        mark.run(r.attempt + 1, nowMs, r.jobId, r.deviceId);
        return { jobId: r.jobId, deviceId: r.deviceId, attempt: r.attempt + 1, plan: normalizePlan(JSON.parse(r.plan)) as JobPlan, seq: seq.get(r.deviceId)!.out_seq };
      });
    }).immediate();
  }

  refuseDispatch(jobId: string, deviceId: string, reason: string, nowMs: number): void {
    this.db.prepare("UPDATE job_targets SET state = 'rejected', detail = ?, activity_ms = ? WHERE job_id = ? AND device_id = ?").run(reason.slice(0, 2000), nowMs, jobId, deviceId);
  }

  expireSilent(nowMs: number): { retried: number; timedOut: number } {
    return this.db.transaction(() => {
      const silent = `FROM job_targets t JOIN jobs j ON j.job_id = t.job_id
        WHERE t.state IN ('dispatched', 'accepted', 'running') AND t.activity_ms < @now - j.timeout_s * 1000`;
      const timedOut = this.db.prepare(`UPDATE job_targets SET state = 'timed-out', detail = 'no progress within the timeout after ' || attempt || ' attempt(s)'
        WHERE rowid IN (SELECT t.rowid ${silent} AND t.attempt >= j.max_attempts)`).run({ now: nowMs }).changes;
      const retried = this.db.prepare(`UPDATE job_targets SET state = 'queued'
        WHERE rowid IN (SELECT t.rowid ${silent} AND t.attempt < j.max_attempts)`).run({ now: nowMs }).changes;
      return { retried, timedOut };
    }).immediate();
  }

  cancelJob(jobId: string, nowMs: number): Array<{ deviceId: string; seq: number }> {
    return this.db.transaction(() => {
      const open = this.db.prepare<[string], { deviceId: string }>(`SELECT device_id AS deviceId FROM job_targets WHERE job_id = ? AND state NOT IN (${FINAL_SQL})`).all(jobId);
      this.db.prepare(`UPDATE job_targets SET state = 'cancelled', detail = 'cancelled by the operator', activity_ms = ? WHERE job_id = ? AND state NOT IN (${FINAL_SQL})`).run(nowMs, jobId);
      const seq = this.db.prepare<[string], { out_seq: number }>('UPDATE devices SET out_seq = out_seq + 1 WHERE device_id = ? RETURNING out_seq');
      return open.map((o) => ({ deviceId: o.deviceId, seq: seq.get(o.deviceId)!.out_seq }));
    }).immediate();
  }

  devices(): DeviceRow[] {
    const rows = this.db.prepare<[], { deviceId: string; profile: string; allowed: string; first: number; last: number; online: number; heartbeat: string | null; via: string | null }>(
      'SELECT device_id AS deviceId, profile, allowed, first_seen_ms AS first, last_seen_ms AS last, online, heartbeat, admitted_via AS via FROM devices ORDER BY device_id').all();
    return rows.map((r) => ({
      deviceId: r.deviceId, profile: JSON.parse(r.profile), allowed: JSON.parse(r.allowed), firstSeen: iso(r.first), lastSeen: iso(r.last),
      online: r.online === 1, heartbeat: r.heartbeat ? JSON.parse(r.heartbeat) : null, admittedVia: (r.via ?? undefined) as AdmittedVia | undefined,
    }));
  }

  jobTargets(jobId?: string): JobTargetRow[] {
    const rows = this.db.prepare<[string | null, string | null], Omit<JobTargetRow, 'createdAt'> & { created: number }>(
      `SELECT t.job_id AS jobId, t.device_id AS deviceId, t.state AS state, t.attempt, t.done, t.total, t.detail, t.wave, j.created_ms AS created
       FROM job_targets t JOIN jobs j ON j.job_id = t.job_id WHERE (? IS NULL OR t.job_id = ?) ORDER BY j.created_ms, t.device_id`).all(jobId ?? null, jobId ?? null);
    return rows.map(({ created, ...r }) => ({ ...r, state: r.state as TargetState, createdAt: iso(created) }));
  }

  results(): StoredResult[] {
    const rows = this.db.prepare<[], { messageId: string; deviceId: string; seq: number; sentAt: string; jobId: string; recordKey: string; record: string; received: number; simulated: number }>(
      `SELECT message_id AS messageId, device_id AS deviceId, seq, sent_at AS sentAt, job_id AS jobId, record_key AS recordKey, record, received_ms AS received, simulated
       FROM results ORDER BY id`).all();
    return rows.map(({ record, received, simulated, ...r }) => ({ ...r, record: JSON.parse(record) as ProbeRecord, receivedAt: iso(received), simulated: simulated === 1 }));
  }

  counts(): { results: number; rejected: number; devices: number } {
    const one = (sql: string): number => (this.db.prepare<[], { n: number }>(sql).get()!).n;
    return { results: one('SELECT COUNT(*) AS n FROM results'), rejected: one('SELECT COUNT(*) AS n FROM rejected_messages'), devices: one('SELECT COUNT(*) AS n FROM devices') };
  }

  rejected(limit: number): Array<{ topic: string; deviceId: string | null; reason: string; receivedAt: string }> {
    return this.db.prepare<[number], { topic: string; deviceId: string | null; reason: string; received: number }>(
      'SELECT topic, device_id AS deviceId, reason, received_ms AS received FROM rejected_messages ORDER BY id DESC LIMIT ?').all(limit)
      .map(({ received, ...r }) => ({ ...r, receivedAt: iso(received) }));
  }

  // --- dashboard queries (plain SQL that PostgreSQL accepts too) ---
  dataVersion(): DataVersion {
    const one = (sql: string): number => Number((this.db.prepare<[], { v: number | null }>(sql).get()!).v ?? 0);
    return {
      lastResultId: one('SELECT MAX(id) AS v FROM results'),
      jobActivityMs: one('SELECT MAX(activity_ms) AS v FROM job_targets'),
      deviceSeenMs: one('SELECT MAX(last_seen_ms) AS v FROM devices'),
    };
  }

  ping(): void {
    this.db.prepare('SELECT 1').get();
  }

  sql(): SqlRunner {
    return sqliteRunner(this.db);
  }

  close(): void {
    this.db.close();
  }
}

/** A file from before the two migration 2s were merged (migrations.ts, divergedSchemaRepair) gets the one it lacks. */
function repairDivergedSchema(db: Database.Database): void {
  const r = divergedSchemaRepair('sqlite');
  if (db.pragma('user_version', { simple: true }) !== r.atVersion) return;
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(r.markerTable)) return;
  db.transaction(() => {
    db.exec(r.sql);
    db.pragma(`user_version = ${r.toVersion}`);
  }).immediate();
}

export function openStore(path: string): SqliteStore {
  return new SqliteStore(path);
}
