/**
 * Client-id takeover against the SHIPPED Mosquitto config: a device with its own valid password asks for
 * the coordinator's client id, or another device's, over and over while that device streams QoS 1
 * results. The broker binds client ids to usernames (use_username_as_clientid), so neither the coordinator
 * nor the other device is ever disconnected and every result the broker acknowledged reaches the coordinator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { coordinatorSubscriptions, deviceTopic } from '../core/protocol/topics.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../sim/synthetic-record.ts';
import { needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { openFleetStore } from '../coordinator/store/open-store.ts';

describe('client ids are bound to usernames (shipped broker config)', { skip: needsMosquitto }, () => {
  let broker: SecureBroker;
  const clients: MqttClient[] = [];
  const connect = async (user: string, clientId: string, clean = false): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.plainPort}`, { username: user, password: broker.passwords[user], clientId, clean, protocolVersion: 5, reconnectPeriod: 0 });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };

  before(async () => { broker = await startSecureMosquitto(['coordinator', 'coordinator-r1', 'coordinator-cli', 'pi-a', 'pi-b']); });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.stop();
  });

  test('a device using the coordinator\'s or another device\'s client id kicks nobody; nothing is lost', async () => {
    const coordinator = await connect('coordinator', 'edgeprobe-coordinator');
    const replica = await connect('coordinator-r1', 'edgeprobe-coordinator-r1');
    let coordinatorClosed = 0;
    let victimClosed = 0;
    coordinator.on('close', () => coordinatorClosed++);
    replica.on('close', () => coordinatorClosed++);
    const received = new Set<string>();
    coordinator.on('message', (_t, p) => received.add((JSON.parse(p.toString()) as { messageId: string }).messageId));
    await coordinator.subscribeAsync(coordinatorSubscriptions(), { qos: 1 });

    const victim = await connect('pi-b', 'edgeprobe-agent-pi-b');
    victim.on('close', () => victimClosed++);
    const record = syntheticBenchmarkRecord(new SeededRandom(1));
    const acked: string[] = [];
    const stream = (async () => {
      for (let i = 0; i < 150; i++) {
        const m = makeMessage('pi-b', i + 1, 'results', { jobId: 'j', recordKey: `k${i}`, record, simulated: true });
        await victim.publishAsync(deviceTopic('pi-b', 'results'), encodeMessage(m), { qos: 1 });
        acked.push(m.messageId);
      }
    })();
    // the attacker: pi-a's own password, someone else's client id, with and without a persistent session
    const ids = ['edgeprobe-coordinator', 'edgeprobe-coordinator-r1', 'coordinator', 'edgeprobe-agent-pi-b', 'pi-b'];
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        const attacker = await connect('pi-a', id, round % 2 === 0);
        await attacker.endAsync(true);
      }
    }
    await stream;
    const deadline = Date.now() + 10_000;
    while (received.size < acked.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    assert.equal(coordinatorClosed, 0, 'the coordinator and its replica were never disconnected');
    assert.equal(victimClosed, 0, 'pi-b was never disconnected');
    assert.ok(coordinator.connected && replica.connected && victim.connected);
    assert.equal(acked.filter((id) => !received.has(id)).length, 0, `all ${acked.length} acknowledged results reached the coordinator`);
    // the broker log names the sessions by username, whatever client id the attacker asked for
    assert.doesNotMatch(broker.log(), /Client edgeprobe-coordinator already connected/);
  });

  test('jobs submit --broker and jobs cancel log in as coordinator-cli: the running coordinator stays connected', async () => {
    const coordinator = await connect('coordinator', 'edgeprobe-coordinator');
    let coordinatorClosed = 0;
    coordinator.on('close', () => coordinatorClosed++);
    const device = await connect('pi-b', 'edgeprobe-agent-pi-b');
    const seen: string[] = [];
    device.on('message', (_t, p) => seen.push((JSON.parse(p.toString()) as { type: string }).type));
    await device.subscribeAsync(deviceTopic('pi-b', 'jobs'), { qos: 1 });
    // the store knows pi-b online, so `jobs submit --broker` dispatches at once
    const work = mkdtempSync(join(tmpdir(), 'edgeprobe-cli-user-'));
    const db = join(work, 'fleet.sqlite');
    const store = await openFleetStore(db);
    await store.registerDevice('pi-b', { profile: { hostname: 'b', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0' }, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', Date.now());
    await store.close();
    const sha = 'a'.repeat(64);
    const cfg = join(work, 'coordinator.json');
    writeFileSync(cfg, JSON.stringify({ configVersion: 1, broker: { url: `mqtt://127.0.0.1:${broker.plainPort}` }, cliPasswordFile: broker.passwordFiles['coordinator-cli'],
      admission: { allowDevices: ['pi-b'] }, policy: { models: [{ name: 'm', sha256: sha }] } }));
    const plan = join(work, 'plan.json');
    writeFileSync(plan, JSON.stringify({ models: [{ name: 'm', sha256: sha }], variants: ['fp32'], probes: ['benchmark'] }));
    // the shell's EDGEPROBE_MQTT_PASSWORD (if any) must not be what logs in
    const env = { EDGEPROBE_MQTT_PASSWORD: '' };
    const submitted = runCli(['jobs', 'submit', '--devices', 'pi-b', '--plan', plan, '--db', db, '--config', cfg, '--broker', `mqtt://127.0.0.1:${broker.plainPort}`, '--json'], { env });
    assert.equal(submitted.status, 0, submitted.stderr);
    const { jobId, dispatched } = jsonResult<{ jobId: string; dispatched: number }>(submitted);
    assert.equal(dispatched, 1);
    const cancelled = runCli(['jobs', 'cancel', '--job', jobId, '--db', db, '--config', cfg, '--json'], { env });
    assert.equal(cancelled.status, 0, cancelled.stderr);
    const deadline = Date.now() + 10_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, ['job', 'job-cancel'], 'the device got the job and its cancel (the ACL lets coordinator-cli send both)');
    assert.equal(coordinatorClosed, 0, 'the running coordinator was never disconnected');
    assert.ok(coordinator.connected);
    rmSync(work, { recursive: true, force: true });
  });
});
