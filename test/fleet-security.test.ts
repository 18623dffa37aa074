import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { sha256Hex } from '../core/onnx/model-io.ts';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';

// Issue 8 acceptance with real processes: the SHIPPED Mosquitto config (TLS, passwords, ACL), a coordinator
// process started with only --config (allow-list admission), agent processes started with only --config
// (mqtts://, CA file, password file). The SQLite file is opened and counted directly.
describe('secured fleet (real Mosquitto with the shipped config, real processes)', { skip: needsMosquitto }, () => {
  let broker: SecureBroker;
  let work: string;
  let db: string;
  let coordinatorCfg: string;
  let coordinator: CliProcess;
  let tinySha: string;
  const clients: MqttClient[] = [];
  const TOKEN = 'token-of-pi-t-7f3a9c';
  const count = (sql: string, ...params: unknown[]): number => {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare(sql).get(...params) as { n: number }).n;
    } finally {
      d.close();
    }
  };
  const writeJson = (name: string, value: unknown): string => {
    const p = join(work, name);
    writeFileSync(p, JSON.stringify(value, null, 2));
    return p;
  };
  const agentConfig = (deviceId: string, extra: Record<string, unknown> = {}): string => writeJson(`${deviceId}.json`, {
    configVersion: 1,
    deviceId,
    broker: { url: `mqtts://localhost:${broker.tlsPort}`, passwordFile: broker.passwordFiles[deviceId], caFile: broker.caFile },
    dataDir: join(work, deviceId),
    heartbeatIntervalS: 1,
    healthFile: join(work, `${deviceId}-health.json`),
    models: [{ name: 'tiny', generated: 'tiny' }],
    probes: ['benchmark'],
    ...extra,
  });

  before(async () => {
    tinySha = sha256Hex(readFileSync(join(ensureGeneratedModel('tiny'), 'model.onnx')));
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-security-'));
    db = join(work, 'coordinator.sqlite');
    broker = await startSecureMosquitto(['coordinator', 'pi-a', 'pi-t', 'pi-z']);
    coordinatorCfg = writeJson('coordinator.json', {
      configVersion: 1,
      broker: { url: `mqtts://localhost:${broker.tlsPort}`, passwordFile: broker.passwordFiles.coordinator, caFile: broker.caFile },
      db: 'coordinator.sqlite',
      // pi-z has a broker account but is not admitted; pi-t is admitted by its own registration token
      admission: { allowDevices: ['pi-a'], deviceTokenSha256: { 'pi-t': createHash('sha256').update(TOKEN).digest('hex') } },
      policy: { models: [{ name: 'tiny', sha256: tinySha }], probes: ['benchmark'], variants: ['fp32'] },
      healthFile: 'coordinator-health.json',
    });
    coordinator = new CliProcess('coordinator', ['coordinator', '--config', coordinatorCfg, '--dispatch-interval', '0.5']);
    await coordinator.waitFor(/coordinator listening/);
  });

  after(async () => {
    for (const c of clients) c.end(true);
    await killAllCliProcesses();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('results from a device the coordinator did not admit are refused, logged and not stored', async () => {
    const z = await mqtt.connectAsync(`mqtts://localhost:${broker.tlsPort}`, {
      username: 'pi-z', password: broker.passwords['pi-z'], ca: readFileSync(broker.caFile), reconnectPeriod: 0, protocolVersion: 5,
    });
    clients.push(z);
    const record: ProbeRecord = {
      recordVersion: 2, probe: 'benchmark', model: { name: 'tiny', sha256: tinySha }, variant: { name: 'fp32', sha256: tinySha },
      verdict: { status: 'measured', summary: 'forged' }, durationS: 0.1, createdAt: new Date().toISOString(), data: {},
    };
    // A schema-valid results message on pi-z's own topic: the broker ACL lets it through (PUBACK without error) ...
    const results = encodeMessage(makeMessage('pi-z', 1, 'results', { jobId: 'job-forged', recordKey: 'tiny/fp32/benchmark/0', record }));
    await z.publishAsync(deviceTopic('pi-z', 'results'), results, { qos: 1 });
    await coordinator.waitFor(/rejected message .*refused results from pi-z on edgeprobe\/v1\/devices\/pi-z\/results: not-registered/, 10_000);
    // ... and registering does not help: pi-z is not on the allow-list and has no token
    const register = makeMessage('pi-z', 2, 'register', {
      profile: { hostname: 'z', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0' },
      allowed: { models: [], probes: ['benchmark'] },
    });
    await z.publishAsync(deviceTopic('pi-z', 'register'), encodeMessage(register), { qos: 1 });
    await coordinator.waitFor(/refused register from pi-z .*not-admitted/, 10_000);
    await z.publishAsync(deviceTopic('pi-z', 'results'), encodeMessage(makeMessage('pi-z', 3, 'results', { jobId: 'job-forged', recordKey: 'k2', record })), { qos: 1 });
    await waitUntil(() => count("SELECT COUNT(*) AS n FROM rejected_messages WHERE device_id = 'pi-z'") >= 3, 10_000, 'three refusals recorded');

    assert.equal(count("SELECT COUNT(*) AS n FROM results WHERE device_id = 'pi-z'"), 0, 'no result of pi-z stored');
    assert.equal(count('SELECT COUNT(*) AS n FROM results'), 0, 'no results at all');
    assert.equal(count("SELECT COUNT(*) AS n FROM devices WHERE device_id = 'pi-z'"), 0, 'pi-z is not in the registry');
    assert.ok(coordinator.alive);
  });

  test('an admitted agent runs a job end to end through the TLS broker; its results are stored', async () => {
    const agent = new CliProcess('pi-a', ['agent', '--config', agentConfig('pi-a')]);
    await agent.waitFor(/connected broker=mqtts:\/\/localhost/);
    await waitUntil(() => count("SELECT COUNT(*) AS n FROM devices WHERE device_id = 'pi-a' AND admitted_via = 'allow-list' AND online = 1") === 1, 20_000, 'pi-a registered');

    // the plan is checked against the coordinator's policy before it is stored: an unpinned model is refused
    const plan = writeJson('plan.json', { models: [{ name: 'tiny', sha256: tinySha }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 3, batchSizes: [1, 2] } });
    const unpinned = writeJson('unpinned.json', { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'] });
    const refused = runCli(['jobs', 'submit', '--devices', 'pi-a', '--plan', unpinned, '--db', db, '--config', coordinatorCfg]);
    assertCliError(refused, 'EP_PLAN_MODEL_NOT_ALLOWED', /model tiny .* is not in policy\.models/);
    const target = (jobId: string): { state: string; detail: string | null } | undefined => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare('SELECT state, detail FROM job_targets WHERE job_id = ? AND device_id = ?').get(jobId, 'pi-a') as { state: string; detail: string | null } | undefined;
      } finally {
        d.close();
      }
    };
    // written without --config, the same plan gets past `jobs submit`, but the coordinator does not send it
    const bypass = runCli(['jobs', 'submit', '--devices', 'pi-a', '--plan', unpinned, '--db', db, '--json']);
    assert.equal(bypass.status, 0, bypass.stderr);
    const bypassId = jsonResult<{ jobId: string }>(bypass).jobId;
    await waitUntil(() => target(bypassId)?.state === 'rejected', 10_000, 'the unpinned plan rejected by the coordinator');
    assert.match(target(bypassId)!.detail ?? '', /refused by the coordinator's policy: model tiny/);
    assert.doesNotMatch(agent.output, new RegExp(bypassId), 'the agent never saw it');

    const run = runCli(['jobs', 'submit', '--devices', 'pi-a', '--plan', plan, '--db', db, '--config', coordinatorCfg, '--json']);
    assert.equal(run.status, 0, run.stderr);
    const { jobId } = jsonResult<{ jobId: string }>(run);
    await waitUntil(() => target(jobId)?.state === 'completed', 60_000, `${jobId} completed on pi-a`);
    await waitUntil(() => count('SELECT COUNT(*) AS n FROM results WHERE device_id = ? AND job_id = ?', 'pi-a', jobId) === 2, 10_000, 'two results stored');

    // both processes keep their health files fresh: the container HEALTHCHECK command passes
    for (const f of ['pi-a-health.json', 'coordinator-health.json']) {
      const h = runCli(['health', '--file', join(work, f)]);
      assert.equal(h.status, 0, `${f}: ${h.stderr}`);
    }
    await agent.kill();
  });

  test('a device admitted by its registration token: the agent sends it, the coordinator never stores it', async () => {
    writeFileSync(join(work, 'pi-t.token'), `${TOKEN}\n`);
    const agent = new CliProcess('pi-t', ['agent', '--config', agentConfig('pi-t', { registrationTokenFile: 'pi-t.token' })]);
    await agent.waitFor(/connected/);
    await waitUntil(() => count("SELECT COUNT(*) AS n FROM devices WHERE device_id = 'pi-t' AND admitted_via = 'device-token'") === 1, 20_000, 'pi-t admitted by token');
    await agent.kill();
    const d = new Database(db, { readonly: true });
    try {
      const dump = JSON.stringify(d.prepare('SELECT * FROM devices').all()) + JSON.stringify(d.prepare('SELECT * FROM rejected_messages').all());
      assert.ok(!dump.includes(TOKEN), 'the token is not in the database');
    } finally {
      d.close();
    }
  });
});
