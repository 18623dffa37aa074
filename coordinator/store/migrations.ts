/**
 * The coordinator's schema, one list for both engines. Migration i brings the schema to version i+1.
 * The SQL is written once; only the few type names that differ between the dialects are tokens:
 * `{{id}}` an auto-numbered primary key, `{{ms}}` a 64-bit integer (epoch milliseconds overflow
 * PostgreSQL's 32-bit INTEGER; SQLite's INTEGER is 64-bit already), `{{ref}}` a column holding an `{{id}}`. SQLite's rendering of migration 1
 * is the exact text of the original SQLite schema, so existing files upgrade in place.
 */
export type SqlDialect = 'sqlite' | 'postgres';

const TOKENS: Record<SqlDialect, Record<string, string>> = {
  sqlite: { id: 'INTEGER PRIMARY KEY', ms: 'INTEGER', ref: 'INTEGER' },
  postgres: { id: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', ms: 'BIGINT', ref: 'BIGINT' },
};

const MIGRATIONS = [
  `CREATE TABLE devices (
     device_id TEXT PRIMARY KEY,
     profile TEXT NOT NULL,
     allowed TEXT NOT NULL,
     first_seen_ms {{ms}} NOT NULL,
     last_seen_ms {{ms}} NOT NULL,
     online INTEGER NOT NULL DEFAULT 0,
     heartbeat TEXT,
     out_seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE jobs (
     job_id TEXT PRIMARY KEY,
     plan TEXT NOT NULL,
     created_ms {{ms}} NOT NULL,
     timeout_s REAL NOT NULL,
     max_attempts INTEGER NOT NULL
   );
   CREATE TABLE job_targets (
     job_id TEXT NOT NULL REFERENCES jobs(job_id),
     device_id TEXT NOT NULL,
     state TEXT NOT NULL,
     attempt INTEGER NOT NULL DEFAULT 0,
     done INTEGER NOT NULL DEFAULT 0,
     total INTEGER NOT NULL DEFAULT 0,
     detail TEXT,
     progress_seq INTEGER NOT NULL DEFAULT -1,
     activity_ms {{ms}},
     PRIMARY KEY (job_id, device_id)
   );
   CREATE TABLE results (
     id {{id}},
     message_id TEXT NOT NULL UNIQUE,
     device_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     sent_at TEXT NOT NULL,
     job_id TEXT NOT NULL,
     record_key TEXT NOT NULL,
     probe TEXT NOT NULL,
     model_name TEXT NOT NULL,
     variant_name TEXT NOT NULL,
     record TEXT NOT NULL,
     received_ms {{ms}} NOT NULL,
     UNIQUE (device_id, job_id, record_key)
   );
   CREATE INDEX results_by_model ON results (model_name, variant_name, probe);
   CREATE TABLE rejected_messages (
     id {{id}},
     topic TEXT NOT NULL,
     device_id TEXT,
     message_id TEXT,
     reason TEXT NOT NULL,
     received_ms {{ms}} NOT NULL
   );`,
  // 2: how each device was admitted (coordinator/security/admission.ts). Devices registered before this
  // column existed stay NULL, i.e. not admitted, until their next register message (sent on every connect).
  `ALTER TABLE devices ADD COLUMN admitted_via TEXT;`,
  // 3: scale-out: results from the load simulator are flagged; heartbeat history with retention; the
  // lease that gives one coordinator replica at a time the dispatch and timeout duty
  `ALTER TABLE results ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE heartbeats (
     id {{id}},
     message_id TEXT NOT NULL UNIQUE,
     device_id TEXT NOT NULL,
     sent_at TEXT NOT NULL,
     received_ms {{ms}} NOT NULL,
     payload TEXT NOT NULL
   );
   CREATE INDEX heartbeats_by_time ON heartbeats (received_ms);
   CREATE TABLE leases (
     name TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     expires_ms {{ms}} NOT NULL
   );`,
  // 4: monitoring (coordinator/monitoring): alerts raised from regressions, one row per regression (its
  // key), with their deliveries (MQTT, webhook; a delivery out of attempts is the dead letter); plan
  // schedules and what each of their runs did per device
  `CREATE TABLE alerts (
     id {{id}},
     alert_key TEXT NOT NULL UNIQUE,
     kind TEXT NOT NULL,
     device_id TEXT NOT NULL,
     model_name TEXT NOT NULL,
     variant_name TEXT NOT NULL,
     metric TEXT NOT NULL,
     before_job TEXT NOT NULL,
     after_job TEXT NOT NULL,
     regression TEXT NOT NULL,
     state TEXT NOT NULL,
     created_ms {{ms}} NOT NULL,
     acked_ms {{ms}},
     acked_by TEXT
   );
   CREATE INDEX alerts_by_state ON alerts (state, created_ms);
   CREATE TABLE alert_deliveries (
     alert_id {{ref}} NOT NULL,
     channel TEXT NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_ms {{ms}} NOT NULL,
     last_error TEXT,
     PRIMARY KEY (alert_id, channel)
   );
   CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_ms);
   CREATE TABLE schedules (
     schedule_id TEXT PRIMARY KEY,
     plan TEXT NOT NULL,
     target TEXT NOT NULL,
     every_ms {{ms}},
     cron TEXT,
     state TEXT NOT NULL,
     next_ms {{ms}} NOT NULL,
     created_ms {{ms}} NOT NULL,
     timeout_s REAL NOT NULL,
     max_attempts INTEGER NOT NULL
   );
   CREATE TABLE schedule_runs (
     schedule_id TEXT NOT NULL,
     due_ms {{ms}} NOT NULL,
     device_id TEXT NOT NULL,
     state TEXT NOT NULL,
     job_id TEXT,
     updated_ms {{ms}} NOT NULL,
     PRIMARY KEY (schedule_id, due_ms, device_id)
   );`,
  // 5: the monitoring's per-series reads (one device x model x variant, a time window) and its
  // incremental evaluation (results since the last one evaluated, the consistency band job by job) use
  // indexes instead of a scan
  `CREATE INDEX results_by_series ON results (device_id, model_name, variant_name, received_ms);
   CREATE INDEX results_by_job ON results (job_id, probe);`,
  // 6: staged rollouts (coordinator/rollouts): each target's wave (later waves wait as 'held'), one row
  // per rolled-out job with its spec and where it stands; a schedule can roll each of its runs out
  `ALTER TABLE job_targets ADD COLUMN wave INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE rollouts (
     job_id TEXT PRIMARY KEY REFERENCES jobs(job_id),
     spec TEXT NOT NULL,
     waves INTEGER NOT NULL,
     wave INTEGER NOT NULL,
     state TEXT NOT NULL,
     wave_started_ms {{ms}} NOT NULL,
     updated_ms {{ms}} NOT NULL,
     detail TEXT
   );
   CREATE INDEX rollouts_by_state ON rollouts (state);
   CREATE INDEX job_targets_by_wave ON job_targets (job_id, wave, state);
   ALTER TABLE schedules ADD COLUMN rollout TEXT;`,
  // 7: the views' per-result facts (coordinator/report/record-view.ts): the report, /api/data and the
  // HTML export read the current record of each row and the rows' counts from here, not every result
  `CREATE TABLE result_view (
     result_id {{ref}} PRIMARY KEY,
     device_id TEXT NOT NULL,
     model_name TEXT NOT NULL,
     variant_name TEXT NOT NULL,
     probe TEXT NOT NULL,
     series_key TEXT NOT NULL,
     readable INTEGER NOT NULL,
     invalid INTEGER NOT NULL
   );
   CREATE INDEX result_view_current ON result_view (device_id, model_name, variant_name, probe, series_key, readable, result_id);`,
  // 8: views that scale (docs/monitoring.md): the current record of each device x model x variant x probe x
  // series kept as the record view indexes results (an upsert, not a GROUP BY over the history), with its
  // verdict status, so the fleet summary counts verdicts in SQL and a page of devices reads its own rows.
  // The record view is emptied so the reader indexes every result once more, now filling both tables.
  `CREATE TABLE current_view (
     device_id TEXT NOT NULL,
     model_name TEXT NOT NULL,
     variant_name TEXT NOT NULL,
     probe TEXT NOT NULL,
     series_key TEXT NOT NULL,
     result_id {{ref}} NOT NULL,
     status TEXT NOT NULL,
     PRIMARY KEY (device_id, model_name, variant_name, probe, series_key)
   );
   CREATE INDEX current_view_by_row ON current_view (model_name, variant_name, probe, status, result_id);
   DELETE FROM result_view;
   CREATE INDEX devices_by_last_seen ON devices (last_seen_ms);
   CREATE INDEX jobs_by_created ON jobs (created_ms);
   CREATE INDEX job_targets_by_activity ON job_targets (activity_ms);`,
];

const render = (dialect: SqlDialect, sql: string): string => sql.replace(/\{\{(\w+)\}\}/g, (_, t: string) => {
  const v = TOKENS[dialect][t];
  if (v === undefined) throw new Error(`unknown schema token {{${t}}}`);
  return v;
});

/** The migrations rendered for one engine. */
export function migrationsFor(dialect: SqlDialect): string[] {
  return MIGRATIONS.map((sql) => render(dialect, sql));
}

/**
 * Two lines of development each added their own migration 2: admission (`admitted_via`, now 2) and
 * scale-out (heartbeats, leases, `simulated`, now 3). A store written by the scale-out line before they
 * were merged says version 2 but holds migration 3's tables and lacks migration 2's column. Both engines
 * check for that shape before migrating: at `atVersion` with `markerTable` present, `sql` (migration 2)
 * is applied and the store is at `toVersion`, so nothing is applied twice and nothing is skipped.
 */
export interface DivergedSchemaRepair { atVersion: number; markerTable: string; sql: string; toVersion: number }

export function divergedSchemaRepair(dialect: SqlDialect): DivergedSchemaRepair {
  return { atVersion: 2, markerTable: 'leases', sql: render(dialect, MIGRATIONS[1]), toVersion: 3 };
}
