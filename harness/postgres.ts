import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './mosquitto.ts';

/** Debian's postgresql package puts the server binaries under /usr/lib/postgresql/<major>/bin. */
function findPgBin(): string | undefined {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return majors.length > 0 ? join(root, majors[0], 'bin') : undefined;
}

export const PG_BIN = findPgBin();
/** `skip` option for node:test when PostgreSQL's server binaries are not installed */
export const needsPostgres = PG_BIN ? false : 'needs PostgreSQL server binaries (apt-get install postgresql; .ci/run installs it)';

const SUPERUSER = 'edgeprobe';

/**
 * A throwaway PostgreSQL server: `initdb` in a temp dir, a free loopback port, its unix socket in the
 * same dir, trust authentication. initdb and postgres refuse to run as root, so as root they run as
 * the `postgres` system user (which owns the temp dir): spawned with its uid/gid directly, so signals
 * reach postgres itself (runuser does not forward them).
 */
export class Postgres {
  private proc?: ChildProcess;
  log = '';

  private constructor(readonly port: number, readonly dir: string, private readonly runAs: SpawnOptions) {}

  static async start(opts: { durable?: boolean } = {}): Promise<Postgres> {
    if (!PG_BIN) throw new Error(String(needsPostgres));
    const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-pg-'));
    const asRoot = userInfo().uid === 0;
    let runAs: SpawnOptions = {};
    if (asRoot) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
      runAs = { uid, gid, env: { ...process.env, HOME: dir }, cwd: dir };
    }
    const data = join(dir, 'data');
    const init = spawnSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', SUPERUSER, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...runAs, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    const port = await freePort();
    const p = new Postgres(port, dir, runAs);
    // tests trade durability for speed; the benchmark keeps PostgreSQL's defaults (durable: true)
    const speed = opts.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
    p.command = [join(PG_BIN, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...speed];
    p.startProcess(p.command);
    await p.waitReady();
    return p;
  }

  private command: string[] = [];

  /** Stops the server and starts it again on the same port and data directory (a database restart mid-stream). */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.startProcess(this.command);
    await this.waitReady();
  }

  private startProcess(cmd: string[]): void {
    const proc = spawn(cmd[0], cmd.slice(1), { ...this.runAs, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => { this.log += d; });
    proc.stderr!.on('data', (d) => { this.log += d; });
    this.proc = proc;
  }

  private async waitReady(): Promise<void> {
    const end = Date.now() + 20_000;
    for (;;) {
      const c = new pg.Client({ connectionString: this.url('postgres') });
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (this.proc?.exitCode !== null) throw new Error(`postgres exited: ${this.log}`);
        if (Date.now() > end) throw new Error(`postgres did not accept connections: ${this.log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  url(database: string): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** Creates an empty database and returns its URL. */
  async createdb(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url('postgres') });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } finally {
      await c.end();
    }
    return this.url(name);
  }

  /** Fast shutdown (SIGINT) and wait for exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGINT');
    });
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
