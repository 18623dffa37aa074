/**
 * Fleet benchmark: coordinator ingest throughput through a real local Mosquitto (zero loss required:
 * rows in the DB must equal messages sent), and the idle RSS of an agent process.
 * Run: npx tsx bench/fleet.ts [--messages N]   -> bench/results/fleet.json
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { Mosquitto } from '../harness/mosquitto.ts';
import { buildDist } from '../scripts/build.ts';
import { writeBenchResult } from './bench-result.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const argIdx = process.argv.indexOf('--messages');
const MESSAGES = argIdx > 0 ? Number(process.argv[argIdx + 1]) : 40_000;
const DEVICES = 4;
const SHA = 'c'.repeat(64);

function record(i: number): ProbeRecord {
  return {
    recordVersion: 2, probe: 'benchmark', model: { name: 'bench-model', sha256: SHA }, variant: { name: 'fp32', sha256: SHA },
    verdict: { status: 'measured', summary: `synthetic record ${i}` }, durationS: 0.01, createdAt: new Date().toISOString(),
    data: { batchSize: 1, latencyMs: { p50: 1.5, p90: 2.1, p99: 3.3 }, fingerprint: { vectors: [[0.1, 0.2, 0.3, 0.4]] } },
  };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function ingestBench(broker: Mosquitto, work: string): Promise<{ rate: number; stored: number; seconds: number }> {
  const db = join(work, 'fleet.sqlite');
  const coordinator = new CliProcess('coordinator', ['coordinator', '--broker', broker.url, '--db', db, '--load-test']);
  await coordinator.waitFor(/coordinator listening/);
  const ids = Array.from({ length: DEVICES }, (_, d) => `bench-${d}`);
  const clients = await Promise.all(ids.map((id) => mqtt.connectAsync(broker.url, { clientId: `edgeprobe-bench-${id}`, username: id })));
  const profile = { hostname: 'bench', platform: 'linux', arch: 'x64', cpuModel: 'bench', cores: 1, memoryBytes: 1, nodeVersion: process.version, agentVersion: 'bench' };
  await Promise.all(clients.map((c, d) => c.publishAsync(deviceTopic(ids[d], 'register'), encodeMessage(makeMessage(ids[d], 0, 'register', { profile, allowed: { models: [], probes: ['benchmark'] } })), { qos: 1 })));
  const reader = new Database(db, { readonly: true, fileMustExist: true });
  await waitUntil(() => (reader.prepare('SELECT COUNT(*) AS n FROM devices').get() as { n: number }).n === DEVICES, 10_000, 'bench devices registered');

  // encoded before the clock starts: the generator should measure the coordinator, not JSON.stringify
  const perDevice = Math.ceil(MESSAGES / DEVICES);
  const batches = ids.map((id, d) => Array.from({ length: perDevice }, (_, i) => encodeMessage(makeMessage(id, i + 1, 'results', { jobId: 'bench-job', recordKey: `r/${i}`, record: record(d * perDevice + i) }))));
  const total = perDevice * DEVICES;
  const count = (): number => (reader.prepare('SELECT COUNT(*) AS n FROM results').get() as { n: number }).n;
  const t0 = performance.now();
  await Promise.all(clients.map(async (c, d) => {
    const topic = deviceTopic(ids[d], 'results');
    const window = 500; // in-flight QoS 1 publishes per client
    for (let i = 0; i < batches[d].length; i += window) {
      await Promise.all(batches[d].slice(i, i + window).map((m) => c.publishAsync(topic, m, { qos: 1 })));
    }
  }));
  await waitUntil(() => count() >= total, 120_000, 'all results stored');
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  const stored = count();
  reader.close();
  await Promise.all(clients.map((c) => c.endAsync()));
  await coordinator.kill('SIGTERM');
  return { rate: total / seconds, stored, seconds };
}

async function agentRss(broker: Mosquitto, work: string, label: string, node: string[]): Promise<{ mainKb: number; treeKb: number }> {
  const cfg = join(work, 'agent.json');
  writeFileSync(cfg, JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'], heartbeatIntervalS: 1 }));
  const agent = spawn(process.execPath, [...node, 'agent', '--broker', broker.url, '--device-id', `rss-${label}`, '--config', cfg, '--state-dir', join(work, `rss-${label}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  agent.stderr!.on('data', (d) => { out += d; });
  try {
    await waitUntil(() => /connected/.test(out), 30_000, `agent (${label}) connected`);
    await new Promise((r) => setTimeout(r, 6000)); // several heartbeats: systeminformation loaded, steady state
    const mainKb = rssKb(agent.pid!);
    const treeKb = mainKb + childPids(agent.pid!).reduce((s, p) => s + rssKb(p), 0);
    return { mainKb, treeKb };
  } finally {
    agent.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-bench-fleet-'));
  const broker = await Mosquitto.start();
  try {
    const ingest = await ingestBench(broker, work);
    ensureGeneratedModel('tiny');
    const tsxRss = await agentRss(broker, work, 'tsx', ['--import', 'tsx', join(HERE, '..', 'cli', 'main.ts')]);
    // what a device runs: the shipped launcher over `npm run build`'s dist/ (no TypeScript loader, whose
    // worker thread alone costs ~30 MB)
    await buildDist();
    const launcher = join(HERE, '..', 'bin', 'edgeprobe.js');
    const bundledRss = await agentRss(broker, work, 'bundle', [launcher]);
    const smallRss = await agentRss(broker, work, 'bundle-small-heap', ['--max-semi-space-size=1', launcher]);
    const sent = Math.ceil(MESSAGES / DEVICES) * DEVICES;
    const result = {
      topic: 'fleet',
      title: 'Fleet: coordinator ingest through Mosquitto, agent idle memory',
      rows: [
        { metric: 'coordinator ingest, result messages/s (QoS 1, zero loss)', value: Math.round(ingest.rate), unit: 'msg/s', target: '>= 5000', pass: ingest.rate >= 5000 && ingest.stored === sent },
        { metric: 'results stored / messages sent', value: ingest.stored / sent, unit: 'ratio', target: '= 1', pass: ingest.stored === sent },
        { metric: 'agent idle RSS, shipped launcher (bin/edgeprobe.js over dist/) with node --max-semi-space-size=1', value: Math.round(smallRss.mainKb / 1024), unit: 'MB', target: '<= 80', pass: smallRss.mainKb / 1024 <= 80 },
        { metric: 'agent idle RSS, shipped launcher (bin/edgeprobe.js over dist/), default node flags', value: Math.round(bundledRss.mainKb / 1024), unit: 'MB', target: '<= 80', pass: bundledRss.mainKb / 1024 <= 80 },
        { metric: 'agent idle RSS, TypeScript sources through tsx (development)', value: Math.round(tsxRss.treeKb / 1024), unit: 'MB', target: '<= 80', pass: tsxRss.treeKb / 1024 <= 80 },
      ],
      notes: [
        `${sent} results messages from ${DEVICES} simulated devices (4 MQTT clients, 500 QoS 1 publishes in flight each) through Mosquitto on loopback; time from first publish until the coordinator's SQLite holds every row (${ingest.seconds.toFixed(2)} s).`,
        'The coordinator commits once per event-loop turn and releases that turn\'s PUBACKs only after the commit (socket cork), so every acknowledged message is in the database.',
        'Load generator, Mosquitto and the coordinator share this machine\'s cores.',
        'Agent idle: connected, heartbeats every second (systeminformation loaded), no job; onnxruntime and the model code are loaded only when a job runs.',
        'Under tsx the TypeScript loader runs a worker thread that costs about 30 MB by itself; the shipped build (npm run build, scripts/build.ts) is minified JS made by esbuild (native modules external; code splitting keeps the modules each command imports lazily in their own chunks). --max-semi-space-size=1 caps V8\'s young generation (bench/idle-memory.ts measures what it and other V8 flags save per Node line).',
      ],
    };
    writeBenchResult(result);
    console.log(JSON.stringify(result.rows, null, 2));
  } finally {
    await killAllCliProcesses();
    await broker.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
