import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addBrokerUser } from '../../core/broker/mosquitto-users.ts';
import { makeDevCertificates } from '../../core/certs/dev-certs.ts';
import { PROJECT_ROOT } from '../../harness/shared-data.ts';
import { HAVE_MOSQUITTO, MOSQUITTO_BIN, freePort } from '../../harness/mosquitto.ts';

/**
 * A real Mosquitto started from the SHIPPED configs/mosquitto/mosquitto.conf and configs/mosquitto/acl.
 * Only deployment-specific values are rewritten (ports, file paths, bind address 127.0.0.1); every other
 * line, including allow_anonymous and the TLS settings, is used as shipped, so the tests fail if the
 * shipped config gets weaker. Certificates and passwords come from the same code as `edgeprobe certs dev`
 * and `edgeprobe broker add-user`.
 */
export const SHIPPED_CONF = join(PROJECT_ROOT, 'configs', 'mosquitto', 'mosquitto.conf');
export const SHIPPED_ACL = join(PROJECT_ROOT, 'configs', 'mosquitto', 'acl');
// one place finds the binary and free ports for both broker helpers
export { freePort, needsMosquitto } from '../../harness/mosquitto.ts';

export interface SecureBroker {
  dir: string;
  tlsPort: number;
  plainPort: number;
  caFile: string;
  passwdFile: string;
  passwords: Record<string, string>;
  passwordFiles: Record<string, string>;
  log: () => string;
  stop: () => Promise<void>;
  /** SIGKILL (a crash: no save on the way out), then start again on the same ports from the persistence file */
  crash: (downMs?: number) => Promise<void>;
}

/** The shipped config with paths and ports replaced; throws if a line it must replace is missing. */
export function testBrokerConfig(shipped: string, p: { tlsPort: number; plainPort: number; certDir: string; passwdFile: string; aclFile: string; dataDir: string }): string {
  const replacements: Array<[RegExp, string]> = [
    [/^password_file .*$/m, `password_file ${p.passwdFile}`],
    [/^acl_file .*$/m, `acl_file ${p.aclFile}`],
    [/^listener 8883$/m, `listener ${p.tlsPort} 127.0.0.1`],
    [/^listener 1883 127\.0\.0\.1$/m, `listener ${p.plainPort} 127.0.0.1`],
    [/^certfile .*$/m, `certfile ${join(p.certDir, 'server.crt')}`],
    [/^keyfile .*$/m, `keyfile ${join(p.certDir, 'server.key')}`],
    [/^cafile .*$/m, `cafile ${join(p.certDir, 'ca.crt')}`],
    [/^persistence_location .*$/m, `persistence_location ${p.dataDir}/`],
  ];
  let conf = shipped;
  for (const [re, line] of replacements) {
    if (!re.test(conf)) throw new Error(`shipped mosquitto.conf has no line matching ${re}; update test/helpers/secure-mosquitto.ts with the config`);
    conf = conf.replace(re, line);
  }
  // Mosquitto started as root drops to user "mosquitto", which could not read our 0600 temp files.
  if (process.getuid?.() === 0) conf += '\nuser root\n';
  return conf;
}

export async function startSecureMosquitto(users: string[]): Promise<SecureBroker> {
  if (!HAVE_MOSQUITTO) throw new Error('mosquitto is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-mosq-'));
  const certDir = join(dir, 'certs');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  makeDevCertificates({ outDir: certDir, hosts: ['localhost', '127.0.0.1'] });
  const passwdFile = join(dir, 'passwd');
  const passwords: Record<string, string> = {};
  const passwordFiles: Record<string, string> = {};
  for (const u of users) {
    const added = addBrokerUser({ user: u, passwdFile, secretsDir: join(dir, 'secrets') });
    passwordFiles[u] = added.passwordFile;
    passwords[u] = readFileSync(added.passwordFile, 'utf8').trim();
  }
  const tlsPort = await freePort();
  const plainPort = await freePort();
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, testBrokerConfig(readFileSync(SHIPPED_CONF, 'utf8'), { tlsPort, plainPort, certDir, passwdFile, aclFile: SHIPPED_ACL, dataDir }));

  let output = '';
  let proc!: ChildProcess;
  const spawnBroker = (): void => {
    proc = spawn(MOSQUITTO_BIN, ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    proc.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  };
  spawnBroker();
  const crash = async (downMs = 0): Promise<void> => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    spawnBroker();
    await waitForPort(plainPort, () => proc.exitCode !== null, 10_000);
    await waitForPort(tlsPort, () => proc.exitCode !== null, 10_000);
  };
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(tlsPort, () => proc.exitCode !== null, 10_000);
    await waitForPort(plainPort, () => proc.exitCode !== null, 10_000);
  } catch (err) {
    await stop();
    throw new Error(`mosquitto did not start: ${(err as Error).message}\n${output}`, { cause: err });
  }
  return { dir, tlsPort, plainPort, caFile: join(certDir, 'ca.crt'), passwdFile, passwords, passwordFiles, log: () => output, stop, crash };
}

async function waitForPort(port: number, died: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died()) throw new Error('process exited');
    const ok = await new Promise<boolean>((r) => {
      const s = tcpConnect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); r(true); });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} not open after ${timeoutMs} ms`);
}
