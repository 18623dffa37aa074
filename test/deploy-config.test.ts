import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig, resolveAgentSettings } from '../agent/config/agent-config.ts';
import { loadCoordinatorConfig, resolveCoordinatorSettings } from '../coordinator/config/coordinator-config.ts';
import type { ErrorCode } from '../core/errors.ts';
import { checkHealthFile, startHealthBeacon, writeHealthFile } from '../core/health/health-file.ts';
import { assertCliError, coded } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { PROJECT_ROOT } from '../harness/shared-data.ts';
import { needsMosquitto } from './helpers/secure-mosquitto.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-deploycfg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function file(content: unknown, ext = '.json'): string {
  const p = join(tmp, `cfg-${n++}${ext}`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}
/** Asserts fn throws the coded error `code` (with a fix line) whose parameters match `params`. */
function userError(fn: () => unknown, code: ErrorCode, params: Record<string, string | number | RegExp> = {}): void {
  assert.throws(fn, coded(code, params));
}

describe('config files', () => {
  it('the shipped examples are valid', () => {
    const a = loadAgentConfig(join(PROJECT_ROOT, 'configs', 'agent.example.json'));
    assert.equal(a.value.deviceId, 'pi-01');
    const c = loadCoordinatorConfig(join(PROJECT_ROOT, 'configs', 'coordinator.example.json'));
    assert.deepEqual(c.value.admission.allowDevices, ['pi-01', 'pi-02']);
  });

  it('names the file and the field, for unknown fields, bad values and missing ones', () => {
    const typo = file({ configVersion: 1, deviceId: 'pi-01', brokr: {} });
    userError(() => loadAgentConfig(typo), 'EP_CONFIG_UNKNOWN_FIELD', { file: typo, fields: 'brokr' });
    userError(() => loadAgentConfig(file({ configVersion: 1, broker: { url: 'mqtts://b:8883', caFlie: 'x' } })), 'EP_CONFIG_UNKNOWN_FIELD', { fields: 'broker.caFlie' });
    userError(() => loadAgentConfig(file({ configVersion: 1, broker: { url: 'http://b' } })), 'EP_CONFIG_FIELD_INVALID', { field: 'broker.url' });
    userError(() => loadAgentConfig(file({ configVersion: 1, deviceId: 'pi/01' })), 'EP_CONFIG_FIELD_INVALID', { field: 'deviceId', got: /"pi\/01"/ });
    userError(() => loadAgentConfig(file({ deviceId: 'pi-01' })), 'EP_CONFIG_FIELD_INVALID', { field: 'configVersion', got: 'missing' });
    userError(() => loadCoordinatorConfig(file({ configVersion: 1, admission: { allowDevices: ['a'] }, policy: { models: [{ name: 'm', sha256: 'xyz' }] } })),
      'EP_CONFIG_FIELD_INVALID', { field: 'policy.models[0].sha256' });
  });

  it('refuses what would weaken security: plain MQTT to a remote host, a mismatched username, no admission', () => {
    userError(() => loadAgentConfig(file({ configVersion: 1, broker: { url: 'mqtt://broker.lan:1883' } })), 'EP_BROKER_PLAINTEXT_REMOTE', { field: 'broker', host: 'broker.lan' });
    assert.doesNotThrow(() => loadAgentConfig(file({ configVersion: 1, broker: { url: 'mqtt://127.0.0.1:1883' } })));
    userError(() => loadAgentConfig(file({ configVersion: 1, deviceId: 'pi-01', broker: { url: 'mqtts://b:8883', username: 'pi-02' } })), 'EP_AGENT_BROKER_USERNAME_MISMATCH', { username: 'pi-02', deviceId: 'pi-01' });
    userError(() => loadAgentConfig(file({ configVersion: 1, deviceId: 'coordinator' })), 'EP_AGENT_DEVICE_ID_RESERVED');
    const policy = { models: [{ name: 'm', sha256: 'a'.repeat(64) }] };
    userError(() => loadCoordinatorConfig(file({ configVersion: 1, admission: {}, policy })), 'EP_COORD_ADMISSION_EMPTY');
    userError(() => loadCoordinatorConfig(file({ configVersion: 1, admission: { allowDevices: ['pi-1'] }, policy: { models: [] } })), 'EP_COORD_POLICY_NO_MODELS');
    userError(() => loadCoordinatorConfig(file({ configVersion: 1, broker: { url: 'mqtts://b:8883', username: 'admin' }, admission: { allowDevices: ['pi-1'] }, policy })), 'EP_COORD_BROKER_USERNAME', { expected: 'coordinator', got: 'admin' });
  });

  it('reads YAML, and reports syntax errors and missing files with the path', () => {
    const y = file('configVersion: 1\ndeviceId: pi-07\nheartbeatIntervalS: 10\n', '.yaml');
    assert.equal(loadAgentConfig(y).value.heartbeatIntervalS, 10);
    assert.equal(loadAgentConfig(file({ configVersion: 1 })).value.heartbeatIntervalS, 30, 'default filled in');
    userError(() => loadAgentConfig(file('{"configVersion": 1,')), 'EP_CONFIG_SYNTAX', { format: 'JSON' });
    userError(() => loadAgentConfig(join(tmp, 'nope.json')), 'EP_CONFIG_NOT_FOUND', { what: 'agent config', file: join(tmp, 'nope.json') });
  });

  it('resolves agent settings: flags win, passwords come from a file or the environment', () => {
    const pw = join(tmp, 'pw');
    writeFileSync(pw, 'sekret\n');
    const cfg = file({ configVersion: 1, deviceId: 'pi-01', broker: { url: 'mqtts://b:8883', passwordFile: pw } });
    const s = resolveAgentSettings({ config: cfg, deviceId: 'pi-09', broker: 'mqtts://other:8883' }, {});
    assert.equal(s.deviceId, 'pi-09');
    assert.equal(s.brokerUrl, 'mqtts://other:8883');
    assert.equal(s.mqtt.username, 'pi-09');
    assert.equal(s.mqtt.password, 'sekret');
    const noFile = resolveAgentSettings({ broker: 'mqtt://localhost:1883', deviceId: 'pi-02' }, { EDGEPROBE_MQTT_PASSWORD: 'from-env' });
    assert.equal(noFile.mqtt.password, 'from-env');
    userError(() => resolveAgentSettings({ broker: 'mqtts://broker.lan:8883', deviceId: 'pi-02' }, {}), 'EP_BROKER_NO_PASSWORD', { username: 'pi-02' });
    const local = resolveAgentSettings({ broker: 'mqtt://127.0.0.1:1883', deviceId: 'pi-02' }, {});
    assert.equal(local.mqtt.password, undefined, 'a broker on localhost may run without authentication');
    assert.equal(local.mqtt.username, 'pi-02');
    userError(() => resolveAgentSettings({ config: file({ configVersion: 1, broker: { url: 'mqtts://b:8883', passwordFile: 'missing.pw' } }), deviceId: 'x' }, {}),
      'EP_CONFIG_REF_MISSING', { field: 'broker.passwordFile', target: /missing\.pw$/ });
    userError(() => resolveAgentSettings({ broker: 'mqtts://b:8883' }, {}), 'EP_AGENT_NO_DEVICE_ID');
    userError(() => resolveAgentSettings({ deviceId: 'pi-01' }, {}), 'EP_NO_BROKER_URL', { side: 'agent' });
  });

  it('resolves coordinator settings with the coordinator username', () => {
    const cfg = file({ configVersion: 1, db: 'store.sqlite', admission: { allowDevices: ['pi-1'] }, policy: { models: [{ name: 'm', sha256: 'a'.repeat(64) }] } });
    const s = resolveCoordinatorSettings({ config: cfg, broker: 'mqtt://127.0.0.1:1883' }, { EDGEPROBE_MQTT_PASSWORD: 'p' });
    assert.equal(s.mqtt.username, 'coordinator');
    assert.equal(s.db, join(tmp, 'store.sqlite'), 'relative paths resolve against the config file');
  });
});

describe('deployment CLI', () => {
  it('config check prints a fix line and no stack trace for a bad file', () => {
    const r = runCli(['config', 'check', 'agent', file({ configVersion: 2 })]);
    assertCliError(r, 'EP_CONFIG_FIELD_INVALID', /configVersion/);
  });

  it('certs dev makes a CA and a server certificate that verify, for the given names', () => {
    const out = join(tmp, 'certs');
    const r = runCli(['--json', 'certs', 'dev', '--out', out, '--hosts', 'broker.local,10.1.2.3,localhost']);
    assert.equal(r.status, 0, r.stderr);
    const res = jsonResult<{ caFingerprintSha256: string }>(r);
    // checked with node's own X509 implementation, independent of node-forge which wrote them
    const ca = new X509Certificate(readFileSync(join(out, 'ca.crt')));
    const server = new X509Certificate(readFileSync(join(out, 'server.crt')));
    assert.equal(ca.ca, true);
    assert.equal(server.ca, false);
    assert.equal(server.verify(ca.publicKey), true);
    assert.equal(server.checkIssued(ca), true);
    assert.equal(server.checkHost('broker.local'), 'broker.local');
    assert.equal(server.checkIP('10.1.2.3'), '10.1.2.3');
    assert.equal(server.checkHost('evil.example'), undefined);
    assert.equal(res.caFingerprintSha256, ca.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(statSync(join(out, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'server.key')).mode & 0o777, 0o600);
    const again = runCli(['certs', 'dev', '--out', out]);
    assertCliError(again, 'EP_CERT_FILES_EXIST', /fix: .*--force/);
    assertCliError(runCli(['certs', 'dev', '--out', join(tmp, 'c2'), '--hosts', 'bad host']), 'EP_CERT_HOST_INVALID');
  });

  it('broker add-user writes a Mosquitto hash and a 0600 password file', { skip: needsMosquitto }, () => {
    const passwd = join(tmp, 'passwd');
    const secrets = join(tmp, 'secrets');
    const r = runCli(['--json', 'broker', 'add-user', 'pi-01', '--passwd', passwd, '--secrets', secrets, '--token']);
    assert.equal(r.status, 0, r.stderr);
    const res = jsonResult<{ tokenSha256: string; tokenFile: string }>(r);
    assert.match(readFileSync(passwd, 'utf8'), /^pi-01:\$7\$/m);
    assert.equal(statSync(join(secrets, 'pi-01.password')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(secrets, 'pi-01.password'), 'utf8').trim(), /^[A-Za-z0-9_-]{43}$/);
    assert.match(res.tokenSha256, /^[0-9a-f]{64}$/);
    // a second user is appended, not written over the first
    assert.equal(runCli(['broker', 'add-user', 'coordinator', '--passwd', passwd, '--secrets', secrets]).status, 0);
    assert.match(readFileSync(passwd, 'utf8'), /^pi-01:.*\ncoordinator:/m);
    const bad = runCli(['broker', 'add-user', 'pi/01', '--passwd', passwd, '--secrets', secrets]);
    assertCliError(bad, 'EP_BROKER_USER_INVALID');
  });

  it('health exits 0 for a fresh ok file, 1 for stale, failed or missing ones', () => {
    const h = join(tmp, 'health.json');
    writeHealthFile(h, { role: 'agent', ok: true, detail: 'connected' });
    assert.equal(runCli(['health', '--file', h]).status, 0);
    writeHealthFile(h, { role: 'agent', ok: false, detail: 'broker unreachable' });
    const failed = runCli(['health', '--file', h]);
    assertCliError(failed, 'EP_UNHEALTHY', /broker unreachable/, 1);
    writeHealthFile(h, { role: 'coordinator', ok: true, detail: 'x' }, new Date(Date.now() - 600_000));
    assert.equal(runCli(['health', '--file', h, '--max-age', '90']).status, 1);
    assert.equal(existsSync(join(tmp, 'none.json')), false);
    assert.equal(runCli(['health', '--file', join(tmp, 'none.json')]).status, 1);
  });

  it('the health beacon rewrites the file with the current state until stopped', async () => {
    const h = join(tmp, 'beacon.json');
    let connected = true;
    const stop = startHealthBeacon(h, 'agent', () => ({ ok: connected, detail: connected ? 'connected' : 'broker unreachable' }), 0.05);
    try {
      assert.equal(checkHealthFile(h, 5).healthy, true);
      connected = false;
      await new Promise((r) => setTimeout(r, 150));
      const v = checkHealthFile(h, 5);
      assert.equal(v.healthy, false);
      assert.match(v.reason, /broker unreachable/);
    } finally {
      stop();
    }
    const last = readFileSync(h, 'utf8');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(readFileSync(h, 'utf8'), last, 'no writes after stop');
  });
});
