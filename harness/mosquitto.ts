import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from './shared-data.ts';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
export const HAVE_MOSQUITTO = existsSync(MOSQUITTO_BIN);
/** `skip` option for node:test when Mosquitto is not installed */
export const needsMosquitto = HAVE_MOSQUITTO ? false : `needs ${MOSQUITTO_BIN} (apt-get install mosquitto)`;

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Broker-wide settings of the shipped configs/mosquitto/mosquitto.conf that shape ingest (queues, in-flight window, persistence). */
const SHIPPED_LIMIT_KEYS = ['autosave_interval', 'max_inflight_messages', 'max_queued_messages', 'max_queued_bytes', 'max_packet_size'];
export function shippedBrokerLimits(): string[] {
  const conf = readFileSync(join(PROJECT_ROOT, 'configs', 'mosquitto', 'mosquitto.conf'), 'utf8');
  return conf.split('\n').filter((l) => SHIPPED_LIMIT_KEYS.includes(l.split(' ')[0]));
}

/**
 * A real Mosquitto on a free loopback port with a generated config in a temp dir. Persistence is on
 * (as in any deployment that wants store-and-forward through broker restarts): a stop with SIGTERM
 * saves sessions and queued messages, a restart on the same port restores them.
 */
export class Mosquitto {
  private proc?: ChildProcess;
  log = '';

  private constructor(readonly port: number, readonly dir: string, private readonly nofile?: number) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /**
   * `extraConfig`: more mosquitto.conf lines (the scale benchmark sets max_connections -1);
   * `nofile`: this broker's own file-descriptor limit (through prlimit), never the system's.
   * An extra line whose key is one of the defaults below replaces that default (Mosquitto would
   * otherwise see the option twice).
   */
  static async start(opts: { extraConfig?: string[]; nofile?: number } = {}): Promise<Mosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-mosquitto-'));
    const port = await freePort();
    const extra = opts.extraConfig ?? [];
    const overridden = new Set(extra.map((l) => l.split(' ')[0]));
    writeFileSync(join(dir, 'mosquitto.conf'), [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // started as root Mosquitto drops to user "mosquitto", which cannot write the temp dir's persistence file
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      'max_queued_messages 100000',
      'max_inflight_messages 100',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ].filter((l) => !overridden.has(l.split(' ')[0])).concat(extra, '').join('\n'));
    const m = new Mosquitto(port, dir, opts.nofile);
    await m.startProcess();
    return m;
  }

  private async startProcess(): Promise<void> {
    const cmd = [MOSQUITTO_BIN, '-c', join(this.dir, 'mosquitto.conf')];
    const full = this.nofile ? ['prlimit', `--nofile=${this.nofile}:${this.nofile}`, '--', ...cmd] : cmd;
    const proc = spawn(full[0], full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => { this.log += d; });
    proc.stderr!.on('data', (d) => { this.log += d; });
    this.proc = proc;
    const end = Date.now() + 10_000;
    while (!(await portOpen(this.port))) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${this.log}`);
      if (Date.now() > end) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait for exit (Mosquitto saves its persistence file on the way out). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  async dispose(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
