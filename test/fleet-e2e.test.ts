import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import type { FleetReport } from '../coordinator/report/fleet-report.ts';
import { openStore, type SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { Mosquitto, needsMosquitto } from '../harness/mosquitto.ts';
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

    const rep = jsonResult<FleetReport>(runCli(['report', '--db', db, '--json']));
    assert.deepEqual(rep.rows.map((r) => r.deviceId).sort(), ['dev-a', 'dev-b']);
    // a first-version plan (probe blocks at the top) is still accepted
    const b = (r: FleetReport['rows'][number], k: string) => r.cells.benchmark?.[k]?.value as number;
    assert.ok(rep.rows.every((r) => b(r, 'p50Ms') > 0 && b(r, 'p99Ms') >= b(r, 'p50Ms') && b(r, 'sizeBytes') > 0));
    assert.equal(rep.consistency.length, 1);
    assert.equal(rep.consistency[0].devices, 2);
    assert.deepEqual(rep.consistency[0].outliers, [], 'same binary, same machine: outputs agree');
    assert.ok(rep.demo, 'a generated model is reported as a demo');
    const csv = runCli(['report', '--db', db, '--csv']).stdout.trim().split('\n');
    assert.equal(csv.length, 3);
    assert.match(csv[0], /^deviceId,model,variant,batchSize,seqLen,p50Ms,p90Ms,p99Ms,sizeBytes/);
    const list = runCli(['jobs', 'list', '--db', db, '--job', jobId]);
    assert.match(list.stdout, /dev-a\s+-\s+completed/);
  });

  test('a plan with a compressed variant runs benchmark, attention and divergence on both agents; the report shows their verdicts', async () => {
    const jobId = submit('dev-a,dev-b', writePlan('probes', {
      models: [{ name: 'tiny' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention', 'divergence'], seed: 2,
      settings: { benchmark: { seqLen: 16, warmup: 1, minQueries: 5, minDurationS: 0, batchSizes: [2] }, attention: { sentences: 8 }, divergence: { sentences: 6 } },
    }));
    await waitUntil(() => Object.values(states(jobId)).every((s) => s === 'completed' || s === 'failed'), 60_000, `${jobId} finished on both devices`);
    assert.deepEqual(states(jobId), { 'dev-a': 'completed', 'dev-b': 'completed' }, store.jobTargets(jobId).map((t) => t.detail).join('; '));
    for (const d of ['dev-a', 'dev-b']) {
      // fp32: benchmark + attention (divergence has nothing to compare fp32 with); int8-dynamic: all three
      const kinds = resultsOf(jobId, d).map((r) => `${r.record.variant.name}/${r.record.probe}`).sort();
      assert.deepEqual(kinds, ['fp32/attention', 'fp32/benchmark', 'int8-dynamic/attention', 'int8-dynamic/benchmark', 'int8-dynamic/divergence']);
    }

    const rep = jsonResult<FleetReport>(runCli(['report', '--db', db, '--json']));
    const row = (d: string, v: string) => rep.rows.find((r) => r.deviceId === d && r.variant === v && r.model === 'tiny')!;
    const stored = store.results();
    for (const d of ['dev-a', 'dev-b']) {
      const int8 = row(d, 'int8-dynamic');
      assert.ok(int8, `${d} int8-dynamic row`);
      const v = (r: FleetReport['rows'][number], probe: string, k: string) => r.cells[probe]?.[k]?.value ?? null;
      assert.ok((v(int8, 'benchmark', 'p50Ms') as number) > 0 && (v(int8, 'benchmark', 'p99Ms') as number) >= (v(int8, 'benchmark', 'p50Ms') as number), 'latency');
      assert.ok((v(int8, 'benchmark', 'sizeBytes') as number) < (v(row(d, 'fp32'), 'benchmark', 'sizeBytes') as number), 'int8 is smaller than fp32');
      const cos = v(int8, 'benchmark', 'pooledCosineVsFp32') as number;
      assert.ok((v(int8, 'benchmark', 'speedupVsFp32') as number) > 0 && cos > 0.5 && cos <= 1 + 1e-9);
      assert.match(int8.verdicts.attention.status, /^(survives|survives-invalid-reference|degrades|fails|invalid)$/);
      assert.ok((v(int8, 'divergence', 'worstLayer') as number) >= 0, 'divergence worst layer');
      assert.equal(v(int8, 'divergence', 'task'), null, 'the tiny model has no task head');
      assert.equal(int8.verdicts.properties, undefined, 'no properties probe in this plan');
      assert.match(row(d, 'fp32').verdicts.attention.status, /^(survives|degrades|fails|invalid)$/, 'fp32 gets the token-relation verdict');
      assert.equal(row(d, 'fp32').cells.divergence, undefined);
      assert.equal(int8.unreadable, 0, 'every stored record passes its contract');
      // invalid counts equal the stored records whose numeric gate failed, counted independently here
      for (const v of ['fp32', 'int8-dynamic']) {
        const mine = stored.filter((r) => r.deviceId === d && r.record.model.name === 'tiny' && r.record.variant.name === v);
        assert.equal(row(d, v).invalid, mine.filter((r) => r.record.verdict.status === 'invalid' || r.record.numericGate?.ok === false).length);
        assert.equal(row(d, v).records, mine.length);
      }
    }
    const int8Consistency = rep.consistency.find((c) => c.model === 'tiny' && c.variant === 'int8-dynamic')!;
    assert.equal(int8Consistency.devices, 2);
    assert.deepEqual(int8Consistency.outliers, [], 'same binary, same machine: the int8 variant agrees across devices');
    const text = runCli(['report', '--db', db]).stdout;
    assert.match(text, /dev-a\s+tiny\s+int8-dynamic\s/);
    assert.match(text, /invalid: records whose numeric gate failed/);
    const csv = runCli(['report', '--db', db, '--csv']).stdout.trim().split('\n');
    assert.match(csv[0], /^deviceId,model,variant,batchSize,seqLen,p50Ms,.*,jumpLayer,worstLayer,normSets,inductionHeads,copyingAccuracy,attention,attentionLayers,properties,propertiesLayers,driftVsFleet,crossDeviceOutlier,invalid,unreadable,records,verdicts$/);
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
--- coordinator\n${tail(coordinator)}\n--- dev-a\n${tail(agents.get('dev-a')!)}\n--- dev-b\n${tail(agents.get('dev-b')!)}\n--- mosquitto\n${broker.log}`, { cause: err });
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
