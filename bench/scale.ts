/**
 * Scale benchmark: 10,000 simulated devices (edgeprobe simulate, a load tool) on one local Mosquitto,
 * heartbeat every 10 s plus result traffic, into 1 coordinator on SQLite, 1 on PostgreSQL and 3
 * replicas on PostgreSQL (shared subscription). Per setup: results stored vs acknowledged (zero lost),
 * steady-state p99 delay from publish to row, burst ingest messages/s, coordinator RSS; and the
 * slowdown of valid ingest under a burst of malformed/oversized messages from many device ids.
 * Run: npx tsx bench/scale.ts   -> bench/results/scale.json
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { percentiles } from '../core/numeric/stats.ts';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { Mosquitto } from '../harness/mosquitto.ts';
import { Postgres } from '../harness/postgres.ts';
import { writeBenchResult, type BenchRow } from './bench-result.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
// SCALE_DEVICES / SCALE_SECONDS shrink the run for a smoke test of the script itself
const FLEET = Number(process.env.SCALE_DEVICES ?? 10_000);
const SIM_PROCESSES = 4; // 2,500 MQTT clients per process: one event loop each
const HEARTBEAT_S = 10;
const FLEET_RATE = 200; // results/s across the fleet, on top of 1,000 heartbeats/s
const FLEET_S = Number(process.env.SCALE_SECONDS ?? 55);
const STEADY_S = 15;
const BURST = { devices: 50, rate: 4000, seconds: 8 };
const BAD = { devices: 500, rate: 500 };

/** This process's hard limit: the benchmark raises its children to it (prlimit), never the system's. */
const NOFILE = Math.min(65_536, Number(execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 65_536);

interface SimStats { resultsAcked: number; heartbeatsSent: number; badSent: number; publishErrors: number }

/** A simulator process under its own raised file-descriptor limit. */
function simulate(broker: string, args: string[]): { proc: ChildProcess; done: Promise<SimStats> } {
  const proc = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, '--', process.execPath, '--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'simulate', '--json', '--broker', broker, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; });
  const done = new Promise<SimStats>((resolve, reject) => proc.once('exit', (code) => {
    const line = out.split('\n').filter((l) => l.includes('"type":"result"')).pop();
    if (code !== 0 || !line) reject(new Error(`simulate exited ${code}: ${err.slice(-2000)}`));
    else resolve((JSON.parse(line) as { result: SimStats }).result);
  }));
  return { proc, done };
}

interface Reader { count(where: string): Promise<number>; rows(sql: string): Promise<Array<Record<string, unknown>>>; close(): Promise<void> }

function sqliteReader(path: string): Reader {
  let db: Database.Database | undefined;
  const open = (): Database.Database => (db ??= new Database(path, { readonly: true, fileMustExist: true }));
  return {
    count: async (sql) => Number((open().prepare(sql).get() as { n: number }).n),
    rows: async (sql) => open().prepare(sql).all() as Array<Record<string, unknown>>,
    close: async () => { db?.close(); },
  };
}

function pgReader(url: string): Reader {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    count: async (sql) => Number((await pool.query(sql)).rows[0].n),
    rows: async (sql) => (await pool.query(sql)).rows,
    close: () => pool.end(),
  };
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number => {
  try { return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024; } catch { return 0; }
};

/** One valid results burst (optionally with a concurrent bad-input burst); messages/s until all stored. */
async function burst(broker: string, reader: Reader, prefix: string, bad: boolean): Promise<{ rate: number; badSent: number }> {
  const t0 = Date.now();
  const valid = simulate(broker, ['--devices', String(BURST.devices), '--prefix', prefix, '--rate', String(BURST.rate), '--heartbeat', '3600', '--duration', String(BURST.seconds)]);
  const noise = bad ? simulate(broker, ['--devices', String(BAD.devices), '--prefix', `${prefix}bad`, '--rate', '0', '--bad-rate', String(BAD.rate), '--heartbeat', '3600', '--duration', String(BURST.seconds + 2), '--connect-rate', '2000']) : undefined;
  const stats = await valid.done;
  await until(async () => (await reader.count(`SELECT COUNT(*) AS n FROM results WHERE device_id LIKE '${prefix}-%'`)) >= stats.resultsAcked, 120_000, `${prefix} burst stored`);
  const seconds = (Date.now() - t0) / 1000;
  const badStats = await noise?.done;
  // the valid simulator spends ~2 s starting (tsx) and connecting before it sends: subtract it from both
  return { rate: stats.resultsAcked / Math.max(0.1, seconds - 2), badSent: badStats?.badSent ?? 0 };
}

interface Setup { name: string; engine: 'sqlite' | 'postgres'; replicas: number; malformed: boolean }

async function runSetup(s: Setup, pgServer: Postgres | undefined, work: string): Promise<BenchRow[]> {
  process.stderr.write(`\n== ${s.name}\n`);
  const broker = await Mosquitto.start({ extraConfig: ['max_connections -1'], nofile: NOFILE });
  const db = s.engine === 'sqlite' ? join(work, `${s.name.replace(/\W+/g, '-')}.sqlite`) : await pgServer!.createdb(s.name.replace(/\W+/g, '_'));
  const coordinators = Array.from({ length: s.replicas }, (_, i) => new CliProcess(`coordinator-${i}`, ['coordinator', '--broker', broker.url, '--db', db, '--load-test', ...(s.replicas > 1 ? ['--replica-id', `r${i}`] : [])]));
  await Promise.all(coordinators.map((c) => c.waitFor(/coordinator listening/)));
  const reader = s.engine === 'sqlite' ? sqliteReader(db) : pgReader(db);
  let peakRss = 0;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, ...coordinators.map((c) => (c.alive ? rssMb(c.proc.pid!) : 0))); }, 1000);
  try {
    const t0 = Date.now();
    const per = FLEET / SIM_PROCESSES;
    const fleet = Array.from({ length: SIM_PROCESSES }, (_, i) => simulate(broker.url, ['--devices', String(per), '--first-index', String(i * per), '--prefix', 'sim', '--heartbeat', String(HEARTBEAT_S), '--rate', String(FLEET_RATE / SIM_PROCESSES), '--duration', String(FLEET_S), '--connect-rate', '500']));
    await until(async () => (await reader.count('SELECT COUNT(*) AS n FROM devices')) >= FLEET, 180_000, `${FLEET} devices registered`);
    const registeredS = (Date.now() - t0) / 1000;
    await sleep(2000); // the registration backlog clears
    const steadyStart = new Date().toISOString();
    await sleep(STEADY_S * 1000);
    const burstStart = new Date().toISOString();
    const clean = await burst(broker.url, reader, 'burst', false);
    const noisy = s.malformed ? await burst(broker.url, reader, 'noisy', true) : undefined;
    const stats = await Promise.all(fleet.map((f) => f.done));
    const acked = stats.reduce((a, x) => a + x.resultsAcked, 0);
    const hbSent = stats.reduce((a, x) => a + x.heartbeatsSent, 0);
    await until(async () => (await reader.count("SELECT COUNT(*) AS n FROM results WHERE device_id LIKE 'sim-%'")) >= acked, 120_000, 'fleet results stored');
    await sleep(2000);
    const stored = await reader.count("SELECT COUNT(*) AS n FROM results WHERE device_id LIKE 'sim-%'");
    const hbStored = await reader.count("SELECT COUNT(*) AS n FROM heartbeats WHERE device_id LIKE 'sim-%'");
    const delays = (await reader.rows(`SELECT received_ms AS r, sent_at AS s FROM results WHERE device_id LIKE 'sim-%' AND sent_at >= '${steadyStart}' AND sent_at < '${burstStart}'`))
      .map((r) => Number(r.r) - Date.parse(String(r.s)));
    const [p50, p99] = percentiles(delays, [50, 99]);
    const steadyRate = (hbStored + stored) / (FLEET_S + registeredS); // what the coordinators kept up with
    const rows: BenchRow[] = [
      { metric: `${s.name}: results stored / acknowledged by the broker`, value: stored / acked, unit: 'ratio', target: '= 1 (zero lost)', pass: stored === acked },
      { metric: `${s.name}: results lost`, value: acked - stored, unit: 'messages', target: '= 0', pass: stored === acked },
      { metric: `${s.name}: heartbeats stored / sent (QoS 0)`, value: Number((hbStored / hbSent).toFixed(4)), unit: 'ratio' },
      { metric: `${s.name}: p50 delay publish -> row, steady state`, value: Math.round(p50), unit: 'ms' },
      { metric: `${s.name}: p99 delay publish -> row, steady state`, value: Math.round(p99), unit: 'ms', target: '<= 1000', pass: p99 <= 1000 },
      { metric: `${s.name}: ingest, heartbeats + results stored / run time (offered ${FLEET / HEARTBEAT_S + FLEET_RATE}/s)`, value: Math.round(steadyRate), unit: 'msg/s' },
      { metric: `${s.name}: burst ingest, results (offered ${BURST.rate}/s)`, value: Math.round(clean.rate), unit: 'msg/s' },
      { metric: `${s.name}: ${FLEET} devices connected and registered`, value: Number(registeredS.toFixed(1)), unit: 's' },
      { metric: `${s.name}: coordinator peak RSS (largest replica)`, value: Math.round(peakRss), unit: 'MB' },
    ];
    if (noisy) {
      const slowdown = clean.rate / noisy.rate;
      const rejected = await reader.count("SELECT COUNT(*) AS n FROM rejected_messages WHERE device_id LIKE 'noisybad-%'");
      rows.push(
        { metric: `${s.name}: valid burst ingest with ${BAD.rate}/s malformed/oversized/spoofed from ${BAD.devices} device ids`, value: Math.round(noisy.rate), unit: 'msg/s' },
        { metric: `${s.name}: valid ingest slowdown under the bad-input burst`, value: Number(slowdown.toFixed(3)), unit: 'x', target: '<= 1.2', pass: slowdown <= 1.2 },
        { metric: `${s.name}: bad messages rejected and counted / sent`, value: Number((rejected / Math.max(1, noisy.badSent)).toFixed(4)), unit: 'ratio', target: '= 1', pass: rejected === noisy.badSent },
      );
    }
    process.stderr.write(`${JSON.stringify(rows, null, 1)}\n`);
    return rows;
  } finally {
    clearInterval(sampler);
    await reader.close();
    await killAllCliProcesses();
    await broker.dispose();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-bench-scale-'));
  const pgServer = await Postgres.start({ durable: true });
  const rows: BenchRow[] = [];
  try {
    for (const s of [
      { name: 'PostgreSQL, 1 coordinator', engine: 'postgres', replicas: 1, malformed: true },
      { name: 'PostgreSQL, 3 replicas', engine: 'postgres', replicas: 3, malformed: false },
      { name: 'SQLite, 1 coordinator', engine: 'sqlite', replicas: 1, malformed: false },
    ] satisfies Setup[]) rows.push(...await runSetup(s, pgServer, work));
  } finally {
    await pgServer.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  const path = writeBenchResult({
    topic: 'scale',
    title: `Scale: ${FLEET.toLocaleString('en')} simulated devices, one Mosquitto, coordinators on SQLite and PostgreSQL`,
    rows,
    notes: [
      `LOAD TOOL numbers: ${FLEET} devices simulated by \`edgeprobe simulate\` in ${SIM_PROCESSES} processes (${FLEET / SIM_PROCESSES} MQTT clients each, own client id, persistent session and last will per device), heartbeat every ${HEARTBEAT_S} s (QoS 0) plus ${FLEET_RATE} results/s (QoS 1, ~7 KB benchmark records: 16 x 32 fingerprint) for ${FLEET_S} s.`,
      `Steady-state delay: envelope sentAt (set just before publish) to the coordinator's received_ms (the commit follows within the same round), for results published in the ${STEADY_S} s between registration (+2 s) and the first burst.`,
      `Burst: ${BURST.devices} more devices offer ${BURST.rate} results/s for ${BURST.seconds} s while the fleet keeps sending; rate = results acknowledged / (time until all stored - 2 s simulator start-up). About 800/s arrived: this figure is bound by the one load-generator process, not the coordinator.`,
      `Bad input: ${BAD.devices} device ids send ${BAD.rate}/s malformed JSON, oversized (>256 KiB), schema-invalid and spoofed-device messages (a quarter each) during a second valid burst; slowdown = clean burst rate / noisy burst rate.`,
      `Everything (Mosquitto, PostgreSQL with default durability settings, coordinators, ${SIM_PROCESSES}-5 simulator processes) shares one machine (${process.env.BENCH_MACHINE_NOTE ?? 'see machine'}) that other jobs were also using: the numbers are noisy lower bounds, run once.`,
      `File descriptors: Mosquitto and the simulators run under prlimit --nofile=${NOFILE} (this process's hard limit); the system limit is unchanged. Mosquitto runs with max_connections -1.`,
      'With 3 replicas the lease holder also dispatches; register messages reach every replica (plain subscription, for retained delivery), everything else is split by $share/edgeprobe-coordinators/.',
    ],
  });
  console.log(`wrote ${path}`);
}

await main();
