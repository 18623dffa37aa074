import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { openStore, type SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { Mosquitto, needsMosquitto } from '../harness/mosquitto.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

const heartbeat = { loadPercent: 1, memUsedBytes: 1, memTotalBytes: 2, temperatureC: null, rssBytes: 1, uptimeS: 1, outboxPending: 0, activeJobId: null };

// Bad input, one kind per test, against real processes: each is rejected and logged, and the receiver keeps running.
describe('fleet rejects bad messages and plans', { skip: needsMosquitto }, () => {
  let broker: Mosquitto;
  let work: string;
  let db: string;
  let store: SqliteStore;
  let coordinator: CliProcess;
  let agent: CliProcess;
  let client: MqttClient;

  const rejectedWith = async (pattern: RegExp): Promise<void> => {
    await waitUntil(() => store.rejected(50).some((r) => pattern.test(r.reason)), 10_000, `a rejection matching ${pattern}`);
    await coordinator.waitFor(new RegExp(`rejected message.*${pattern.source}`));
    assert.ok(coordinator.alive, 'the coordinator keeps running');
  };
  const submit = (plan: unknown): string => {
    const path = join(work, `plan-${Date.now()}.json`);
    writeFileSync(path, JSON.stringify(plan));
    const run = runCli(['jobs', 'submit', '--devices', 'dev-r', '--plan', path, '--db', db, '--broker', broker.url, '--json']);
    assert.equal(run.status, 0, run.stderr);
    return jsonResult<{ jobId: string }>(run).jobId;
  };
  const target = (jobId: string) => store.jobTargets(jobId)[0];

  before(async () => {
    ensureGeneratedModel('tiny');
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-rejects-'));
    db = join(work, 'fleet.sqlite');
    const cfg = join(work, 'agent.json');
    writeFileSync(cfg, JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'], heartbeatIntervalS: 1 }));
    broker = await Mosquitto.start();
    coordinator = new CliProcess('coordinator', ['coordinator', '--broker', broker.url, '--db', db, '--dispatch-interval', '0.5']);
    await coordinator.waitFor(/coordinator listening/);
    store = openStore(db);
    agent = new CliProcess('dev-r', ['agent', '--broker', broker.url, '--device-id', 'dev-r', '--config', cfg, '--state-dir', join(work, 'dev-r')]);
    await waitUntil(() => store.devices().some((d) => d.deviceId === 'dev-r' && d.online), 20_000, 'dev-r registered');
    client = await mqtt.connectAsync(broker.url, { clientId: 'edgeprobe-test-intruder' });
  });

  after(async () => {
    await client?.endAsync();
    await killAllCliProcesses();
    store?.close();
    await broker?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('malformed JSON', async () => {
    await client.publishAsync(deviceTopic('dev-r', 'results'), '{"schemaVersion": 1, "messageId": ', { qos: 1 });
    await rejectedWith(/malformed JSON/);
  });

  test('wrong schema version', async () => {
    const msg = { ...makeMessage('dev-r', 1, 'heartbeat', heartbeat), schemaVersion: 2 };
    await client.publishAsync(deviceTopic('dev-r', 'heartbeat'), JSON.stringify(msg), { qos: 1 });
    await rejectedWith(/unsupported schemaVersion 2/);
  });

  test('oversized payload', async () => {
    const big = JSON.stringify({ ...makeMessage('dev-r', 1, 'heartbeat', heartbeat), padding: 'x'.repeat(300 * 1024) });
    await client.publishAsync(deviceTopic('dev-r', 'heartbeat'), big, { qos: 1 });
    await rejectedWith(/too-large: heartbeat message of \d+ bytes exceeds the limit of 4096 bytes/); // per-kind limit, checked before parsing
  });

  test('payload that breaks its schema', async () => {
    const msg = makeMessage('dev-r', 1, 'heartbeat', { ...heartbeat, loadPercent: 'high' as unknown as number });
    await client.publishAsync(deviceTopic('dev-r', 'heartbeat'), JSON.stringify(msg), { qos: 1 });
    await rejectedWith(/bad heartbeat payload: payload\/loadPercent/);
  });

  test('unknown device', async () => {
    await client.publishAsync(deviceTopic('ghost', 'heartbeat'), encodeMessage(makeMessage('ghost', 1, 'heartbeat', heartbeat)), { qos: 1 });
    await rejectedWith(/unknown device ghost/);
    assert.ok(!store.devices().some((d) => d.deviceId === 'ghost'));
  });

  test('results for a job that does not exist, or that targets another device, are rejected; the real job\'s are stored', async () => {
    // a job dev-r's agent refuses (model not allowed), so the only results under it are the ones sent here
    const own = submit({ models: [{ name: 'secret-model' }], variants: ['fp32'], probes: ['benchmark'] });
    // another registered device (open admission: any device that registers), with a job of its own
    const profile = { hostname: 'o', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0' };
    await client.publishAsync(deviceTopic('dev-other', 'register'), encodeMessage(makeMessage('dev-other', 0, 'register', { profile, allowed: { models: [], probes: ['benchmark'] } })), { qos: 1 });
    await waitUntil(() => store.devices().some((d) => d.deviceId === 'dev-other'), 10_000, 'dev-other registered');
    const planPath = join(work, 'other-plan.json');
    writeFileSync(planPath, JSON.stringify({ models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'] }));
    const other = runCli(['jobs', 'submit', '--devices', 'dev-other', '--plan', planPath, '--db', db, '--json']);
    assert.equal(other.status, 0, other.stderr);
    const otherJob = jsonResult<{ jobId: string }>(other).jobId;
    const record = syntheticBenchmarkRecord(new SeededRandom(3));
    const send = async (jobId: string, key: string): Promise<string> => {
      const m = makeMessage('dev-r', 1000, 'results', { jobId, recordKey: key, record });
      await client.publishAsync(deviceTopic('dev-r', 'results'), encodeMessage(m), { qos: 1 });
      return m.messageId;
    };
    await send('job-does-not-exist', 'k1');
    await send(otherJob, 'k2');
    const stored = await send(own, 'k3');
    // the rows, not the log: earlier tests used up dev-r's rejection-log budget (rejection-log.ts)
    for (const pattern of [/not-a-target: job job-does-not-exist does not exist or does not target dev-r/, new RegExp(`not-a-target: job ${otherJob} does not exist or does not target dev-r`)]) {
      await waitUntil(() => store.rejected(50).some((r) => pattern.test(r.reason)), 10_000, `a rejection matching ${pattern}`);
    }
    assert.ok(coordinator.alive);
    const count = (sql: string, ...args: string[]): number => {
      const d = new Database(db, { readonly: true });
      try {
        return (d.prepare(sql).get(...args) as { n: number }).n;
      } finally {
        d.close();
      }
    };
    await waitUntil(() => count('SELECT COUNT(*) AS n FROM results WHERE message_id = ?', stored) === 1, 10_000, 'the real job\'s result stored');
    assert.equal(count("SELECT COUNT(*) AS n FROM results WHERE job_id IN ('job-does-not-exist', ?)", otherJob), 0, 'nothing stored under the wrong jobs');
    assert.equal(count("SELECT COUNT(*) AS n FROM rejected_messages WHERE reason LIKE 'not-a-target:%'"), 2, 'both recorded (and counted) once');
  });

  test('malformed job message on an agent\'s jobs topic', async () => {
    await client.publishAsync(deviceTopic('dev-r', 'jobs'), 'rm -rf /', { qos: 1 });
    await agent.waitFor(/rejected message.*malformed JSON/);
    assert.ok(agent.alive);
  });

  test('a job whose plan the agent does not allow is rejected; the agent keeps running', async () => {
    const bad = submit({ models: [{ name: 'secret-model' }], variants: ['fp32'], probes: ['benchmark'] });
    await waitUntil(() => target(bad)?.state === 'rejected', 20_000, 'the plan rejected');
    assert.match(target(bad).detail ?? '', /model secret-model is not allowed/);
    await agent.waitFor(/job rejected/);
    const probe = submit({ models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['attention'] });
    await waitUntil(() => target(probe)?.state === 'rejected', 20_000, 'the probe rejected');
    assert.match(target(probe).detail ?? '', /probe attention is not allowed/);
    // after all of the above both sides still work: a good job completes
    const good = submit({ models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 2 } });
    await waitUntil(() => target(good)?.state === 'completed', 30_000, 'a good job completes');
    assert.ok(agent.alive && coordinator.alive);
  });

  test('a plan file that breaks the plan schema is refused at submit with a clear error', () => {
    const path = join(work, 'bad-plan.json');
    writeFileSync(path, JSON.stringify({ models: [{ name: 'tiny' }], variants: ['fp64'], probes: ['benchmark'], command: 'ls' }));
    const run = runCli(['jobs', 'submit', '--devices', 'dev-r', '--plan', path, '--db', db]);
    assertCliError(run, 'EP_PLAN_FIELD_INVALID', /bad-plan\.json: field/);
  });
});
