import { closeSync, copyFileSync, existsSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/** What the start-up check found and did; every finding is also reported through `warn`. */
export interface IntegrityReport {
  /** where a damaged state file was moved (kept, never deleted) */
  movedTo?: string;
  /** outbox rows read back from the damaged file into the new one */
  salvaged: number;
  /** the WAL file was torn (its size is not a whole number of frames); a copy is kept here */
  tornWalCopy?: string;
}

export type IntegrityWarn = (message: string, fields: Record<string, unknown>) => void;

const WAL_HEADER = 32;
const WAL_FRAME_HEADER = 24;

/**
 * A WAL whose length is not header + whole frames was cut mid-write (disk full, a copy, a filesystem
 * without ordered writes). SQLite replays the valid frames and silently ignores the rest, so the file is
 * copied aside first and the agent says what it could not read. Returns the copy's path, or undefined.
 */
function keepTornWal(walPath: string, stamp: string): { copy: string; bytes: number; frameBytes: number } | undefined {
  if (!existsSync(walPath)) return undefined;
  const size = statSync(walPath).size;
  if (size === 0) return undefined;
  const header = Buffer.alloc(WAL_HEADER);
  const fd = openSync(walPath, 'r');
  try {
    readSync(fd, header, 0, WAL_HEADER, 0);
  } finally {
    closeSync(fd);
  }
  const magic = header.readUInt32BE(0);
  const pageSize = header.readUInt32BE(8);
  const valid = (magic === 0x377f0682 || magic === 0x377f0683) && pageSize >= 512 && pageSize <= 65536;
  const frame = WAL_FRAME_HEADER + pageSize;
  if (valid && size >= WAL_HEADER && (size - WAL_HEADER) % frame === 0) return undefined;
  const copy = `${walPath}.torn-${stamp}`;
  copyFileSync(walPath, copy);
  return { copy, bytes: size, frameBytes: valid ? frame : 0 };
}

/** Outbox rows that can still be read from a damaged file (read-only; stops at the first unreadable page). */
function salvageOutbox(path: string): Array<{ message_id: string; topic: string; body: string; created_at: string }> {
  const out: Array<{ message_id: string; topic: string; body: string; created_at: string }> = [];
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    for (const row of db.prepare('SELECT message_id, topic, body, created_at FROM outbox ORDER BY id').iterate()) out.push(row as (typeof out)[number]);
  } catch {
    // whatever was read before the damage is kept
  } finally {
    try { db?.close(); } catch { /* a file this broken may not even close */ }
  }
  return out;
}

/**
 * Opens the agent's state file after checking it: an empty file (truncated to 0 bytes), a file SQLite
 * cannot read (garbage or half-truncated header) or one failing `PRAGMA quick_check` is moved aside with
 * its WAL and shared-memory files (kept for inspection, never deleted); the outbox rows that can still be
 * read are copied into a new file, so their results are still delivered (same message ids: the coordinator
 * stores each once). `open` makes and migrates the new file.
 */
export function openCheckedStateFile(path: string, open: (path: string) => Database.Database, warn: IntegrityWarn,
  seqFloor: (salvaged: Array<{ body: string }>) => number): { db: Database.Database; report: IntegrityReport } {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report: IntegrityReport = { salvaged: 0 };
  let damage: string | undefined;
  // SQLite would take a 0-byte file for a new database and start over without a word
  if (existsSync(path) && statSync(path).size === 0) damage = 'the file is empty (0 bytes): its outbox, jobs and sequence counter are gone';
  if (!damage && existsSync(path)) {
    const torn = keepTornWal(`${path}-wal`, stamp);
    if (torn) {
      report.tornWalCopy = torn.copy;
      warn('agent state: the WAL file is torn; SQLite keeps only its complete commits, the rest is unreadable', {
        file: `${path}-wal`, bytes: torn.bytes, ...(torn.frameBytes ? { frameBytes: torn.frameBytes } : { header: 'invalid' }), keptAs: torn.copy,
      });
    }
    try {
      const db = open(path);
      const check = db.pragma('quick_check', { simple: true });
      if (check === 'ok') return { db, report };
      db.close();
      damage = `quick_check: ${String(check).slice(0, 200)}`;
    } catch (err) {
      damage = (err as Error).message;
    }
  }
  if (!damage) return { db: open(path), report };

  const movedTo = `${path}.damaged-${stamp}`;
  renameSync(path, movedTo);
  for (const ext of ['-wal', '-shm']) if (existsSync(path + ext)) renameSync(path + ext, movedTo + ext);
  const rows = salvageOutbox(movedTo);
  const db = open(path);
  const insert = db.prepare('INSERT OR IGNORE INTO outbox (message_id, topic, body, created_at) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const r of rows) insert.run(r.message_id, r.topic, r.body, r.created_at);
    // the sequence counter must keep increasing past everything the old file ever sent
    db.prepare("UPDATE meta SET value = MAX(value, ?) WHERE key = 'seq'").run(seqFloor(rows));
  })();
  report.movedTo = movedTo;
  report.salvaged = rows.length;
  warn('agent state file was damaged: moved aside and started a new one', { file: path, problem: damage, keptAs: movedTo, outboxRowsSalvaged: rows.length });
  return { db, report };
}
