/**
 * PostgreSQL ingest capacity: how many results/s 1 and 3 coordinator replicas store when the load
 * generators offer more than they can take. Several `edgeprobe simulate` processes (a load tool) offer
 * OFFERED results/s in total, to a Mosquitto with the shipped broker limits; the capacity is the rate of
 * commits between the 10th and 90th percentile row (the generators offer more, so the coordinators drain a
 * backlog), then every acknowledged result must be stored (0 lost). CPU seconds per process group, the
 * coordinators' CPU per result and their CPU profiles (by category) show where the time goes.
 * Run: npx tsx bench/ingest-capacity.ts   -> bench/results/ingest-capacity.json
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { Mosquitto, shippedBrokerLimits } from '../harness/mosquitto.ts';
import { Postgres } from '../harness/postgres.ts';
import { writeBenchResult, type BenchRow } from './bench-result.ts';
import { profileShares } from './cpu-profile-shares.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const GENERATORS = Number(process.env.INGEST_GENERATORS ?? 4);
const DEVICES_PER_GENERATOR = 20;
// the coordinators run with --load-test: the generators stream under a job id that does not exist (docs/scale.md)
const OFFERED = Number(process.env.INGEST_OFFERED ?? 9000); // results/s across all generators
const SECONDS = Number(process.env.INGEST_SECONDS ?? 20);
const GOAL = 5000;
const REPLICAS = (process.env.INGEST_REPLICAS ?? '1,3').split(',').map(Number);
// the coordinators write V8 CPU profiles (node --cpu-prof) on exit: to INGEST_PROFILE=<dir>, else a temp dir; INGEST_PROFILE=off skips them
const PROFILE_DIR = process.env.INGEST_PROFILE === 'off' ? undefined : process.env.INGEST_PROFILE || mkdtempSync(join(tmpdir(), 'edgeprobe-ingest-prof-'));
const WHERE_TIME_GOES = [
  'Commit rounds: one round in flight at a time; the messages that arrive while it commits form the next round (up to the broker\'s max_inflight_messages PUBACKs held per coordinator), and the next round is checked while the current one commits. Before (2026-12-01 14:59 run) a round closed on every event-loop turn, so each held the few messages of one socket read and paid its own synchronous WAL flush: about 400 results/s whatever the load.',
  'Results go to PostgreSQL as one multi-row INSERT per round (every value its own parameter); the earlier text arrays through unnest made node-postgres escape each ~7 KB JSON record into an array literal.',
  'The regression monitor (the lease holder, every 5 s when results arrived) reads incrementally: the consistency-band scan only the benchmark records stored since its last scan of each job (band-scan.ts JobSeriesCache), the series history each record once (series-query.ts SeriesHistory). Before (2026-12-01 17:21 run) it re-read every benchmark record of each touched job and the newest 200 records of each touched series every 5 s: 21-22% of the coordinator\'s CPU, growing with the run.',
  'The store keeps the device\'s own text of payload.record, found in the screen\'s depth pass (core/protocol/record-span.ts), instead of JSON.stringify of the parsed record.',
  'On a PostgreSQL with lz4 (14+), records are TOAST-compressed with lz4 instead of pglz: 54-60 instead of 180-198 backend CPU µs per ~6 KB record in isolation, ~12% more bytes (postgres-store.ts chooseCompression).',
];
// node flags of the coordinator processes, e.g. INGEST_NODE_ARGS=--max-semi-space-size=32
const NODE_ARGS = (process.env.INGEST_NODE_ARGS ?? '').split(' ').filter(Boolean);

const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
// the last value read per pid: a generator that has exited keeps the CPU time it had used
const lastCpu = new Map<number, number>();
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    lastCpu.set(pid, (Number(f[11]) + Number(f[12])) / TICKS); // utime + stime
  } catch {
    // gone: its last reading stands
  }
  return lastCpu.get(pid) ?? 0;
}
/** PIDs of every process whose command line contains `needle` (PostgreSQL runs several backends). */
function pidsOf(needle: string): number[] {
  return spawnSync('pgrep', ['-f', needle], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
}

function simulate(broker: string, index: number): { proc: ChildProcess; done: Promise<{ resultsAcked: number; publishErrors: number }> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'simulate', '--json', '--broker', broker,
    '--devices', String(DEVICES_PER_GENERATOR), '--prefix', `cap${index}`, '--rate', String(OFFERED / GENERATORS), '--heartbeat', '3600', '--duration', String(SECONDS)],
  { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  const done = new Promise<{ resultsAcked: number; publishErrors: number }>((resolve, reject) => proc.once('exit', (code) => {
    const line = out.split('\n').filter((l) => l.includes('"type":"result"')).pop();
    if (code !== 0 || !line) reject(new Error(`simulate exited ${code}`));
    else resolve((JSON.parse(line) as { result: { resultsAcked: number; publishErrors: number } }).result);
  }));
  return { proc, done };
}

interface RunResult { wallS: number; capacity: number; offered: number; acked: number; stored: number; cpu: Record<string, number>; coordCpuPerResult: number; spanS: number }

async function run(broker: Mosquitto, server: Postgres, replicas: number): Promise<RunResult> {
  const url = await server.createdb(`cap${replicas}`);
  const db = new pg.Pool({ connectionString: url, max: 1 });
  const count = async (): Promise<number> => Number((await db.query('SELECT COUNT(*) AS n FROM results')).rows[0].n);
  const coords = Array.from({ length: replicas }, (_, i) => new CliProcess(`r${i}`, ['coordinator', '--broker', broker.url, '--db', url, '--load-test', ...(replicas > 1 ? ['--replica-id', `r${i}`] : [])],
    [...NODE_ARGS, ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, `replicas-${replicas}`)}`] : [])]));
  await Promise.all(coords.map((c) => c.waitFor(/coordinator listening/)));
  // the postmaster names the data directory; its backends are its children
  const master = pidsOf(server.dir);
  const pgPids = (): number[] => [...master, ...master.flatMap((p) => spawnSync('ps', ['-o', 'pid=', '--ppid', String(p)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number))];
  const sims = Array.from({ length: GENERATORS }, (_, i) => simulate(broker.url, i));
  const groups = (): Record<string, number[]> => ({ coordinators: coords.map((c) => c.proc.pid!), generators: sims.map((s) => s.proc.pid!), mosquitto: pidsOf(broker.dir), postgres: pgPids() });
  const cpuOf = (g: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(g).map(([k, ps]) => [k, ps.reduce((s, p) => s + cpuSeconds(p), 0)]));
  const cpu0 = cpuOf(groups());
  const t0 = Date.now();
  const sampler = setInterval(() => { for (const p of sims) cpuSeconds(p.proc.pid!); }, 250);
  const stats = await Promise.all(sims.map((s) => s.done)).finally(() => clearInterval(sampler));
  const acked = stats.reduce((s, x) => s + x.resultsAcked, 0);
  // the coordinators keep draining what the broker queued; CPU is sampled when the last row is in
  const drainEnd = Date.now() + 300_000;
  const g = groups();
  while ((await count()) < acked && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 200));
  const cpu1 = cpuOf(g);
  const wall = (Date.now() - t0) / 1000;
  const stored = await count();
  // capacity: rows committed between the 10th and 90th percentile commit times. The generators offer
  // more than the coordinators take (a backlog at stop says so), so this is the drain rate, free of
  // the start-up and the tail.
  const q = (await db.query<{ lo: number; hi: number }>(`SELECT percentile_disc(0.1) WITHIN GROUP (ORDER BY received_ms) AS lo,
    percentile_disc(0.9) WITHIN GROUP (ORDER BY received_ms) AS hi FROM results`)).rows[0];
  const mid = Number((await db.query('SELECT COUNT(*) AS n FROM results WHERE received_ms > $1 AND received_ms <= $2', [q.lo, q.hi])).rows[0].n);
  const spanS = (q.hi - q.lo) / 1000;
  await Promise.all(coords.map((c) => c.kill('SIGTERM')));
  await db.end();
  const cpu = Object.fromEntries(Object.entries(cpu1).map(([k, v]) => [k, Number(((v - cpu0[k]) / wall).toFixed(2))]));
  return { wallS: wall, capacity: Math.round(mid / Math.max(spanS, 0.001)), offered: Math.round(acked / SECONDS), acked, stored, cpu,
    coordCpuPerResult: (cpu1.coordinators - cpu0.coordinators) / Math.max(stored, 1), spanS };
}

// the shipped broker's queue, in-flight window and persistence (configs/mosquitto/mosquitto.conf)
const BROKER_LIMITS = shippedBrokerLimits();
const [broker, server] = await Promise.all([Mosquitto.start({ extraConfig: BROKER_LIMITS }), Postgres.start({ durable: true })]);
const rows: BenchRow[] = [];
const notes: string[] = [];
try {
  for (const replicas of REPLICAS) {
    const r = await run(broker, server, replicas);
    rows.push({ metric: `results/s stored (drain rate, 10th-90th percentile commit), ${replicas} replica(s)`, value: r.capacity, unit: 'results/s', target: `>= ${GOAL} (3 replicas)`, pass: replicas === 3 ? r.capacity >= GOAL : undefined });
    rows.push({ metric: `results/s acknowledged by the broker (offered), ${replicas} replica(s)`, value: r.offered, unit: 'results/s' });
    rows.push({ metric: `coordinator CPU per result, ${replicas} replica(s)`, value: Number((r.coordCpuPerResult * 1e6).toFixed(0)), unit: 'CPU µs/result' });
    for (const group of ['postgres', 'mosquitto', 'generators']) {
      rows.push({ metric: `${group} CPU per result, ${replicas} replica(s)`, value: Math.round((r.cpu[group] * r.wallS * 1e6) / Math.max(r.stored, 1)), unit: 'CPU µs/result' });
    }
    rows.push({ metric: `acknowledged results lost, ${replicas} replica(s)`, value: r.acked - Math.min(r.acked, r.stored), unit: 'results', target: '0', pass: r.stored >= r.acked });
    notes.push(`${replicas} replica(s): ${r.acked} acknowledged, ${r.stored} stored (the generators offered ${r.offered > r.capacity * 1.1 ? 'more than the coordinators took: saturated' : 'NOT more than the coordinators took: not saturated'}); one coordinator core would store ${Math.round(1 / Math.max(r.coordCpuPerResult, 1e-9))} results/s; cores busy over the whole run: ${Object.entries(r.cpu).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    if (replicas === Math.max(...REPLICAS)) {
      // what the goal would take at the CPU cost measured here (every process on the same contended cores)
      const per = (group: string): number => (r.cpu[group] * r.wallS) / Math.max(r.stored, 1);
      const need = Object.fromEntries(['coordinators', 'postgres', 'mosquitto'].map((g) => [g, Number((GOAL * per(g)).toFixed(1))]));
      const perAll = ['coordinators', 'postgres', 'mosquitto', 'generators'].reduce((t, g) => t + per(g), 0);
      notes.push(`At the CPU per result measured with ${replicas} replica(s), ${GOAL} results/s would need about ${need.coordinators} cores of coordinators, ${need.postgres} of PostgreSQL and ${need.mosquitto} of Mosquitto (${(need.coordinators + need.postgres + need.mosquitto).toFixed(1)} cores before any load generator) against the ${cpus().length} shared cores here. With the load generators (${Math.round(per('generators') * 1e6)} µs/result) on the same cores, ${cpus().length} cores fully given to this would store at most ${Math.round(cpus().length / perAll)} results/s.`);
    }
    if (PROFILE_DIR) {
      // the profiles are written when the coordinators exit (run() stops them)
      const p = profileShares(join(PROFILE_DIR, `replicas-${replicas}`));
      notes.push(`${replicas} replica(s), where the coordinators' CPU goes (V8 CPU profile, ${p.busyS.toFixed(0)} s busy, idle ${p.idlePercent}% of profiled time incl. start-up): ${Object.entries(p.shares).map(([k, v]) => `${k} ${v}%`).join(', ')}`);
    }
    console.log(notes.slice(-2).join('\n'), `capacity ${r.capacity}/s over ${r.spanS.toFixed(1)} s, offered ${r.offered}/s`);
  }
} finally {
  await killAllCliProcesses();
  await broker.dispose();
  await server.dispose();
}
const path = writeBenchResult({
  topic: 'ingest-capacity',
  title: `PostgreSQL ingest capacity: ${GENERATORS} load generators offering ${OFFERED} results/s, 1 and 3 coordinator replicas`,
  rows,
  notes: [
    `LOAD TOOL numbers: ${GENERATORS} \`edgeprobe simulate\` processes x ${DEVICES_PER_GENERATOR} devices offer ${OFFERED} results/s (~7 KB benchmark records, QoS 1) for ${SECONDS} s to one Mosquitto with the shipped broker limits (${BROKER_LIMITS.join(', ')}); PostgreSQL with synchronous commit; everything on the same ${cpus().length} cores, shared with other work (load average ${loadavg()[0].toFixed(1)} at the end).`,
    ...notes,
    'Cores busy = CPU seconds per wall second per group, from the first offered result to the last stored one; CPU per result is the coordinators\' CPU seconds over the run divided by the results stored, so capacity per coordinator core is its inverse.',
    ...WHERE_TIME_GOES,
  ],
});
console.log(`wrote ${path}`);
