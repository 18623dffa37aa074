/**
 * A damaged agent state file (real SQLite files, corrupted the ways disks and copies corrupt them): the
 * agent never starts over silently and never crash-loops. The damaged file is moved aside and kept, the
 * warning names it and says how many outbox rows were salvaged, the new file holds those rows (same
 * message ids, so nothing is stored twice) and a sequence counter above the old one.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { openStateDb } from '../agent/state/state-db.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-state-damage-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const record = syntheticBenchmarkRecord(new SeededRandom(5));

/** A state dir whose outbox holds `n` results, each in its own commit; `keepWal` leaves them in an un-checkpointed WAL (copied as after a crash). */
function stateWith(name: string, n: number, keepWal = false): { dir: string; ids: string[] } {
  const live = join(tmp, `${name}-live`);
  const db = openStateDb(live);
  db.pragma('wal_autocheckpoint = 0');
  const outbox = new Outbox(db, 'dev-1');
  const ids = Array.from({ length: n }, (_, i) => outbox.enqueue(deviceTopic('dev-1', 'results'), 'results', { jobId: 'j', recordKey: `k${i}`, record, simulated: true }).messageId);
  const dir = join(tmp, name);
  openStateDb(dir).close();
  if (keepWal) {
    // the files as a power cut leaves them: main file plus a WAL that was never checkpointed
    copyFileSync(join(live, 'agent.sqlite'), join(dir, 'agent.sqlite'));
    copyFileSync(join(live, 'agent.sqlite-wal'), join(dir, 'agent.sqlite-wal'));
    rmSync(join(dir, 'agent.sqlite-shm'), { force: true });
    db.close();
  } else {
    db.close();
    copyFileSync(join(live, 'agent.sqlite'), join(dir, 'agent.sqlite'));
    rmSync(join(dir, 'agent.sqlite-wal'), { force: true });
    rmSync(join(dir, 'agent.sqlite-shm'), { force: true });
  }
  return { dir, ids };
}

function reopen(dir: string): { warnings: Array<{ message: string; fields: Record<string, unknown> }>; rows: string[]; seq: number } {
  const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
  const db = openStateDb(dir, (message, fields) => warnings.push({ message, fields }));
  try {
    const rows = (db.prepare('SELECT message_id AS mid FROM outbox ORDER BY outbox.id').all() as Array<{ mid: string }>).map((r) => r.mid);
    const seq = (db.prepare("SELECT value FROM meta WHERE key = 'seq'").get() as { value: number }).value;
    return { warnings, rows, seq };
  } finally {
    db.close();
  }
}

describe('agent state file damage', () => {
  test('an intact file opens without a warning', () => {
    const { dir, ids } = stateWith('intact', 5);
    const r = reopen(dir);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.rows, ids);
  });

  test('truncated to 0 bytes: moved aside, named, nothing salvageable, counter not reset silently', () => {
    const { dir } = stateWith('empty', 5);
    truncateSync(join(dir, 'agent.sqlite'), 0);
    const r = reopen(dir);
    assert.equal(r.warnings.length, 1);
    const w = r.warnings[0];
    assert.match(w.message, /damaged: moved aside/);
    assert.equal(w.fields.file, join(dir, 'agent.sqlite'));
    assert.match(String(w.fields.problem), /empty \(0 bytes\)/);
    assert.equal(w.fields.outboxRowsSalvaged, 0);
    assert.ok(existsSync(String(w.fields.keptAs)), 'the damaged file is kept');
    assert.ok(r.seq >= 100_000, 'the new counter starts above anything the old file could have sent recently');
  });

  test('garbage header: moved aside, a new file instead of exiting on every start', () => {
    const { dir } = stateWith('garbage', 5);
    const fd = openSync(join(dir, 'agent.sqlite'), 'r+');
    writeSync(fd, Buffer.alloc(100, 0xab), 0, 100, 0);
    closeSync(fd);
    const r = reopen(dir);
    assert.equal(r.warnings.length, 1);
    assert.match(String(r.warnings[0].fields.problem), /not a database|malformed/);
    assert.equal(r.rows.length, 0, 'nothing readable in a file without a header');
    assert.ok(existsSync(String(r.warnings[0].fields.keptAs)));
    // and the next start is a normal one
    assert.deepEqual(reopen(dir).warnings, []);
  });

  test('half truncated: the readable outbox rows are carried over with their message ids', () => {
    const { dir, ids } = stateWith('half', 400);
    const file = join(dir, 'agent.sqlite');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const r = reopen(dir);
    assert.equal(r.warnings.length, 1);
    assert.match(String(r.warnings[0].fields.problem), /malformed|quick_check|not a database/);
    const salvaged = Number(r.warnings[0].fields.outboxRowsSalvaged);
    assert.equal(r.rows.length, salvaged);
    assert.ok(r.rows.every((id) => ids.includes(id)), 'salvaged rows keep their message ids');
    const old = readFileSync(String(r.warnings[0].fields.keptAs));
    assert.equal(old.length, Math.floor(statSync(String(r.warnings[0].fields.keptAs)).size), 'kept as it was');
  });

  test('torn WAL: the complete commits are kept, the torn tail is copied aside and reported', () => {
    const { dir, ids } = stateWith('torn', 60, true);
    const wal = join(dir, 'agent.sqlite-wal');
    const size = statSync(wal).size;
    truncateSync(wal, size - 1500); // cut inside the last frames
    const r = reopen(dir);
    const torn = r.warnings.find((w) => /WAL file is torn/.test(w.message));
    assert.ok(torn, `a warning about the torn WAL: ${JSON.stringify(r.warnings)}`);
    assert.equal(torn.fields.file, wal);
    assert.ok(existsSync(String(torn.fields.keptAs)), 'the torn WAL is kept');
    assert.equal(statSync(String(torn.fields.keptAs)).size, size - 1500);
    assert.ok(r.rows.length < 60 && r.rows.length > 0, `complete commits survive (${r.rows.length} of 60)`);
    assert.deepEqual(r.rows, ids.slice(0, r.rows.length), 'the surviving rows are the oldest, in order');
  });
});
