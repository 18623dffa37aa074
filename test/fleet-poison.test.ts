/**
 * Poison messages from an admitted device (real Mosquitto with the shipped config, real PostgreSQL, a real
 * coordinator process): deep nesting, a seq beyond int4, 1e309, U+0000, impossible timestamps, oversized
 * arrays, progress counters beyond int4. Each is rejected, recorded and acknowledged once (no redelivery
 * loop), the coordinator stays up, and two valid devices keep ingesting: every result they got a PUBACK for
 * is stored. The ingest latency of valid results without and during the burst is printed (p50/p99), not
 * asserted: no deadline may assume a fast machine. Then PostgreSQL is restarted mid-stream: the coordinator
 * holds its PUBACKs, does not drop its connection, and resumes with nothing lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { quantile } from 'simple-statistics';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { needsPostgres, Postgres } from '../harness/postgres.ts';
import { ResultLoad } from './helpers/result-load.ts';
import { needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';

const GOOD = ['good-1', 'good-2'];
const BAD = 'bad-1';

let diagnose: () => Promise<string> = async () => '';
async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${await diagnose()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The poison kinds, each a complete MQTT payload on a topic of the bad device. */
function poisons(): Array<{ kind: string; topic: string; payload: string }> {
  const record = syntheticBenchmarkRecord(new SeededRandom(3));
  const results = (patch: (m: ReturnType<typeof makeMessage<'results'>>) => void = () => {}) => {
    const m = makeMessage(BAD, 1, 'results', { jobId: 'load', recordKey: `p/${Math.random()}`, record: { ...record, data: { x: 1 } }, simulated: true });
    patch(m);
    return m;
  };
  const topic = deviceTopic(BAD, 'results');
  const deep = 10_000;
  return [
    { kind: 'deep', topic, payload: encodeMessage(results()).replace('{"x":1}', `${'['.repeat(deep)}${']'.repeat(deep)}`) },
    { kind: 'seq-int4', topic, payload: encodeMessage(results((m) => { m.seq = 2 ** 31; })) },
    { kind: 'infinite', topic, payload: encodeMessage(results()).replace('{"x":1}', '{"x":1e309}') },
    { kind: 'nul', topic, payload: encodeMessage(results((m) => { m.payload.record.model = { ...m.payload.record.model, name: 'm\u0000' }; })) },
    { kind: 'bad-sentAt', topic, payload: encodeMessage(results((m) => { m.sentAt = '2026-99-99T99:99:99Z'; })) },
    { kind: 'far-future', topic, payload: encodeMessage(results((m) => { m.sentAt = '9999-01-01T00:00:00Z'; })) },
    { kind: 'long-array', topic, payload: encodeMessage(results()).replace('{"x":1}', `[${'0,'.repeat(70_000)}0]`) },
    { kind: 'progress-int4', topic: deviceTopic(BAD, 'progress'), payload: encodeMessage(makeMessage(BAD, 2, 'progress', { jobId: 'load', attempt: 1, state: 'running', done: 2 ** 31, total: 2 ** 31 })) },
  ];
}

describe('poison messages and a store restart (shipped broker config, PostgreSQL)', { skip: needsMosquitto || needsPostgres }, () => {
  let broker: SecureBroker;
  let server: Postgres;
  let url: string;
  let db: pg.Pool;
  let work: string;
  let coordinator: CliProcess;
  let load: ResultLoad;
  let bad: MqttClient;
  const one = async (sql: string, params: unknown[] = []): Promise<number> => Number(Object.values((await db.query(sql, params)).rows[0])[0]);
  const storedIds = async (): Promise<Set<string>> => new Set((await db.query<{ id: string }>('SELECT message_id AS id FROM results')).rows.map((r) => r.id));

  before(async () => {
    [broker, server] = await Promise.all([startSecureMosquitto(['coordinator', ...GOOD, BAD]), Postgres.start()]);
    url = await server.createdb('poison');
    db = new pg.Pool({ connectionString: url, max: 1 });
    db.on('error', () => undefined);
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-poison-'));
    const cfg = join(work, 'coordinator.json');
    writeFileSync(cfg, JSON.stringify({
      configVersion: 1,
      broker: { url: `mqtt://127.0.0.1:${broker.plainPort}`, passwordFile: broker.passwordFiles.coordinator },
      db: url,
      admission: { allowDevices: [...GOOD, BAD] },
      policy: { models: [{ name: 'sim-model', sha256: '5'.repeat(64) }], probes: ['benchmark'], variants: ['fp32'] },
    }));
    coordinator = new CliProcess('coordinator', ['coordinator', '--config', cfg, '--load-test']);
    await coordinator.waitFor(/coordinator listening/);
    diagnose = async () => {
      const rejected = (await db.query('SELECT device_id, reason, COUNT(*) AS n FROM rejected_messages GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 20').catch(() => ({ rows: [] }))).rows;
      const results = (await db.query('SELECT device_id, COUNT(*) AS n FROM results GROUP BY 1').catch(() => ({ rows: [] }))).rows;
      return `broker: ${broker.log().split('\n').filter((l) => /drop|Drop/.test(l)).slice(-5).join('\n')}\nresults: ${JSON.stringify(results)}\nrejected: ${JSON.stringify(rejected)}\n--- coordinator\n${coordinator.output.split('\n').filter((l) => !/rejected message/.test(l)).slice(-30).join('\n')}`;
    };
    const creds = (id: string) => ({ username: id, password: broker.passwords[id] });
    load = new ResultLoad(`mqtt://127.0.0.1:${broker.plainPort}`, GOOD, { inflight: 2, pauseMs: 20, connect: creds });
    await load.connect();
    bad = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, { clientId: `edgeprobe-agent-${BAD}`, protocolVersion: 5, ...creds(BAD) });
    await bad.publishAsync(deviceTopic(BAD, 'register'), encodeMessage(makeMessage(BAD, 0, 'register', { profile: { hostname: 'h', platform: 'linux', arch: 'x64', cpuModel: 'c', cores: 1, memoryBytes: 1, nodeVersion: 'v20', agentVersion: 't' }, allowed: { models: [], probes: ['benchmark'] } })), { qos: 1, retain: true });
    await waitFor(async () => (await one('SELECT COUNT(*) FROM devices')) === 3, 20_000, 'three devices registered');
  });

  after(async () => {
    await load?.close();
    await bad?.endAsync(true).catch(() => undefined);
    await killAllCliProcesses();
    await db?.end();
    await broker?.stop();
    await server?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a poison burst is rejected once each while valid devices keep ingesting', { timeout: 90_000 }, async () => {
    load.start();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    const burstStart = Date.now();
    const kinds = poisons();
    let poisonAcked = 0;
    // the burst: every kind, over and over, ~400/s for 5 s (a device can publish faster than any coordinator
    // can reject: against that only the broker's queue caps and revoking the device help, docs/security.md)
    await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
      for (let i = lane; Date.now() - burstStart < 5000; i += 4) {
        const p = kinds[i % kinds.length];
        await bad.publishAsync(p.topic, p.payload, { qos: 1 });
        poisonAcked++;
        await new Promise((r) => setTimeout(r, 10));
      }
    }));
    const burstEnd = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await load.stop();
    const acked = load.acked;
    await waitFor(async () => (await one('SELECT COUNT(*) FROM results')) >= acked.size, 30_000, `${acked.size} valid results stored`);
    await waitFor(async () => (await one('SELECT COUNT(*) FROM rejected_messages WHERE device_id = $1', [BAD])) >= poisonAcked, 30_000, `${poisonAcked} poison messages rejected`);
    await new Promise((r) => setTimeout(r, 1000)); // a redelivery loop would show up as more rejections now

    const stored = await storedIds();
    assert.equal([...acked].filter((id) => !stored.has(id)).length, 0, 'every acknowledged valid result stored');
    assert.equal(stored.size, acked.size, 'no poison result stored, none twice');
    assert.equal(await one('SELECT COUNT(*) FROM rejected_messages WHERE device_id = $1', [BAD]), poisonAcked, 'each poison message rejected exactly once');
    // every kind is refused for its own reason (by the screen, or by the schema for the int4 ranges)
    const reasons = (await db.query<{ reason: string }>('SELECT DISTINCT reason FROM rejected_messages WHERE device_id = $1', [BAD])).rows.map((r) => r.reason);
    for (const want of [/^over-limit: JSON nested deeper/, /seq: Expected integer to be less or equal/, /^bad-value: .*not finite/, /^bad-value: .*U\+0000/,
      /^bad-time: sentAt "2026-99-99.*not a calendar/, /^bad-time: sentAt "9999.*ahead/, /^over-limit: .*array of 70001 elements/, /payload\/done: Expected integer to be less or equal/]) {
      assert.ok(reasons.some((r) => want.test(r)), `a rejection matching ${want} among ${reasons.map((r) => r.slice(0, 90)).join(' | ')}`);
    }
    assert.equal(await one('SELECT COUNT(*) FROM job_targets'), 0);
    assert.ok(coordinator.alive, 'the coordinator stays up');
    assert.doesNotMatch(coordinator.output, /dropping connection/);

    // ingest latency of valid results (received_ms - sentAt, one clock): before vs during the burst
    const lat = async (from: number, to: number): Promise<number[]> => (await db.query<{ ms: number }>(
      `SELECT received_ms - (extract(epoch from sent_at::timestamptz) * 1000)::bigint AS ms FROM results
       WHERE (extract(epoch from sent_at::timestamptz) * 1000) BETWEEN $1 AND $2`, [from, to])).rows.map((r) => Number(r.ms));
    const before = await lat(t0 + 1000, burstStart);
    const during = await lat(burstStart, burstEnd);
    assert.ok(during.length > 0, 'valid results sent during the burst were stored');
    const fmt = (xs: number[]) => `p50 ${quantile(xs, 0.5).toFixed(0)} ms, p99 ${quantile(xs, 0.99).toFixed(0)} ms (${xs.length} results)`;
    console.log(`# valid ingest without burst: ${fmt(before)}; during a burst of ${poisonAcked} poison messages (${(poisonAcked / ((burstEnd - burstStart) / 1000)).toFixed(0)}/s): ${fmt(during)}`);
  });

  test('PostgreSQL restarted mid-stream: PUBACKs held while it is down, nothing lost, no reconnect loop', { timeout: 90_000 }, async () => {
    const before = load.acked.size;
    load.start();
    await new Promise((r) => setTimeout(r, 2000));
    await server.restart(3000);
    await new Promise((r) => setTimeout(r, 2000));
    await load.stop();
    assert.ok(load.acked.size > before, 'results were acknowledged around the restart');
    await waitFor(async () => (await one('SELECT COUNT(*) FROM results').catch(() => -1)) >= load.acked.size, 40_000, `${load.acked.size} results stored`);
    const stored = await storedIds();
    assert.equal([...load.acked].filter((id) => !stored.has(id)).length, 0, 'every acknowledged result stored');
    assert.equal(stored.size, load.acked.size, 'none twice');
    assert.ok(coordinator.alive);
    assert.match(coordinator.output, /store unavailable: holding acknowledgements/);
    assert.match(coordinator.output, /store available again/);
    assert.doesNotMatch(coordinator.output, /dropping connection/);
  });
});
