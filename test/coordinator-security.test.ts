import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { CoordinatorConfig, type CoordinatorConfig as Cfg } from '../coordinator/config/coordinator-config.ts';
import {
  brokerUsernameFrom, checkIdentity, checkJobPlan, checkPayloadSize, checkRegistered, decideRegistration,
  screenDeviceMessage, type AdmittedVia,
} from '../coordinator/security/index.ts';
import { parseDeviceTopic } from '../core/protocol/topics.ts';
import { MAX_MESSAGE_BYTES } from '../core/protocol/messages.ts';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const MODEL = 'a'.repeat(64);

function config(over: Partial<Cfg['admission']> = {}, identity: Partial<Cfg['identity']> = {}): Cfg {
  const raw = {
    configVersion: 1,
    admission: { allowDevices: ['pi-a'], fleetTokenSha256: sha('fleet-secret'), deviceTokenSha256: { 'pi-t': sha('device-secret') }, ...over },
    policy: { models: [{ name: 'm', sha256: MODEL }], probes: ['benchmark', 'attention'], variants: ['fp32', 'int8-dynamic'] },
    identity,
  };
  return Value.Default(CoordinatorConfig, raw) as Cfg;
}

const bytes = (o: unknown): Uint8Array => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

describe('device topics', () => {
  it('parses device topics and refuses anything else', () => {
    assert.deepEqual(parseDeviceTopic('edgeprobe/v1/devices/pi-a/results'), { deviceId: 'pi-a', kind: 'results' });
    assert.equal(parseDeviceTopic('edgeprobe/v1/devices/pi-a/jobs'), null, 'jobs are published by the coordinator, not devices');
    assert.equal(parseDeviceTopic('edgeprobe/v1/devices/pi a/results'), null);
    assert.equal(parseDeviceTopic('edgeprobe/v1/devices/pi-a/results/extra'), null);
    assert.equal(parseDeviceTopic('edgeprobe/v2/devices/pi-a/results'), null);
  });
});

describe('admission', () => {
  const a = config().admission;
  it('admits allow-listed devices and devices with a valid token', () => {
    assert.deepEqual(decideRegistration(a, { deviceId: 'pi-a' }), { ok: true, via: 'allow-list' });
    assert.deepEqual(decideRegistration(a, { deviceId: 'pi-new', token: 'fleet-secret' }), { ok: true, via: 'fleet-token' });
    assert.deepEqual(decideRegistration(a, { deviceId: 'pi-t', token: 'device-secret' }), { ok: true, via: 'device-token' });
  });
  it('refuses unknown devices, wrong tokens and the coordinator name', () => {
    assert.equal(decideRegistration(a, { deviceId: 'pi-new' }).ok, false);
    const wrong = decideRegistration(a, { deviceId: 'pi-new', token: 'guess' });
    assert.equal(wrong.ok === false && wrong.code, 'bad-token');
    // a device with its own token cannot fall back to the fleet token or the allow-list
    const fleetForPerDevice = decideRegistration(a, { deviceId: 'pi-t', token: 'fleet-secret' });
    assert.equal(fleetForPerDevice.ok === false && fleetForPerDevice.code, 'bad-token');
    const reserved = decideRegistration(a, { deviceId: 'coordinator', token: 'fleet-secret' });
    assert.equal(reserved.ok === false && reserved.code, 'reserved-id');
    assert.equal(decideRegistration(a, { deviceId: 'pi-new', token: 42 }).ok, false);
  });
  it('accepts messages only from registered devices whose admission still holds', () => {
    assert.equal(checkRegistered(a, 'pi-a', { via: 'allow-list' }).ok, true);
    const none = checkRegistered(a, 'pi-a', undefined);
    assert.equal(none.ok === false && none.code, 'not-registered');
    const removed = config({ allowDevices: ['pi-b'] }).admission;
    const revoked = checkRegistered(removed, 'pi-a', { via: 'allow-list' });
    assert.equal(revoked.ok === false && revoked.code, 'revoked');
    const noFleet = config({ fleetTokenSha256: undefined }).admission;
    assert.equal(checkRegistered(noFleet, 'pi-x', { via: 'fleet-token' }).ok, false);
  });
});

describe('identity', () => {
  it('requires the body deviceId to equal the topic device id', () => {
    const id = config().identity;
    assert.equal(checkIdentity(id, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-a' }).ok, true);
    assert.equal(checkIdentity(id, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-b' }).ok, false);
    assert.equal(checkIdentity(id, { topicDeviceId: 'pi-a', envelopeDeviceId: undefined }).ok, false);
  });
  it('checks a broker-stamped username when configured, and requires it only when told to', () => {
    const soft = config({}, { usernameProperty: 'edgeprobe-username' }).identity;
    assert.equal(checkIdentity(soft, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-a' }).ok, true);
    assert.equal(checkIdentity(soft, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-a', brokerUsername: 'pi-b' }).ok, false);
    const hard = config({}, { usernameProperty: 'edgeprobe-username', requireUsernameProperty: true }).identity;
    assert.equal(checkIdentity(hard, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-a' }).ok, false);
    assert.equal(checkIdentity(hard, { topicDeviceId: 'pi-a', envelopeDeviceId: 'pi-a', brokerUsername: 'pi-a' }).ok, true);
  });
  it('reads the user property, refusing disagreeing repeats', () => {
    assert.equal(brokerUsernameFrom({ u: 'pi-a' }, 'u'), 'pi-a');
    assert.equal(brokerUsernameFrom({ u: ['pi-a', 'pi-a'] }, 'u'), 'pi-a');
    assert.notEqual(brokerUsernameFrom({ u: ['pi-b', 'pi-a'] }, 'u'), 'pi-a');
    assert.equal(brokerUsernameFrom({ other: 'x' }, 'u'), undefined);
    assert.equal(brokerUsernameFrom({ u: 'x' }, undefined), undefined);
  });
});

describe('job plan policy', () => {
  const p = config().policy;
  it('allows plans within the policy', () => {
    assert.equal(checkJobPlan(p, { models: [{ sha256: MODEL }], probes: ['attention'], variants: ['fp32', 'int8-dynamic'] }).ok, true);
    assert.equal(checkJobPlan(p, { models: [{ sha256: MODEL.toUpperCase() }], probes: ['benchmark'] }).ok, true);
  });
  it('refuses other models, probes, variants and empty plans', () => {
    const code = (d: ReturnType<typeof checkJobPlan>): string => (d.ok ? 'ok' : d.code);
    assert.equal(code(checkJobPlan(p, { models: [{ name: 'm', sha256: 'b'.repeat(64) }], probes: ['attention'] })), 'model-not-allowed');
    assert.equal(code(checkJobPlan(p, { models: [{ sha256: MODEL }], probes: ['properties'] })), 'probe-not-allowed');
    assert.equal(code(checkJobPlan(p, { models: [{ sha256: MODEL }], probes: ['attention'], variants: ['fp16'] })), 'variant-not-allowed');
    assert.equal(code(checkJobPlan(p, { models: [], probes: ['attention'] })), 'empty-plan');
  });
});

describe('payload limits', () => {
  it('allows up to the limit and refuses one byte more', () => {
    const l = config().limits;
    assert.equal(l.heartbeat, 4096, 'default heartbeat limit');
    assert.equal(checkPayloadSize(l, 'heartbeat', 4096).ok, true);
    assert.equal(checkPayloadSize(l, 'heartbeat', 4097).ok, false);
    // results: up to the protocol's ceiling, which agents never exceed (core/protocol/messages.ts)
    assert.equal(checkPayloadSize(l, 'results', MAX_MESSAGE_BYTES).ok, true);
    assert.equal(checkPayloadSize(l, 'results', MAX_MESSAGE_BYTES + 1).ok, false);
  });
});

describe('screenDeviceMessage', () => {
  const registered = new Map<string, { via: AdmittedVia }>([['pi-a', { via: 'allow-list' }]]);
  const ctx = { config: config(), registrationOf: (id: string) => registered.get(id) };
  const results = (dev: string, body: unknown) => ({ topic: `edgeprobe/v1/devices/${dev}/results`, payload: bytes(body) });

  it('accepts results from a registered device and returns the parsed body', () => {
    const r = screenDeviceMessage(results('pi-a', { deviceId: 'pi-a', records: [] }), ctx);
    assert.equal(r.ok, true);
    assert.deepEqual(r.ok && r.body, { deviceId: 'pi-a', records: [] });
  });
  it('refuses results from an unregistered device with a log line naming it', () => {
    const r = screenDeviceMessage(results('pi-z', { deviceId: 'pi-z', records: [] }), ctx);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.code, 'not-registered');
      assert.match(r.logLine, /refused results from pi-z on edgeprobe\/v1\/devices\/pi-z\/results: not-registered/);
    }
  });
  it('refuses a body that names another device, oversized and malformed payloads', () => {
    const code = (r: ReturnType<typeof screenDeviceMessage>): string => (r.ok ? 'ok' : r.code);
    assert.equal(code(screenDeviceMessage(results('pi-a', { deviceId: 'pi-b' }), ctx)), 'identity-mismatch');
    assert.equal(code(screenDeviceMessage(results('pi-a', '{not json'), ctx)), 'bad-json');
    assert.equal(code(screenDeviceMessage(results('pi-a', '[1,2]'), ctx)), 'bad-json');
    const big = { topic: 'edgeprobe/v1/devices/pi-a/heartbeat', payload: new Uint8Array(5000) };
    assert.equal(code(screenDeviceMessage(big, ctx)), 'too-large', 'size is checked before parsing (these bytes are not JSON)');
    assert.equal(code(screenDeviceMessage({ topic: 'edgeprobe/v1/devices/pi-a/jobs', payload: bytes({}) }, ctx)), 'bad-topic');
  });
  it('admits a register message by token and drops the token from the body', () => {
    const reg = { topic: 'edgeprobe/v1/devices/pi-new/register', payload: bytes({ deviceId: 'pi-new', registrationToken: 'fleet-secret', hw: 'pi5' }) };
    const r = screenDeviceMessage(reg, ctx);
    assert.equal(r.ok && r.admittedVia, 'fleet-token');
    assert.deepEqual(r.ok && r.body, { deviceId: 'pi-new', hw: 'pi5' });
    const bad = screenDeviceMessage({ ...reg, payload: bytes({ deviceId: 'pi-new', registrationToken: 'nope' }) }, ctx);
    assert.equal(bad.ok === false && bad.code, 'bad-token');
    assert.ok(bad.ok === false && !bad.logLine.includes('nope'), 'the log line must not echo the token');
  });
});
