import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { parse as parseYaml } from 'yaml';
import { resolveAgentSettings } from '../agent/config/agent-config.ts';
import { CoordinatorConfig } from '../coordinator/config/coordinator-config.ts';
import { screenDeviceMessage, type AdmittedVia } from '../coordinator/security/index.ts';
import { DEVICE_TOPIC_KINDS } from '../core/protocol/topics.ts';
import { Value } from '@sinclair/typebox/value';
import { PROJECT_ROOT } from '../harness/shared-data.ts';
import { freePort, needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';

// Acceptance tests of issue 8 against a real Mosquitto running the shipped config and ACL.
const HAVE_MOSQUITTO_SUB = spawnSync('sh', ['-c', 'command -v mosquitto_sub']).status === 0;
const topic = (device: string, kind: string): string => `edgeprobe/v1/devices/${device}/${kind}`;

function connect(url: string, opts: IClientOptions, timeoutMs = 5000): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: timeoutMs, ...opts });
    const fail = (err: Error): void => { clearTimeout(timer); c.end(true); reject(err); };
    const timer = setTimeout(() => fail(new Error('connect timed out')), timeoutMs + 500);
    c.once('connect', () => { clearTimeout(timer); resolve(c); });
    c.once('error', fail);
    c.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

/** Resolves with the error (or undefined) the publish ended with; QoS 1 so the broker answers with a PUBACK. */
function publish(c: MqttClient, t: string, payload: string): Promise<Error | undefined> {
  return new Promise((resolve) => c.publish(t, payload, { qos: 1 }, (err) => resolve(err ?? undefined)));
}

/** Collects every message a client receives, for later assertions. */
function inbox(c: MqttClient): Array<{ topic: string; payload: string }> {
  const got: Array<{ topic: string; payload: string }> = [];
  c.on('message', (t, p) => got.push({ topic: t, payload: p.toString() }));
  return got;
}

async function waitFor(cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('shipped Mosquitto config (real broker)', { skip: needsMosquitto }, () => {
  let broker: SecureBroker;
  const clients: MqttClient[] = [];
  let plain = '';
  let tls = '';
  const as = async (user: string, url = plain, extra: IClientOptions = {}): Promise<MqttClient> => {
    const c = await connect(url, { username: user, password: broker.passwords[user], ca: readCa(), ...extra });
    clients.push(c);
    return c;
  };
  let caText = '';
  const readCa = (): string => caText;

  before(async () => {
    broker = await startSecureMosquitto(['coordinator', 'pi-a', 'pi-b']);
    plain = `mqtt://127.0.0.1:${broker.plainPort}`;
    tls = `mqtts://localhost:${broker.tlsPort}`;
    caText = readFileSync(broker.caFile, 'utf8');
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await broker?.stop();
  });

  it('refuses a client without credentials, and one with a wrong password', async () => {
    await assert.rejects(connect(plain, {}), /not authori|bad user name or password|Connection refused/i);
    await assert.rejects(connect(tls, { ca: caText }), /not authori|bad user name or password|Connection refused/i);
    await assert.rejects(connect(plain, { username: 'pi-a', password: 'wrong' }), /not authori|bad user name or password|Connection refused/i);
    // positive control: the same broker accepts the right password
    const ok = await as('pi-a');
    assert.equal(ok.connected, true);
  });

  it('drops results that device A publishes under device B, and delivers A\'s own', async () => {
    const coord = await as('coordinator');
    const seen = inbox(coord);
    await coord.subscribeAsync('edgeprobe/v1/devices/+/results', { qos: 1 });
    const a = await as('pi-a');
    const forged = await publish(a, topic('pi-b', 'results'), '{"deviceId":"pi-b","forged":true}');
    assert.match(String(forged), /not authori|135/i, 'MQTT 5 PUBACK should carry 0x87 not authorized');
    assert.equal(await publish(a, topic('pi-a', 'results'), '{"deviceId":"pi-a"}'), undefined);
    await waitFor(() => seen.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.map((m) => m.topic), [topic('pi-a', 'results')]);
  });

  it('lets a device read only its own jobs, and only the coordinator publish jobs', async () => {
    const a = await as('pi-a');
    const b = await as('pi-b');
    const aInbox = inbox(a);
    const bInbox = inbox(b);
    const own = await a.subscribeAsync(topic('pi-a', 'jobs'), { qos: 1 });
    assert.ok(own[0].qos <= 2, `own jobs subscription granted (got ${own[0].qos})`);
    // Mosquitto 2.0 grants these SUBACKs and applies the read ACL to each message it would deliver,
    // so what must hold is that none of B's jobs reaches A, by direct or wildcard subscription.
    await a.subscribeAsync(topic('pi-b', 'jobs'), { qos: 1 });
    await a.subscribeAsync('edgeprobe/v1/devices/+/jobs', { qos: 1 });
    await a.subscribeAsync('edgeprobe/v1/#', { qos: 1 });
    await b.subscribeAsync(topic('pi-b', 'jobs'), { qos: 1 });

    // devices cannot publish jobs, neither for another device nor for themselves
    assert.match(String(await publish(a, topic('pi-b', 'jobs'), '{"from":"pi-a"}')), /not authori|135/i);
    assert.match(String(await publish(a, topic('pi-a', 'jobs'), '{"from":"pi-a"}')), /not authori|135/i);

    const coord = await as('coordinator');
    assert.equal(await publish(coord, topic('pi-b', 'jobs'), '{"for":"pi-b"}'), undefined);
    assert.equal(await publish(coord, topic('pi-a', 'jobs'), '{"for":"pi-a"}'), undefined);
    await waitFor(() => aInbox.length >= 1 && bInbox.length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(bInbox.map((m) => m.payload), ['{"for":"pi-b"}']);
    assert.ok(aInbox.every((m) => m.topic === topic('pi-a', 'jobs')), `pi-a received: ${JSON.stringify(aInbox)}`);
    assert.ok(aInbox.some((m) => m.payload === '{"for":"pi-a"}'));
  });

  it('serves TLS with the generated CA and refuses plain MQTT on the TLS port', async () => {
    const c = await as('pi-a', tls);
    const got = inbox(c);
    await c.subscribeAsync(topic('pi-a', 'jobs'), { qos: 1 });
    const coord = await as('coordinator', tls);
    await publish(coord, topic('pi-a', 'jobs'), 'over-tls');
    await waitFor(() => got.some((m) => m.payload === 'over-tls'));

    await assert.rejects(connect(`mqtt://127.0.0.1:${broker.tlsPort}`, { username: 'pi-a', password: broker.passwords['pi-a'] }, 2000));
    // without the CA the broker certificate is not trusted
    await assert.rejects(connect(tls, { username: 'pi-a', password: broker.passwords['pi-a'] }, 2000), /self.signed|certificate/i);
  });

  it('connects with mqtt options built from an agent config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-agentcfg-'));
    try {
      const cfgPath = join(dir, 'agent.json');
      writeFileSync(cfgPath, JSON.stringify({
        configVersion: 1,
        deviceId: 'pi-b',
        broker: { url: tls, passwordFile: broker.passwordFiles['pi-b'], caFile: broker.caFile },
      }));
      const s = resolveAgentSettings({ config: cfgPath });
      const c = await connect(s.brokerUrl, { ...s.mqtt, reconnectPeriod: 0 });
      clients.push(c);
      assert.equal(await publish(c, topic('pi-b', 'heartbeat'), '{}'), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the compose health check of the broker passes against it, and fails with no broker', { skip: HAVE_MOSQUITTO_SUB ? false : 'needs mosquitto_sub (apt-get install mosquitto-clients)' }, async () => {
    const compose = parseYaml(readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')) as { services: { mosquitto: { healthcheck: { test: string[] } } } };
    const [form, cmd] = compose.services.mosquitto.healthcheck.test;
    assert.equal(form, 'CMD-SHELL');
    assert.match(cmd, /-p 1883 /, 'checks the loopback listener');
    const sh = (port: number) => spawnSync('sh', ['-c', cmd.replace('-p 1883 ', `-p ${port} `)], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(sh(broker.plainPort).status, 0);
    assert.notEqual(sh(await freePort()).status, 0);
  });

  it('screens messages end to end: results of an unregistered device are refused and logged, nothing stored', async () => {
    // The screen alone against the real broker, with a Map as its store; the same with the real coordinator
    // process and its SQLite file is in test/fleet-security.test.ts.
    const config = Value.Default(CoordinatorConfig, {
      configVersion: 1, admission: { allowDevices: ['pi-a'] }, policy: { models: [{ name: 'm', sha256: 'a'.repeat(64) }] },
    }) as CoordinatorConfig;
    const registrations = new Map<string, { via: AdmittedVia }>();
    const stored: Array<{ deviceId: string; kind: string }> = [];
    const logs: string[] = [];
    const coord = await as('coordinator');
    coord.on('message', (t, payload, packet) => {
      const r = screenDeviceMessage({ topic: t, payload, userProperties: packet.properties?.userProperties },
        { config, registrationOf: (id) => registrations.get(id) });
      if (!r.ok) { logs.push(r.logLine); return; }
      if (r.kind === 'register') registrations.set(r.deviceId, { via: r.admittedVia! });
      stored.push({ deviceId: r.deviceId, kind: r.kind });
    });
    for (const k of DEVICE_TOPIC_KINDS) await coord.subscribeAsync(`edgeprobe/v1/devices/+/${k}`, { qos: 1 });

    const b = await as('pi-b'); // has a broker account but is not admitted by the coordinator
    assert.equal(await publish(b, topic('pi-b', 'results'), JSON.stringify({ deviceId: 'pi-b', records: [] })), undefined, 'the broker lets pi-b use its own topic');
    assert.equal(await publish(b, topic('pi-b', 'register'), JSON.stringify({ deviceId: 'pi-b' })), undefined);
    await waitFor(() => logs.length >= 2);
    assert.match(logs[0], /refused results from pi-b on edgeprobe\/v1\/devices\/pi-b\/results: not-registered/);
    assert.match(logs[1], /refused register from pi-b .*not-admitted/);

    const a = await as('pi-a');
    await publish(a, topic('pi-a', 'results'), JSON.stringify({ deviceId: 'pi-a', records: [] })); // before registering
    await publish(a, topic('pi-a', 'register'), JSON.stringify({ deviceId: 'pi-a' }));
    await publish(a, topic('pi-a', 'results'), JSON.stringify({ deviceId: 'pi-a', records: [] }));
    await waitFor(() => stored.length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(stored, [{ deviceId: 'pi-a', kind: 'register' }, { deviceId: 'pi-a', kind: 'results' }]);
    assert.equal(logs.length, 3);
    assert.match(logs[2], /refused results from pi-a .*not-registered/);
  });
});
