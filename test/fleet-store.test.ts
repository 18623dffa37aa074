/**
 * The coordinator store suite, run against both engines with the same expectations: SQLite (always)
 * and PostgreSQL (a real server started by test/helpers/postgres.ts; skipped when it is not installed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { migrationsFor } from '../coordinator/store/migrations.ts';
import { openFleetStore } from '../coordinator/store/open-store.ts';
import { PostgresStore } from '../coordinator/store/postgres-store.ts';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import type { FleetStore } from '../coordinator/store/store.ts';
import { needsPostgres, Postgres } from '../harness/postgres.ts';
import { coded } from './helpers/coded-errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const SHA = 'a'.repeat(64);
const record = (): ProbeRecord => ({
  recordVersion: 2, probe: 'benchmark', model: { name: 'm', sha256: SHA }, variant: { name: 'fp32', sha256: SHA },
  verdict: { status: 'measured', summary: 's' }, durationS: 0.1, createdAt: new Date().toISOString(), data: {},
});
const profile = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0.1.0' };
const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const row = (messageId: string, recordKey: string, simulated = false) => ({ messageId, deviceId: 'pi-01', seq: 1, sentAt: new Date().toISOString(), jobId: 'j1', recordKey, record: record(), simulated });
const heartbeat = (load: number, activeJobId: string | null = null) => ({ loadPercent: load, memUsedBytes: 1, memTotalBytes: 2, temperatureC: null, rssBytes: 1, uptimeS: 1, outboxPending: 0, activeJobId });
const plan = { models: [{ name: 'm' }], variants: ['fp32' as const], probes: ['benchmark' as const] };

/** The same expectations for every engine; `open` gives a fresh, empty store. */
function storeSuite(engine: string, open: () => Promise<FleetStore>, skip: string | false): void {
  describe(`coordinator store (${engine})`, { skip }, () => {
    let store: FleetStore;
    before(async () => { store = await open(); });
    after(async () => { await store?.close(); });

    test('ingest is idempotent by message id and by record key; simulated rows are flagged', async () => {
      await store.registerDevice('pi-01', { profile, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', 1000);
      assert.equal(await store.isKnownDevice('pi-01'), true);
      assert.equal(await store.isKnownDevice('ghost'), false);
      assert.deepEqual(await store.ingestResults([row(id(1), 'k0'), row(id(2), 'k1', true)], 2000), { inserted: 2, duplicates: 0 });
      // same message resent; and the same record under a new id (re-queued after a crash)
      assert.deepEqual(await store.ingestResults([row(id(1), 'k0'), row(id(3), 'k1')], 3000), { inserted: 0, duplicates: 2 });
      // duplicates inside one batch
      assert.deepEqual(await store.ingestResults([row(id(4), 'k2'), row(id(4), 'k2')], 3000), { inserted: 1, duplicates: 1 });
      assert.equal((await store.counts()).results, 3);
      const results = await store.results();
      assert.deepEqual(results.map((r) => [r.recordKey, r.simulated]), [['k0', false], ['k1', true], ['k2', false]]);
      assert.equal(results[0].receivedAt, new Date(2000).toISOString());
    });

    test('dispatch claims once, progress applies by sequence, silence retries then times out', async () => {
      await store.createJob({ jobId: 'j2', plan, devices: ['pi-01'], timeoutS: 10, maxAttempts: 2 }, 0);
      const first = await store.claimDispatches(1000);
      assert.deepEqual(first.map((d) => [d.jobId, d.attempt]), [['j2', 1]]);
      assert.deepEqual(first[0].plan, plan);
      assert.deepEqual(await store.claimDispatches(1000), [], 'a claimed target is not dispatched twice');
      await store.recordProgress('pi-01', 10, { jobId: 'j2', attempt: 1, state: 'running', done: 1, total: 2 }, 2000);
      await store.recordProgress('pi-01', 9, { jobId: 'j2', attempt: 1, state: 'accepted', done: 0, total: 0 }, 2001);
      const t = (await store.jobTargets('j2'))[0];
      assert.deepEqual([t.state, t.done, t.total], ['running', 1, 2], 'an older progress message does not win');
      assert.deepEqual(await store.expireSilent(2000 + 9_000), { retried: 0, timedOut: 0 });
      assert.deepEqual(await store.expireSilent(2000 + 11_000), { retried: 1, timedOut: 0 });
      assert.equal((await store.claimDispatches(13_100))[0].attempt, 2);
      assert.deepEqual(await store.expireSilent(13_100 + 11_000), { retried: 0, timedOut: 1 });
      assert.equal((await store.jobTargets('j2'))[0].state, 'timed-out');
    });

    test('devices offline are not dispatched to; cancel returns the devices with increasing sequence numbers', async () => {
      await store.setOnline('pi-01', false, 50_000);
      await store.createJob({ jobId: 'j3', plan, devices: ['pi-01'], timeoutS: 10, maxAttempts: 1 }, 50_000);
      assert.deepEqual(await store.claimDispatches(50_001), []);
      await store.setOnline('pi-01', true, 50_002);
      const [d] = await store.claimDispatches(50_003);
      const cancelled = await store.cancelJob('j3', 50_004);
      assert.deepEqual(cancelled, [{ deviceId: 'pi-01', seq: d.seq + 1 }]);
      assert.equal((await store.jobTargets('j3'))[0].state, 'cancelled');
      assert.deepEqual(await store.cancelJob('j3', 50_005), [], 'a finished job has nothing to cancel');
    });

    test('heartbeats: history once per message id, latest on the device, keeps its job alive, pruned by age', async () => {
      await store.createJob({ jobId: 'j4', plan, devices: ['pi-01'], timeoutS: 10, maxAttempts: 1 }, 60_000);
      await store.claimDispatches(60_000);
      await store.recordHeartbeats([
        { messageId: id(11), deviceId: 'pi-01', sentAt: new Date(61_000).toISOString(), heartbeat: heartbeat(10, 'j4') },
        { messageId: id(12), deviceId: 'pi-01', sentAt: new Date(62_000).toISOString(), heartbeat: heartbeat(20, 'j4') },
      ], 65_000);
      await store.recordHeartbeats([{ messageId: id(12), deviceId: 'pi-01', sentAt: new Date(62_000).toISOString(), heartbeat: heartbeat(20) }], 80_000);
      const dev = (await store.devices())[0];
      assert.equal(dev.heartbeat?.loadPercent, 20, 'the last heartbeat of a batch is the latest');
      assert.deepEqual(await store.expireSilent(65_000 + 9_000), { retried: 0, timedOut: 0 }, 'the heartbeat naming the job counts as activity');
      // two rows (the resent id 12 at 80 s was not stored again), both received at 65 s
      assert.equal(await store.pruneHeartbeats(64_000), 0);
      assert.equal(await store.pruneHeartbeats(70_000), 2);
      assert.equal(await store.pruneHeartbeats(90_000), 0);
    });

    test('registrations keep their admission route; a refresh replaces it; an unknown device has none', async () => {
      assert.deepEqual(await store.registrationOf('pi-01'), { via: 'allow-list' });
      assert.equal(await store.registrationOf('ghost'), undefined);
      await store.registerDevice('pi-02', { profile, allowed: { models: [], probes: ['benchmark'] } }, 'fleet-token', 110_000);
      await store.registerDevice('pi-02', { profile: { ...profile, cores: 8 }, allowed: { models: [], probes: ['benchmark'] } }, 'device-token', 111_000);
      assert.deepEqual(await store.registrationOf('pi-02'), { via: 'device-token' });
      const pi02 = (await store.devices()).find((d) => d.deviceId === 'pi-02')!;
      assert.deepEqual([pi02.admittedVia, pi02.profile.cores, pi02.firstSeen, pi02.lastSeen], ['device-token', 8, new Date(110_000).toISOString(), new Date(111_000).toISOString()]);
      assert.deepEqual((await store.devices()).map((d) => d.deviceId), ['pi-01', 'pi-02']);
    });

    test('a refused dispatch is final: state rejected with the reason, never claimed again', async () => {
      await store.createJob({ jobId: 'j5', plan, devices: ['pi-02'], timeoutS: 10, maxAttempts: 3 }, 120_000);
      const [d] = await store.claimDispatches(120_001);
      assert.equal(d.jobId, 'j5');
      await store.refuseDispatch('j5', 'pi-02', 'plan breaks the policy: model not allowed', 120_002);
      const t = (await store.jobTargets('j5'))[0];
      assert.deepEqual([t.state, t.detail], ['rejected', 'plan breaks the policy: model not allowed']);
      await store.expireSilent(999_000); // (times out the heartbeat test's job j4, dispatched and silent)
      assert.equal((await store.jobTargets('j5'))[0].state, 'rejected', 'a final state does not time out');
      assert.deepEqual(await store.claimDispatches(999_001), []);
    });

    test('rejected messages are kept newest first and counted', async () => {
      const before = (await store.counts()).rejected;
      await store.recordRejected('edgeprobe/v1/devices/x/results', 'x', null, 'not-registered: unknown device x', 130_000);
      await store.recordRejected('bad/topic', null, id(99), `bad-topic: ${'r'.repeat(3000)}`, 131_000);
      assert.equal((await store.counts()).rejected, before + 2);
      const [newest, older] = await store.rejected(2);
      assert.deepEqual([newest.topic, newest.deviceId, newest.reason.length, newest.receivedAt], ['bad/topic', null, 2000, new Date(131_000).toISOString()], 'reasons are cut at 2000 characters');
      assert.deepEqual([older.deviceId, older.reason], ['x', 'not-registered: unknown device x']);
    });

    test('the data version moves with each kind of write the dashboard shows, and only then', async () => {
      const v0 = await store.dataVersion();
      assert.deepEqual(await store.dataVersion(), v0, 'reading changes nothing');
      await store.ingestResults([row(id(20), 'k20')], 140_000);
      const v1 = await store.dataVersion();
      assert.ok(v1.lastResultId > v0.lastResultId, 'a new result');
      assert.equal(v1.deviceSeenMs, 140_000);
      await store.createJob({ jobId: 'j6', plan, devices: ['pi-01'], timeoutS: 10, maxAttempts: 1 }, 141_000);
      await store.claimDispatches(141_000);
      await store.recordProgress('pi-01', 100, { jobId: 'j6', attempt: 1, state: 'running', done: 1, total: 3 }, 142_000);
      const v2 = await store.dataVersion();
      assert.deepEqual([v2.lastResultId, v2.jobActivityMs, v2.deviceSeenMs], [v1.lastResultId, 142_000, 142_000]);
      await store.setOnline('pi-02', false, 143_000);
      assert.equal((await store.dataVersion()).deviceSeenMs, 143_000);
    });

    test('the duty lease has one owner; it passes only after it expires', async () => {
      assert.equal(await store.acquireLease('dispatch', 'a', 5000, 100_000), true);
      assert.equal(await store.acquireLease('dispatch', 'b', 5000, 101_000), false);
      assert.equal(await store.acquireLease('dispatch', 'a', 5000, 104_000), true, 'the owner renews');
      assert.equal(await store.acquireLease('dispatch', 'b', 5000, 108_999), false, 'still valid until 109 s');
      assert.equal(await store.acquireLease('dispatch', 'b', 5000, 109_001), true, 'expired: b takes over');
      assert.equal(await store.acquireLease('dispatch', 'a', 5000, 109_002), false);
    });
  });
}

storeSuite('sqlite', async () => new SqliteStore(join(tmp, `fleet-${Date.now()}.sqlite`)), false);

let pgServer: Postgres | undefined;
let dbCount = 0;
const pgDb = async (): Promise<string> => {
  pgServer ??= await Postgres.start();
  return pgServer.createdb(`store_${++dbCount}`);
};
after(async () => { await pgServer?.dispose(); });
storeSuite('postgres', async () => PostgresStore.open(await pgDb()), needsPostgres);

describe('store engines share one schema', () => {
  test('SQLite migration 1 renders to the original SQLite schema text; tokens differ only where the dialects do', () => {
    const [sqlite1] = migrationsFor('sqlite');
    const [pg1] = migrationsFor('postgres');
    assert.match(sqlite1, /id INTEGER PRIMARY KEY,/);
    assert.match(sqlite1, /received_ms INTEGER NOT NULL/);
    assert.match(pg1, /id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,/);
    assert.match(pg1, /received_ms BIGINT NOT NULL/);
    assert.equal(sqlite1.replace(/INTEGER PRIMARY KEY|INTEGER/g, 'X'), pg1.replace(/BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY|BIGINT|INTEGER/g, 'X'));
  });

  test('a SQLite file at schema version 1 upgrades in place and keeps its rows', async () => {
    const path = join(tmp, 'v1.sqlite');
    const db = new Database(path);
    db.exec(migrationsFor('sqlite')[0]);
    db.pragma('user_version = 1');
    db.prepare("INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms) VALUES ('old', ?, ?, 1, 1)").run(JSON.stringify(profile), JSON.stringify({ models: [], probes: [] }));
    db.close();
    const store = await openFleetStore(path);
    assert.deepEqual((await store.devices()).map((d) => d.deviceId), ['old']);
    assert.equal(await store.acquireLease('dispatch', 'x', 1000, 0), true, 'migration 2 added the lease table');
    await store.close();
  });

  test('a SQLite file from the admission line (version 2: admitted_via) gets migration 3 and keeps its registrations', async () => {
    const path = join(tmp, 'admission-v2.sqlite');
    const db = new Database(path);
    for (const sql of migrationsFor('sqlite').slice(0, 2)) db.exec(sql);
    db.pragma('user_version = 2');
    db.prepare("INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms, admitted_via) VALUES ('pi', ?, ?, 1, 1, 'allow-list')").run(JSON.stringify(profile), JSON.stringify({ models: [], probes: [] }));
    db.close();
    const store = await openFleetStore(path);
    assert.deepEqual(await store.registrationOf('pi'), { via: 'allow-list' });
    assert.equal(await store.acquireLease('dispatch', 'x', 1000, 0), true, 'migration 3 added the lease table');
    await store.close();
    assert.equal(new Database(path).pragma('user_version', { simple: true }), migrationsFor('sqlite').length);
  });

  test('a SQLite file from the scale-out line (its version 2 is migration 3) gets the admitted_via column it lacks', async () => {
    const path = join(tmp, 'scale-v2.sqlite');
    const db = new Database(path);
    const m = migrationsFor('sqlite');
    db.exec(m[0]);
    db.exec(m[2]);
    db.pragma('user_version = 2');
    db.prepare("INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms) VALUES ('old', ?, ?, 1, 1)").run(JSON.stringify(profile), JSON.stringify({ models: [], probes: [] }));
    db.prepare("INSERT INTO leases (name, owner, expires_ms) VALUES ('dispatch', 'other', 5000)").run();
    db.close();
    const store = await openFleetStore(path);
    assert.equal(await store.registrationOf('old'), undefined, 'registered before admission: not admitted until it registers again');
    assert.equal(await store.acquireLease('dispatch', 'x', 1000, 0), false, 'the lease rows survived');
    await store.registerDevice('old', { profile, allowed: { models: [], probes: [] } }, 'fleet-token', 10);
    assert.deepEqual(await store.registrationOf('old'), { via: 'fleet-token' });
    await store.close();
    assert.equal(new Database(path).pragma('user_version', { simple: true }), m.length);
  });

  test('a PostgreSQL database from the scale-out line (version 2 without admitted_via) is repaired the same way', { skip: needsPostgres }, async () => {
    const url = await pgDb();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const m = migrationsFor('postgres');
    await c.query(m[0]);
    await c.query(m[2]);
    await c.query('CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (2)');
    await c.query("INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms) VALUES ('old', $1, $2, 1, 1)", [JSON.stringify(profile), JSON.stringify({ models: [], probes: [] })]);
    const store = await PostgresStore.open(url);
    assert.equal(await store.registrationOf('old'), undefined);
    await store.registerDevice('old', { profile, allowed: { models: [], probes: [] } }, 'allow-list', 10);
    assert.equal((await store.devices())[0].admittedVia, 'allow-list');
    await store.close();
    assert.equal((await c.query('SELECT version FROM schema_version')).rows[0].version, m.length);
    await c.end();
  });

  test('PostgreSQL migrations run once even when replicas open the store at the same time', { skip: needsPostgres }, async () => {
    const url = await pgDb();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
    assert.deepEqual(await stores[0].counts(), { results: 0, rejected: 0, devices: 0 });
    await Promise.all(stores.map((s) => s.close()));
  });

  test('a bad PostgreSQL URL is a coded error that hides the password', async () => {
    await assert.rejects(openFleetStore('postgres://u:secret@127.0.0.1:1/none'), (e: Error) => coded('EP_POSTGRES_UNAVAILABLE', { url: /^postgres:\/\/u:\*\*\*@/ })(e) && !e.message.includes('secret'));
  });
});

test('SQLite: two processes writing one store at once (a coordinator and fleet submit) never fail with "database is locked"; each job is claimed once', async () => {
  // each writer creates 300 jobs and claims what is queued right after, so both read-then-write at the same
  // time all along; a deferred transaction fails there at once (WAL's snapshot rule), BEGIN IMMEDIATE waits
  const file = join(tmp, 'contention.sqlite');
  const s = new SqliteStore(file);
  for (const d of ['c-a', 'c-b']) { s.registerDevice(d, { profile, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', 1); s.setOnline(d, true, 1); }
  s.close();
  const { spawn } = await import('node:child_process');
  const writer = (tag: string, device: string) => new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'helpers', 'store-contention.ts'), file, tag, device, '300']);
    let out = '', err = '';
    c.stdout.on('data', (b: Buffer) => { out += b; });
    c.stderr.on('data', (b: Buffer) => { err += b; });
    c.on('close', (code) => resolve({ code, out, err }));
  });
  const runs = await Promise.all([writer('a', 'c-a'), writer('b', 'c-b')]);
  for (const r of runs) assert.equal(r.code, 0, r.err.slice(-1500));
  const claimed = runs.flatMap((r) => JSON.parse(r.out) as string[]);
  assert.equal(claimed.length, 600, 'every job claimed');
  assert.equal(new Set(claimed).size, 600, 'no job claimed twice');
});
