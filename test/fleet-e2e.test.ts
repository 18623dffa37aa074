import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BenchmarkData } from '../agent/bench/benchmark-data.ts';
import type { ComparisonReport } from '../coordinator/report/comparison.ts';
import { openStore, type SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from './helpers/fleet-processes.ts';
import { Mosquitto, needsMosquitto } from './helpers/mosquitto.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

// Real Mosquitto, real coordinator and agent processes (the CLI), real SQLite files in a temp dir.
describe('fleet end to end', { skip: needsMosquitto }, () => {
  let broker: Mosquitto;
  let work: string;
  let db: string;
  let cfg: string;
  let store: SqliteStore;
  const agents = new Map<string, CliProcess>();
  let coordinator: CliProcess;

  const startAgent = (id: string): CliProcess => {
    const p = new CliProcess(id, ['agent', '--broker', broker.url, '--device-id', id, '--config', cfg, '--state-dir', join(work, id)]);
    agents.set(id, p);
    return p;
  };
  const writePlan = (name: string, plan: unknown): string => {
    const path = join(work, `${name}.json`);
    writeFileSync(path, JSON.stringify(plan));
    return path;
  };
  const submit = (devices: string, plan: string): string => {
    const run = runCli(['jobs', 'submit', '--devices', devices, '--plan', plan, '--db', db, '--broker', broker.url, '--json']);
    assert.equal(run.status, 0, run.stderr);
    return jsonResult<{ jobId: string }>(run).jobId;
  };
  const states = (jobId: string): Record<string, string> => Object.fromEntries(store.jobTargets(jobId).map((t) => [t.deviceId, t.state]));
  const resultsOf = (jobId: string, deviceId: string) => store.results().filter((r) => r.jobId === jobId && r.deviceId === deviceId);

  before(async () => {
    ensureGeneratedModel('tiny'); // once, before two agents would race to write it
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-e2e-'));
    db = join(work, 'fleet.sqlite');
    cfg = join(work, 'agent.json');
    writeFileSync(cfg, JSON.stringify({ configVersion: 1, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark', 'attention', 'compare'], heartbeatIntervalS: 1 }));
    broker = await Mosquitto.start();
    // devices first, coordinator later: it learns them from their retained register and status messages
    await Promise.all(['dev-a', 'dev-b'].map((id) => startAgent(id).waitFor(/connected/)));
    coordinator = new CliProcess('coordinator', ['coordinator', '--broker', broker.url, '--db', db, '--dispatch-interval', '0.5']);
    await coordinator.waitFor(/coordinator listening/);
    store = openStore(db);
    await waitUntil(() => store.devices().filter((d) => d.online).length === 2, 20_000, 'two devices online');
  });

  after(async () => {
    await killAllCliProcesses();
    store?.close();
    await broker?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a job runs on two agents, results are stored and the report shows both devices', async () => {
    const jobId = submit('dev-a,dev-b', writePlan('e2e', { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 5, batchSizes: [1, 2] } }));
    await waitUntil(() => Object.values(states(jobId)).every((s) => s === 'completed'), 30_000, `${jobId} completed on both devices`);
    for (const d of ['dev-a', 'dev-b']) assert.equal(resultsOf(jobId, d).length, 2, `two batch sizes from ${d}`);

    const rep = jsonResult<ComparisonReport>(runCli(['report', '--db', db, '--json']));
    assert.deepEqual(rep.rows.map((r) => r.deviceId).sort(), ['dev-a', 'dev-b']);
    assert.ok(rep.rows.every((r) => r.p50Ms !== null && r.p50Ms > 0 && r.p99Ms! >= r.p50Ms && r.sizeBytes! > 0));
    assert.equal(rep.consistency.length, 1);
    assert.equal(rep.consistency[0].devices, 2);
    assert.deepEqual(rep.consistency[0].outliers, [], 'same binary, same machine: outputs agree');
    assert.ok(rep.demo, 'a generated model is reported as a demo');
    const csv = runCli(['report', '--db', db, '--csv']).stdout.trim().split('\n');
    assert.equal(csv.length, 3);
    assert.match(csv[0], /^deviceId,model,variant,batchSize,seqLen,p50Ms,p90Ms,p99Ms,sizeBytes/);
    const list = runCli(['jobs', 'list', '--db', db, '--job', jobId]);
    assert.match(list.stdout, /dev-a\s+completed/);
  });

  test('a plan with a compressed variant runs benchmark, attention and compare on both agents; the report shows their verdicts', async () => {
    const started = Date.now();
    const jobId = submit('dev-a,dev-b', writePlan('probes', {
      models: [{ name: 'tiny' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention', 'compare'], seed: 2,
      benchmark: { seqLen: 16, warmup: 1, minQueries: 5, minDurationS: 0, batchSizes: [2] },
      attention: { sentences: 8 }, compare: { sentences: 6 },
    }));
    await waitUntil(() => Object.values(states(jobId)).every((s) => s === 'completed' || s === 'failed'), 60_000, `${jobId} finished on both devices`);
    assert.deepEqual(states(jobId), { 'dev-a': 'completed', 'dev-b': 'completed' }, store.jobTargets(jobId).map((t) => t.detail).join('; '));
    for (const d of ['dev-a', 'dev-b']) {
      // fp32: benchmark + attention (compare has nothing to compare fp32 with); int8-dynamic: all three
      const kinds = resultsOf(jobId, d).map((r) => `${r.record.variant.name}/${r.record.probe}`).sort();
      assert.deepEqual(kinds, ['fp32/attention', 'fp32/benchmark', 'int8-dynamic/attention', 'int8-dynamic/benchmark', 'int8-dynamic/compare']);
    }

    const rep = jsonResult<ComparisonReport>(runCli(['report', '--db', db, '--json']));
    const row = (d: string, v: string) => rep.rows.find((r) => r.deviceId === d && r.variant === v && r.model === 'tiny')!;
    const stored = store.results();
    for (const d of ['dev-a', 'dev-b']) {
      const int8 = row(d, 'int8-dynamic');
      assert.ok(int8, `${d} int8-dynamic row`);
      assert.ok(int8.p50Ms! > 0 && int8.p99Ms! >= int8.p50Ms! && int8.sizeBytes! < row(d, 'fp32').sizeBytes!, 'latency, and int8 is smaller than fp32');
      assert.ok(int8.speedupVsFp32! > 0 && int8.pooledCosineVsFp32! > 0.5 && int8.pooledCosineVsFp32! <= 1 + 1e-9);
      assert.match(int8.attention!.status, /^(survives|survives-invalid-reference|degrades|fails|invalid)$/);
      assert.ok(int8.compare && int8.compare.worstLayer >= 0, 'compare jump/worst layer');
      assert.equal(int8.task, null, 'the tiny model has no task head');
      assert.equal(int8.properties, null, 'no properties probe in this build');
      assert.match(row(d, 'fp32').attention!.status, /^(survives|degrades|fails|invalid)$/, 'fp32 gets the token-relation verdict');
      assert.equal(row(d, 'fp32').compare, null);
      // invalid counts equal the stored records whose health gate failed, counted independently here
      for (const v of ['fp32', 'int8-dynamic']) {
        const mine = stored.filter((r) => r.deviceId === d && r.record.model.name === 'tiny' && r.record.variant.name === v);
        assert.equal(row(d, v).invalid, mine.filter((r) => r.record.verdict.status === 'invalid' || r.record.health?.ok === false).length);
        assert.equal(row(d, v).records, mine.length);
      }
    }
    const int8Consistency = rep.consistency.find((c) => c.model === 'tiny' && c.variant === 'int8-dynamic')!;
    assert.equal(int8Consistency.devices, 2);
    assert.deepEqual(int8Consistency.outliers, [], 'same binary, same machine: the int8 variant agrees across devices');
    const text = runCli(['report', '--db', db]).stdout;
    assert.match(text, /dev-a\s+tiny\s+int8-dynamic\s/);
    assert.match(text, /invalid: records whose numeric health gate failed/);
    const csv = runCli(['report', '--db', db, '--csv']).stdout.trim().split('\n');
    assert.match(csv[0], /attention,attentionLayers,properties,compareStatus,jumpLayer,worstLayer,invalid/);
    assert.ok(Date.now() - started < 60_000, `took ${(Date.now() - started) / 1000} s`);
  });

  test('broker stopped for 10 s mid-job: every result arrives, none twice', async () => {
    const plan = writePlan('outage', { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 3, batchSizes: [1, 2, 3, 4, 5, 6, 7, 8], cooldownMs: 600 } });
    const jobId = submit('dev-a,dev-b', plan);
    await waitUntil(() => resultsOf(jobId, 'dev-a').length >= 1 && resultsOf(jobId, 'dev-b').length >= 1, 30_000, 'first results');
    await broker.stop();
    await new Promise((r) => setTimeout(r, 10_000));
    assert.ok(coordinator.alive && agents.get('dev-a')!.alive && agents.get('dev-b')!.alive, 'everyone survives the outage');
    assert.match(agents.get('dev-a')!.output, /broker unreachable/);
    await broker.restart();
    try {
      await waitUntil(() => Object.values(states(jobId)).every((s) => s === 'completed'), 40_000, `${jobId} completed after the outage`);
    } catch (err) {
      const tail = (p: CliProcess): string => p.output.split('\n').slice(-25).join('\n');
      throw new Error(`${(err as Error).message}; states ${JSON.stringify(states(jobId))}; results a=${resultsOf(jobId, 'dev-a').length} b=${resultsOf(jobId, 'dev-b').length}
--- coordinator\n${tail(coordinator)}\n--- dev-a\n${tail(agents.get('dev-a')!)}\n--- dev-b\n${tail(agents.get('dev-b')!)}\n--- mosquitto\n${broker.log}`);
    }
    await waitUntil(() => resultsOf(jobId, 'dev-a').length >= 8 && resultsOf(jobId, 'dev-b').length >= 8, 20_000, 'all results');
    for (const d of ['dev-a', 'dev-b']) {
      const keys = resultsOf(jobId, d).map((r) => r.recordKey);
      assert.equal(keys.length, 8, `${d}: exactly 8 records`);
      assert.equal(new Set(keys).size, 8, `${d}: no record twice`);
      assert.deepEqual(resultsOf(jobId, d).map((r) => (r.record.data as BenchmarkData).throughput.batch).sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8]);
    }
  });

  test('agent SIGKILLed mid-job and restarted: the job completes, nothing lost or duplicated', async () => {
    const plan = writePlan('crash', { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 3, batchSizes: [1, 2, 3, 4, 5, 6, 7, 8], cooldownMs: 700 } });
    const jobId = submit('dev-a', plan);
    await waitUntil(() => resultsOf(jobId, 'dev-a').length >= 2, 30_000, 'two results before the crash');
    await agents.get('dev-a')!.kill('SIGKILL');
    assert.ok(resultsOf(jobId, 'dev-a').length < 8, 'killed mid-job');
    const restarted = startAgent('dev-a');
    await restarted.waitFor(/resuming job/);
    await waitUntil(() => states(jobId)['dev-a'] === 'completed', 40_000, `${jobId} completed after the restart`);
    await waitUntil(() => resultsOf(jobId, 'dev-a').length >= 8, 10_000, 'all results');
    const keys = resultsOf(jobId, 'dev-a').map((r) => r.recordKey);
    assert.equal(keys.length, 8);
    assert.equal(new Set(keys).size, 8);
  });

  test('a job cancelled mid-run stops on the device', async () => {
    const plan = writePlan('cancel', { models: [{ name: 'tiny' }], variants: ['fp32'], probes: ['benchmark'], benchmark: { runs: 3, batchSizes: [1, 2, 3, 4, 5, 6, 7, 8], cooldownMs: 700 } });
    const jobId = submit('dev-b', plan);
    await waitUntil(() => resultsOf(jobId, 'dev-b').length >= 1, 30_000, 'a first result');
    const run = runCli(['jobs', 'cancel', '--job', jobId, '--db', db, '--broker', broker.url, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(jsonResult<{ devices: string[] }>(run).devices, ['dev-b']);
    await agents.get('dev-b')!.waitFor(new RegExp(`job cancelled job=${jobId}`));
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(states(jobId)['dev-b'], 'cancelled');
    assert.ok(resultsOf(jobId, 'dev-b').length < 8, 'the device stopped');
  });
});
