import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../core/sqlite-migrate.ts';
import { openCheckedStateFile, type IntegrityWarn } from './state-integrity.ts';

/**
 * The agent's durable state: outbox of unacknowledged messages, jobs and which of their records are
 * already queued, and the message sequence counter. WAL with synchronous=FULL: a result the agent has
 * computed survives a power cut once written, which is the point of store-and-forward.
 */
const MIGRATIONS = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
   INSERT INTO meta (key, value) VALUES ('seq', 0);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     message_id TEXT NOT NULL UNIQUE,
     topic TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE jobs (
     job_id TEXT PRIMARY KEY,
     attempt INTEGER NOT NULL,
     plan TEXT NOT NULL,
     state TEXT NOT NULL,
     detail TEXT,
     received_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE job_records (job_id TEXT NOT NULL, record_key TEXT NOT NULL, PRIMARY KEY (job_id, record_key));`,
  // 2: a result stays after the broker's PUBACK (acked_ms set) until the coordinator's receipt deletes it
  `ALTER TABLE outbox ADD COLUMN acked_ms INTEGER;`,
];

export type StateDb = Database.Database;

function openFile(path: string): StateDb {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db, MIGRATIONS);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Opens (and checks, state-integrity.ts) the state file. `warn` hears about damage: a damaged file is
 * moved aside and replaced, its readable outbox rows carried over; without `warn` damage is an error.
 */
export function openStateDb(stateDir: string, warn?: IntegrityWarn): StateDb {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, 'agent.sqlite');
  if (!warn) return openFile(path);
  // seq restarts above every salvaged message's, plus a margin for the ones that were not salvaged
  const seqFloor = (rows: Array<{ body: string }>): number => rows.reduce((m, r) => {
    try { return Math.max(m, Number((JSON.parse(r.body) as { seq?: number }).seq ?? 0)); } catch { return m; }
  }, 0) + 100_000;
  return openCheckedStateFile(path, openFile, warn, seqFloor).db;
}
