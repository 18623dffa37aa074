import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { resolveCoordinatorSettings } from '../coordinator/config/coordinator-config.ts';
import { screenDeviceMessage } from '../coordinator/security/index.ts';
import { createProgress } from '../core/progress.ts';
import { DeviceSimulator } from '../sim/device-simulator.ts';
import { coordinatorSubscriptions, replicaSubscriptions } from '../core/protocol/topics.ts';
import { isPostgresUrl } from '../coordinator/store/open-store.ts';
import type { ErrorCode } from '../core/errors.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { runCli } from './helpers/run-cli.ts';

describe('scale-out: topics, store selection and CLI user errors', () => {
  test('replicas share every device kind but register, which stays a plain (retained-capable) subscription', () => {
    const subs = replicaSubscriptions('g1');
    assert.deepEqual(subs, [
      'edgeprobe/v1/devices/+/register',
      '$share/g1/edgeprobe/v1/devices/+/status',
      '$share/g1/edgeprobe/v1/devices/+/heartbeat',
      '$share/g1/edgeprobe/v1/devices/+/progress',
      '$share/g1/edgeprobe/v1/devices/+/results',
    ]);
    assert.deepEqual(subs.map((s) => s.replace(/^\$share\/g1\//, '')), coordinatorSubscriptions(), 'the same topics as a single coordinator');
  });

  test('--db selects the engine by URL scheme', () => {
    assert.equal(isPostgresUrl('postgres://u@h:5432/db'), true);
    assert.equal(isPostgresUrl('postgresql://h/db'), true);
    assert.equal(isPostgresUrl('fleet.sqlite'), false);
    assert.equal(isPostgresUrl('/var/lib/postgres/fleet.sqlite'), false);
  });

  test('bad simulate and replica flags are user errors, not stack traces', () => {
    const cases: Array<[string[], ErrorCode, RegExp?]> = [
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--devices', '0'], 'EP_FLAG_OUT_OF_RANGE', /--devices must be > 0/],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--prefix', 'bad/prefix'], 'EP_SIM_DEVICE_IDS_INVALID', /"bad\/prefix"/],
      [['simulate', '--broker', 'http://x', '--devices', '2'], 'EP_BROKER_URL_INVALID', /http:\/\/x/],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--rate', '-1'], 'EP_FLAG_OUT_OF_RANGE', /--rate must be >= 0/],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--db', 'x.sqlite', '--replica-id', 'r1'], 'EP_REPLICA_NEEDS_POSTGRES'],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--db', 'postgres://u@127.0.0.1:1/x', '--replica-id', 'r 1'], 'EP_REPLICA_ID_INVALID', /"r 1"/],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--heartbeat-retention-days', '0'], 'EP_FLAG_OUT_OF_RANGE', /--heartbeat-retention-days must be > 0/],
    ];
    for (const [args, code, names] of cases) assertCliError(runCli(args, { timeoutMs: 30_000 }), code, names);
  });

  test('simulated devices send the fleet registration token, which a coordinator with token admission accepts', async () => {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const watcher = mqtt.connect(url, { protocolVersion: 4 });
    const registers: Buffer[] = [];
    watcher.on('message', (_t, payload) => registers.push(payload));
    await watcher.subscribeAsync('edgeprobe/v1/devices/+/register', { qos: 1 });
    const sim = new DeviceSimulator({
      broker: url, devices: 2, prefix: 'tok', firstIndex: 0, resultRate: 0, heartbeatS: 60, connectRate: 100, badRate: 0, jobDelayMs: 0, seed: 1,
      registrationToken: 'fleet-secret', progress: createProgress('silent'),
    });
    try {
      await sim.start(10_000);
      const end = Date.now() + 5000;
      while (registers.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await sim.stop();
      await watcher.endAsync();
      await new Promise<void>((r) => broker.close(() => r()));
      server.close();
    }
    assert.equal(registers.length, 2);
    const { config } = resolveCoordinatorSettings({ broker: url, db: 'x.sqlite' });
    const secured = { ...config, admission: { allowDevices: [], deviceTokenSha256: {}, fleetTokenSha256: createHash('sha256').update('fleet-secret').digest('hex') } };
    const screened = screenDeviceMessage({ topic: 'edgeprobe/v1/devices/tok-0/register', payload: registers.find((r) => r.includes('"tok-0"'))! }, { config: secured, registrationOf: () => undefined });
    assert.equal(screened.ok && screened.admittedVia, 'fleet-token');
    const wrong = { ...secured, admission: { ...secured.admission, fleetTokenSha256: 'b'.repeat(64) } };
    assert.equal(screenDeviceMessage({ topic: 'edgeprobe/v1/devices/tok-0/register', payload: registers[0] }, { config: wrong, registrationOf: () => undefined }).ok, false, 'the check can fail');
  });
});
