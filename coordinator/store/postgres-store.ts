import pg from 'pg';
import type { AdmittedVia } from '../security/admission.ts';
import type { PayloadOf } from '../../core/protocol/messages.ts';
import { normalizePlan, type JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { divergedSchemaRepair, migrationsFor } from './migrations.ts';
import { postgresRunner, type SqlRunner } from './sql-runner.ts';
import { FINAL_TARGET_STATES, type DataVersion, type Dispatch, type DeviceRow, type FleetStore, type HeartbeatRow, type JobTargetRow, type NewJob, type RejectedRow, type ResultRow, type StoredResult, type TargetState } from './store.ts';

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();
const FINAL_SQL = FINAL_TARGET_STATES.map((s) => `'${s}'`).join(', ');
// pg_advisory_xact_lock key serialising schema migrations when several replicas start at once
const MIGRATION_LOCK = 74_201_001;
// result rows per INSERT statement: 11 parameters each, far below PostgreSQL's 65,535 per statement
const INSERT_CHUNK = 1000;

// BIGINT columns (epoch ms) arrive as strings by default; they fit a double exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/**
 * The PostgreSQL engine, for several coordinator replicas sharing one store. Same schema (migrations.ts)
 * and the same operations as the SQLite engine; where SQLite relies on its single writer, this engine
 * uses row locks (`FOR UPDATE SKIP LOCKED`) and `ON CONFLICT DO NOTHING` so concurrent replicas never
 * store a message twice or claim one dispatch twice.
 */
export class PostgresStore implements FleetStore {
  // how every transaction starts: one round trip for BEGIN and its settings (chooseCompression may add one)
  private txStart = 'BEGIN; SET LOCAL synchronous_commit = on';

  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresStore> {
    // Single-statement writes (register, status, progress, rejections) commit asynchronously: waiting
    // for a WAL flush per message made a fleet's reconnect burst take minutes. Every transaction below
    // (results, heartbeats, jobs) commits synchronously, and its WAL flush also makes every earlier
    // asynchronous commit durable; only a PostgreSQL crash within ~wal_writer_delay can lose such a
    // write, and each has a recovery path (register on every connect, final job states repeated on retry).
    const pool = new pg.Pool({ connectionString: url, max: 4, options: '-c synchronous_commit=off' });
    pool.on('error', () => undefined); // an idle client's lost connection: the pool replaces it
    const store = new PostgresStore(pool);
    await store.migrate();
    await store.chooseCompression();
    return store;
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    // a checked-out client's lost connection (server restart) arrives as an 'error' event, which the
    // pool only listens to on idle clients: unheard it would crash the coordinator; the failing query
    // rejects as well and the ingest retries it. A broken client is destroyed, not returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error): void => { broken = err; };
    c.on('error', onError);
    try {
      await c.query(this.txStart);
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      if (!broken) await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.off('error', onError);
      c.release(broken ?? false);
    }
  }

  /**
   * Each ~7 KB result record is compressed into TOAST as it is written; lz4 does that at a fraction of
   * the CPU of PostgreSQL's default pglz. Used when the server has it (PostgreSQL 14+ built with lz4);
   * reading is the same either way (each value names its own method), so rows of both kinds mix freely.
   */
  private async chooseCompression(): Promise<void> {
    const r = await this.pool.query<{ enumvals: string[] | null }>(`SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'`);
    if (r.rows[0]?.enumvals?.includes('lz4')) this.txStart += '; SET LOCAL default_toast_compression = lz4';
  }

  /** Forward-only, tracked in `schema_version`; an advisory lock lets one replica at a time upgrade. */
  private async migrate(): Promise<void> {
    const migrations = migrationsFor('postgres');
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const row = (await c.query<{ version: number }>('SELECT version FROM schema_version')).rows[0];
      if (!row) await c.query('INSERT INTO schema_version (version) VALUES (0)');
      let current = row?.version ?? 0;
      // a database from before the two migration 2s were merged gets the one it lacks (migrations.ts)
      const repair = divergedSchemaRepair('postgres');
      if (current === repair.atVersion && (await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [repair.markerTable])).rows[0].t) {
        await c.query(repair.sql);
        current = repair.toVersion;
      }
      if (current > migrations.length) throw new Error(`database schema version ${current} is newer than this edgeprobe (${migrations.length}); upgrade edgeprobe`);
      for (let v = current; v < migrations.length; v++) await c.query(migrations[v]);
      await c.query('UPDATE schema_version SET version = $1', [migrations.length]);
    });
  }

  async ingestResults(rows: ResultRow[], nowMs: number): Promise<{ inserted: number; duplicates: number }> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    return this.tx(async (c) => {
      // One multi-row INSERT per chunk, every value its own parameter. Text arrays through unnest cost
      // more CPU than the rest of ingest: node-postgres escapes each ~7 KB JSON record (all those quotes)
      // into an array literal, which PostgreSQL then parses again.
      let inserted = 0;
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        const values: unknown[] = [nowMs];
        const tuples = chunk.map((r) => {
          const at = values.length;
          values.push(r.messageId, r.deviceId, r.seq, r.sentAt, r.jobId, r.recordKey, r.record.probe, r.record.model.name, r.record.variant.name, r.recordJson ?? JSON.stringify(r.record), r.simulated ? 1 : 0);
          return `($${at + 1}, $${at + 2}, $${at + 3}::int, $${at + 4}, $${at + 5}, $${at + 6}, $${at + 7}, $${at + 8}, $${at + 9}, $${at + 10}, $1::bigint, $${at + 11}::int)`;
        });
        const res = await c.query(`INSERT INTO results (message_id, device_id, seq, sent_at, job_id, record_key, probe, model_name, variant_name, record, received_ms, simulated)
          VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
        inserted += res.rowCount ?? 0;
      }
      const pairs = [...new Set(rows.map((r) => `${r.jobId}\u0000${r.deviceId}`))].map((k) => k.split('\u0000'));
      await c.query(`UPDATE job_targets t SET activity_ms = $1 FROM unnest($2::text[], $3::text[]) AS u(j, d)
        WHERE t.job_id = u.j AND t.device_id = u.d AND t.state NOT IN (${FINAL_SQL})`, [nowMs, pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
      await c.query('UPDATE devices SET last_seen_ms = $1 WHERE device_id = ANY($2::text[])', [nowMs, [...new Set(rows.map((r) => r.deviceId))]]);
      return { inserted, duplicates: rows.length - inserted };
    });
  }

  async isJobTarget(jobId: string, deviceId: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM job_targets WHERE job_id = $1 AND device_id = $2', [jobId, deviceId])).rowCount ?? 0) > 0;
  }

  async isKnownDevice(deviceId: string): Promise<boolean> {
    return ((await this.pool.query('SELECT 1 FROM devices WHERE device_id = $1', [deviceId])).rowCount ?? 0) > 0;
  }

  async registrationOf(deviceId: string): Promise<{ via: AdmittedVia } | undefined> {
    const via = (await this.pool.query<{ via: string | null }>('SELECT admitted_via AS via FROM devices WHERE device_id = $1', [deviceId])).rows[0]?.via;
    return via ? { via: via as AdmittedVia } : undefined;
  }

  async registerDevice(deviceId: string, p: PayloadOf<'register'>, admittedVia: AdmittedVia, nowMs: number): Promise<void> {
    await this.pool.query(`INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms, online, admitted_via) VALUES ($1, $2, $3, $4, $4, 1, $5)
      ON CONFLICT (device_id) DO UPDATE SET profile = excluded.profile, allowed = excluded.allowed, last_seen_ms = excluded.last_seen_ms, online = 1,
        admitted_via = excluded.admitted_via`,
    [deviceId, JSON.stringify(p.profile), JSON.stringify(p.allowed), nowMs, admittedVia]);
  }

  async setOnline(deviceId: string, online: boolean, nowMs: number): Promise<void> {
    await this.pool.query('UPDATE devices SET online = $1, last_seen_ms = GREATEST(last_seen_ms, $2) WHERE device_id = $3', [online ? 1 : 0, nowMs, deviceId]);
  }

  async recordHeartbeats(rows: HeartbeatRow[], nowMs: number): Promise<void> {
    if (rows.length === 0) return;
    const payloads = rows.map((r) => JSON.stringify(r.heartbeat));
    await this.tx(async (c) => {
      await c.query(`INSERT INTO heartbeats (message_id, device_id, sent_at, received_ms, payload)
        SELECT m, d, s, $4, p FROM unnest($1::text[], $2::text[], $3::text[], $5::text[]) AS u(m, d, s, p) ON CONFLICT DO NOTHING`,
      [rows.map((r) => r.messageId), rows.map((r) => r.deviceId), rows.map((r) => r.sentAt), nowMs, payloads]);
      // the latest heartbeat per device wins (DISTINCT ON keeps the last one of this batch)
      await c.query(`UPDATE devices SET heartbeat = u.p, last_seen_ms = $3, online = 1
        FROM (SELECT DISTINCT ON (d) d, p FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(d, p, n) ORDER BY d, n DESC) AS u
        WHERE devices.device_id = u.d`, [rows.map((r) => r.deviceId), payloads, nowMs]);
      const active = rows.filter((r) => r.heartbeat.activeJobId);
      if (active.length > 0) {
        await c.query(`UPDATE job_targets t SET activity_ms = $1 FROM unnest($2::text[], $3::text[]) AS u(j, d)
          WHERE t.job_id = u.j AND t.device_id = u.d AND t.state NOT IN (${FINAL_SQL})`, [nowMs, active.map((r) => r.heartbeat.activeJobId), active.map((r) => r.deviceId)]);
      }
    });
  }

  async pruneHeartbeats(beforeMs: number): Promise<number> {
    return (await this.pool.query('DELETE FROM heartbeats WHERE received_ms < $1', [beforeMs])).rowCount ?? 0;
  }

  async acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): Promise<boolean> {
    const res = await this.pool.query<{ owner: string }>(`INSERT INTO leases (name, owner, expires_ms) VALUES ($1, $2, $3)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_ms = excluded.expires_ms
        WHERE leases.owner = excluded.owner OR leases.expires_ms < $4 RETURNING owner`, [name, owner, nowMs + ttlMs, nowMs]);
    return res.rows[0]?.owner === owner;
  }

  async recordProgress(deviceId: string, seq: number, p: PayloadOf<'progress'>, nowMs: number): Promise<void> {
    // 'accepted'/'running' never overwrite a final state; done/total 0 means "state only" (a repeated final state)
    await this.pool.query(`UPDATE job_targets SET state = $1, progress_seq = $2, activity_ms = $3, detail = COALESCE($4, detail),
        done = CASE WHEN $6::int > 0 THEN $5 ELSE done END, total = CASE WHEN $6::int > 0 THEN $6 ELSE total END
      WHERE job_id = $7 AND device_id = $8 AND progress_seq < $2
        AND (state NOT IN (${FINAL_SQL}) OR $1 IN (${FINAL_SQL}))`,
    [p.state, seq, nowMs, p.detail ?? null, p.done, p.total, p.jobId, deviceId]);
    await this.pool.query('UPDATE devices SET last_seen_ms = $1 WHERE device_id = $2', [nowMs, deviceId]);
  }

  async recordRejected(topic: string, deviceId: string | null, messageId: string | null, reason: string, nowMs: number): Promise<void> {
    await this.pool.query('INSERT INTO rejected_messages (topic, device_id, message_id, reason, received_ms) VALUES ($1, $2, $3, $4, $5)', [topic, deviceId, messageId, reason.slice(0, 2000), nowMs]);
  }

  async recordRejectedMany(rows: RejectedRow[], nowMs: number): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(`INSERT INTO rejected_messages (topic, device_id, message_id, reason, received_ms)
      SELECT t, d, m, r, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(t, d, m, r)`,
    [rows.map((r) => r.topic), rows.map((r) => r.deviceId), rows.map((r) => r.messageId), rows.map((r) => r.reason.slice(0, 2000)), nowMs]);
  }

  async createJob(job: NewJob, nowMs: number): Promise<void> {
    await this.tx(async (c) => {
      await c.query('INSERT INTO jobs (job_id, plan, created_ms, timeout_s, max_attempts) VALUES ($1, $2, $3, $4, $5)', [job.jobId, JSON.stringify(job.plan), nowMs, job.timeoutS, job.maxAttempts]);
      const waves = job.devices.map((_, i) => job.rollout?.waves[i] ?? 0);
      await c.query("INSERT INTO job_targets (job_id, device_id, state, wave) SELECT $1, d, CASE WHEN w = 0 THEN 'queued' ELSE 'held' END, w FROM unnest($2::text[], $3::int[]) AS u(d, w)", [job.jobId, job.devices, waves]);
      if (job.rollout) {
        await c.query("INSERT INTO rollouts (job_id, spec, waves, wave, state, wave_started_ms, updated_ms) VALUES ($1, $2, $3, 0, 'running', $4, $4)",
          [job.jobId, JSON.stringify(job.rollout.spec), Math.max(0, ...waves) + 1, nowMs]);
      }
    });
  }

  async claimDispatches(nowMs: number): Promise<Dispatch[]> {
    return this.tx(async (c) => {
      // SKIP LOCKED: a second dispatcher (another replica, `jobs submit --broker`) skips rows being claimed
      const rows = (await c.query<{ jobId: string; deviceId: string; attempt: number; plan: string }>(
        `SELECT t.job_id AS "jobId", t.device_id AS "deviceId", t.attempt, j.plan FROM job_targets t
         JOIN jobs j ON j.job_id = t.job_id JOIN devices d ON d.device_id = t.device_id
         WHERE t.state = 'queued' AND d.online = 1 ORDER BY j.created_ms FOR UPDATE OF t SKIP LOCKED`)).rows;
      const out: Dispatch[] = [];
      for (const r of rows) {
        await c.query("UPDATE job_targets SET state = 'dispatched', attempt = $1, activity_ms = $2 WHERE job_id = $3 AND device_id = $4", [r.attempt + 1, nowMs, r.jobId, r.deviceId]);
        const seq = (await c.query<{ out_seq: number }>('UPDATE devices SET out_seq = out_seq + 1 WHERE device_id = $1 RETURNING out_seq', [r.deviceId])).rows[0].out_seq;
        out.push({ jobId: r.jobId, deviceId: r.deviceId, attempt: r.attempt + 1, plan: normalizePlan(JSON.parse(r.plan)) as JobPlan, seq });
      }
      return out;
    });
  }

  async refuseDispatch(jobId: string, deviceId: string, reason: string, nowMs: number): Promise<void> {
    await this.pool.query("UPDATE job_targets SET state = 'rejected', detail = $1, activity_ms = $2 WHERE job_id = $3 AND device_id = $4", [reason.slice(0, 2000), nowMs, jobId, deviceId]);
  }

  async expireSilent(nowMs: number): Promise<{ retried: number; timedOut: number }> {
    return this.tx(async (c) => {
      const silent = `FROM jobs j WHERE j.job_id = t.job_id AND t.state IN ('dispatched', 'accepted', 'running') AND t.activity_ms < $1 - j.timeout_s * 1000`;
      const timedOut = (await c.query(`UPDATE job_targets t SET state = 'timed-out', detail = 'no progress within the timeout after ' || t.attempt || ' attempt(s)'
        ${silent} AND t.attempt >= j.max_attempts`, [nowMs])).rowCount ?? 0;
      const retried = (await c.query(`UPDATE job_targets t SET state = 'queued' ${silent} AND t.attempt < j.max_attempts`, [nowMs])).rowCount ?? 0;
      return { retried, timedOut };
    });
  }

  async cancelJob(jobId: string, nowMs: number): Promise<Array<{ deviceId: string; seq: number }>> {
    return this.tx(async (c) => {
      const open = (await c.query<{ deviceId: string }>(`UPDATE job_targets SET state = 'cancelled', detail = 'cancelled by the operator', activity_ms = $1
        WHERE job_id = $2 AND state NOT IN (${FINAL_SQL}) RETURNING device_id AS "deviceId"`, [nowMs, jobId])).rows;
      const out: Array<{ deviceId: string; seq: number }> = [];
      for (const o of open.sort((a, b) => a.deviceId.localeCompare(b.deviceId))) {
        const seq = (await c.query<{ out_seq: number }>('UPDATE devices SET out_seq = out_seq + 1 WHERE device_id = $1 RETURNING out_seq', [o.deviceId])).rows[0].out_seq;
        out.push({ deviceId: o.deviceId, seq });
      }
      return out;
    });
  }

  async devices(): Promise<DeviceRow[]> {
    const rows = (await this.pool.query<{ deviceId: string; profile: string; allowed: string; first: number; last: number; online: number; heartbeat: string | null; via: string | null }>(
      'SELECT device_id AS "deviceId", profile, allowed, first_seen_ms AS first, last_seen_ms AS last, online, heartbeat, admitted_via AS via FROM devices ORDER BY device_id COLLATE "C"')).rows;
    return rows.map((r) => ({
      deviceId: r.deviceId, profile: JSON.parse(r.profile), allowed: JSON.parse(r.allowed), firstSeen: iso(r.first), lastSeen: iso(r.last),
      online: r.online === 1, heartbeat: r.heartbeat ? JSON.parse(r.heartbeat) : null, admittedVia: (r.via ?? undefined) as AdmittedVia | undefined,
    }));
  }

  async jobTargets(jobId?: string): Promise<JobTargetRow[]> {
    const rows = (await this.pool.query<Omit<JobTargetRow, 'createdAt'> & { created: number }>(
      `SELECT t.job_id AS "jobId", t.device_id AS "deviceId", t.state, t.attempt, t.done, t.total, t.detail, t.wave, j.created_ms AS created
       FROM job_targets t JOIN jobs j ON j.job_id = t.job_id WHERE ($1::text IS NULL OR t.job_id = $1) ORDER BY j.created_ms, t.device_id COLLATE "C"`, [jobId ?? null])).rows;
    return rows.map(({ created, ...r }) => ({ ...r, state: r.state as TargetState, createdAt: iso(created) }));
  }

  async results(): Promise<StoredResult[]> {
    const rows = (await this.pool.query<{ messageId: string; deviceId: string; seq: number; sentAt: string; jobId: string; recordKey: string; record: string; received: number; simulated: number }>(
      `SELECT message_id AS "messageId", device_id AS "deviceId", seq, sent_at AS "sentAt", job_id AS "jobId", record_key AS "recordKey", record, received_ms AS received, simulated
       FROM results ORDER BY id`)).rows;
    return rows.map(({ record, received, simulated, ...r }) => ({ ...r, record: JSON.parse(record) as ProbeRecord, receivedAt: iso(received), simulated: simulated === 1 }));
  }

  async counts(): Promise<{ results: number; rejected: number; devices: number }> {
    const r = (await this.pool.query<{ results: number; rejected: number; devices: number }>(
      'SELECT (SELECT COUNT(*) FROM results)::int AS results, (SELECT COUNT(*) FROM rejected_messages)::int AS rejected, (SELECT COUNT(*) FROM devices)::int AS devices')).rows[0];
    return { results: r.results, rejected: r.rejected, devices: r.devices };
  }

  async rejected(limit: number): Promise<Array<{ topic: string; deviceId: string | null; reason: string; receivedAt: string }>> {
    const rows = (await this.pool.query<{ topic: string; deviceId: string | null; reason: string; received: number }>(
      'SELECT topic, device_id AS "deviceId", reason, received_ms AS received FROM rejected_messages ORDER BY id DESC LIMIT $1', [limit])).rows;
    return rows.map(({ received, ...r }) => ({ ...r, receivedAt: iso(received) }));
  }

  // --- dashboard queries ---
  async dataVersion(): Promise<DataVersion> {
    // one round trip; the dashboard polls this every second or so
    const r = (await this.pool.query<{ results: number | null; jobs: number | null; devices: number | null }>(
      'SELECT (SELECT MAX(id) FROM results) AS results, (SELECT MAX(activity_ms) FROM job_targets) AS jobs, (SELECT MAX(last_seen_ms) FROM devices) AS devices')).rows[0];
    return { lastResultId: Number(r.results ?? 0), jobActivityMs: Number(r.jobs ?? 0), deviceSeenMs: Number(r.devices ?? 0) };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  sql(): SqlRunner {
    return postgresRunner(this.pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
