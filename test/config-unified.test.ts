import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadAgentConfig, resolveAgentSettings } from '../agent/config/agent-config.ts';
import { loadCoordinatorConfig, resolveCoordinatorSettings } from '../coordinator/config/coordinator-config.ts';
import { screenDeviceMessage } from '../coordinator/security/index.ts';
import { migrationsFor } from '../coordinator/store/migrations.ts';
import { openStore } from '../coordinator/store/sqlite-store.ts';
import { DEVICE_MESSAGE_LIMITS, MAX_MESSAGE_BYTES } from '../core/protocol/messages.ts';
import { coded } from './helpers/coded-errors.ts';

// The one agent config (identity + broker + allow-list), the coordinator without a config, and the
// admitted_via migration: what the wiring of issue 8 added on top of the two halves.
const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-unified-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = (content: unknown): string => {
  const p = join(tmp, `cfg-${n++}.json`);
  writeFileSync(p, JSON.stringify(content));
  return p;
};

describe('one agent config', () => {
  it('carries identity, broker and allow-list; the allow-list defaults to the demo model and the benchmark', () => {
    const bare = loadAgentConfig(file({ configVersion: 1, deviceId: 'pi-01' })).value;
    assert.deepEqual(bare.models, [{ name: 'demo', generated: 'demo' }]);
    assert.deepEqual(bare.probes, ['benchmark']);
    const cfg = file({ configVersion: 1, deviceId: 'pi-01', dataDir: 'data', models: [{ name: 'local', path: 'models/x', sha256: 'a'.repeat(64) }], probes: ['benchmark', 'attention'] });
    const s = resolveAgentSettings({ config: cfg, broker: 'mqtt://127.0.0.1:1883' }, {});
    assert.equal(s.stateDir, join(tmp, 'data', 'state'), 'state under dataDir, relative to the config file');
    assert.deepEqual(s.allow.models, [{ name: 'local', path: join(tmp, 'models', 'x'), sha256: 'a'.repeat(64) }]);
    assert.deepEqual(s.allow.probes, ['benchmark', 'attention']);
    assert.equal(resolveAgentSettings({ config: cfg, broker: 'mqtt://127.0.0.1:1883', stateDir: '/s' }, {}).stateDir, '/s', '--state-dir wins');
  });
  it('refuses the old split fields and duplicate model names, naming the field', () => {
    assert.throws(() => loadAgentConfig(file({ configVersion: 1, heartbeatS: 1 })), coded('EP_CONFIG_UNKNOWN_FIELD', { fields: 'heartbeatS' }));
    assert.throws(() => loadAgentConfig(file({ configVersion: 1, models: [{ name: 'd', generated: 'demo' }, { name: 'd', generated: 'tiny' }] })), coded('EP_AGENT_MODEL_NAME_DUPLICATE', { name: 'd' }));
    assert.throws(() => loadAgentConfig(file({ configVersion: 1, probes: ['shell'] })), coded('EP_CONFIG_PROBE_UNKNOWN', { field: 'probes[0]', value: 'shell' }));
    assert.deepEqual(resolveAgentSettings({ config: file({ configVersion: 1, deviceId: 'pi-03', probes: ['compare', 'divergence'] }), broker: 'mqtt://localhost:1883' }, {}).allow.probes, ['divergence'], 'the old name of a probe is read as the new one');
  });
  it('reads the registration token from its file and sends no token when none is set', () => {
    writeFileSync(join(tmp, 'token'), 'tok-123\n');
    const cfg = file({ configVersion: 1, deviceId: 'pi-02', registrationTokenFile: 'token' });
    assert.equal(resolveAgentSettings({ config: cfg, broker: 'mqtt://localhost:1883' }, {}).registrationToken, 'tok-123');
    assert.equal(resolveAgentSettings({ broker: 'mqtt://localhost:1883', deviceId: 'pi-02' }, {}).registrationToken, undefined);
  });
});

describe('coordinator without a config', () => {
  it('runs with open admission only against a broker on this machine', () => {
    const s = resolveCoordinatorSettings({ broker: 'mqtt://127.0.0.1:1883', db: join(tmp, 'x.sqlite') }, {});
    assert.equal(s.openAdmission, true);
    assert.throws(() => resolveCoordinatorSettings({ broker: 'mqtts://broker.lan:8883', db: 'x.sqlite' }, { EDGEPROBE_MQTT_PASSWORD: 'p' }), coded('EP_COORD_CONFIG_REQUIRED'));
  });
  it('with a config, admission is never open and limits cannot exceed the protocol ceiling', () => {
    const base = { configVersion: 1, db: 'c.sqlite', admission: { allowDevices: ['pi-1'] }, policy: { models: [{ name: 'm', sha256: 'b'.repeat(64) }] } };
    const s = resolveCoordinatorSettings({ config: file(base), broker: 'mqtt://127.0.0.1:1883' }, {});
    assert.equal(s.openAdmission, false);
    assert.deepEqual(s.config.limits, DEVICE_MESSAGE_LIMITS, 'defaults are the protocol\'s per-kind limits');
    assert.throws(() => loadCoordinatorConfig(file({ ...base, limits: { results: MAX_MESSAGE_BYTES + 1 } })), coded('EP_CONFIG_FIELD_INVALID', { field: 'limits.results' }));
  });
  it('open admission admits any device but not the coordinator name; open registrations lapse under a config', () => {
    const s = resolveCoordinatorSettings({ broker: 'mqtt://127.0.0.1:1883', db: 'x' }, {});
    const reg = (id: string) => ({ topic: `edgeprobe/v1/devices/${id}/register`, payload: Buffer.from(JSON.stringify({ deviceId: id })) });
    const open = { config: s.config, openAdmission: true, registrationOf: () => undefined };
    const r = screenDeviceMessage(reg('anyone'), open);
    assert.equal(r.ok && r.admittedVia, 'open-loopback');
    assert.equal(screenDeviceMessage(reg('coordinator'), open).ok, false);
    const closed = resolveCoordinatorSettings({ config: file({ configVersion: 1, admission: { allowDevices: ['anyone'] }, policy: { models: [{ name: 'm', sha256: 'b'.repeat(64) }] } }), broker: 'mqtt://127.0.0.1:1883', db: 'x' }, {});
    const results = { topic: 'edgeprobe/v1/devices/anyone/results', payload: Buffer.from(JSON.stringify({ deviceId: 'anyone' })) };
    const lapsed = screenDeviceMessage(results, { config: closed.config, registrationOf: () => ({ via: 'open-loopback' }) });
    assert.equal(lapsed.ok === false && lapsed.code, 'revoked');
  });
});

describe('store migration 2 (admitted_via)', () => {
  it('upgrades a version-1 database; devices registered before it are not admitted until they register again', () => {
    const path = join(tmp, 'v1.sqlite');
    // a version-1 database (migration 1 only) with a device row
    const db = new Database(path);
    db.exec(migrationsFor('sqlite')[0]);
    db.pragma('user_version = 1');
    db.exec("INSERT INTO devices (device_id, profile, allowed, first_seen_ms, last_seen_ms) VALUES ('old-pi', '{}', '{}', 1, 1)");
    db.close();
    const upgraded = openStore(path);
    try {
      assert.equal(upgraded.isKnownDevice('old-pi'), true);
      assert.equal(upgraded.registrationOf('old-pi'), undefined, 'no admission route recorded: not admitted');
      const profile = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0' };
      upgraded.registerDevice('old-pi', { profile, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', 2);
      assert.deepEqual(upgraded.registrationOf('old-pi'), { via: 'allow-list' });
      assert.equal(upgraded.devices()[0].admittedVia, 'allow-list');
    } finally {
      upgraded.close();
    }
  });
});
