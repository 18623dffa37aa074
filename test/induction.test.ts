import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compressionProvider } from '../agent/jobs/variant-provider.ts';
import { loadUserVariant } from '../agent/compress/user-variants.ts';
import { loadModelDir, type ModelDir } from '../core/model/model-dir.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import type { Variant, UserVariantName } from '../core/variants/variant-types.ts';
import { ensureGeneratedDecoder } from '../models/generated-decoders.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { checkPlanProbes } from '../probes/index.ts';
import { causalUniformInductionScore, copyingAccuracy, inductionScores, repeatedSequences } from '../probes/induction/induction-score.ts';
import { runInductionProbe } from '../probes/induction/run-induction.ts';
import { resolveInductionSettings, type InductionData } from '../probes/induction/schema.ts';
import { executeJob } from '../agent/jobs/executor.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import { buildDashboardData } from '../coordinator/dashboard/dashboard-data.ts';
import { buildFleetReport, cellValue } from '../coordinator/report/fleet-report.ts';
import { renderFleetReport } from '../coordinator/report/render.ts';
import { createDaemonLog } from '../core/daemon-log.ts';
import { inductionView, type InductionView } from '../probes/induction/contract.ts';
import { ingestOutbox } from './helpers/ingest-outbox.ts';
import { coded } from './helpers/coded-errors.ts';
import { runProbe } from './helpers/run-probe.ts';
import { zeroQuery } from './helpers/decoder-edits.ts';

describe('induction probe', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-induction-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const planted = loadModelDir(ensureGeneratedDecoder('gpt2-induction', { dir: join(work, 'planted') }));
  const plan: JobPlan = { models: [{ name: 'planted' }], variants: ['fp32', 'int8-dynamic', 'int4-weight'], probes: ['induction'], seed: 5, settings: { induction: { sequences: 8, half: 16 } } };

  async function run(ref: ModelDir, variant: Variant): Promise<ProbeRecord & { data: InductionData }> {
    const out = await runProbe<InductionData>('induction', ref, variant, plan, join(work, 'variants', ref.name));
    assert.equal(out.length, 1);
    return out[0];
  }
  const builtIn = async (ref: ModelDir, name: 'fp32' | 'int8-dynamic' | 'int4-weight') => (await compressionProvider.ensure(ref, [name], { outDir: join(work, 'variants', ref.name) }))[0];

  test('scores, the uniform baseline and copying accuracy match hand computations', () => {
    const n = 4;
    const S = 2 * n + 1;
    // head 0 puts all weight on the induction target, head 1 spreads uniformly over the causal prefix
    const a = new Float32Array(2 * S * S);
    for (let q = 0; q < S; q++) {
      for (let k = 0; k <= q; k++) a[S * S + q * S + k] = 1 / (q + 1);
      a[q * S + (q > n ? q - n + 1 : 0)] = 1;
    }
    const [target, uniform] = inductionScores(a, 1, 2, n);
    assert.equal(target, 1);
    // rows 5, 6, 7 (n + i, i = 1..3) have 6, 7, 8 positions
    const hand = (1 / 6 + 1 / 7 + 1 / 8) / 3;
    assert.ok(Math.abs(uniform - hand) < 1e-7 && Math.abs(causalUniformInductionScore(n) - hand) < 1e-12);
    const batch = repeatedSequences(3, 1, n, [10, 11, 12, 13, 14, 15], 1);
    const seq = batch.sequences[0];
    assert.deepEqual(seq.slice(1, 1 + n), seq.slice(1 + n));
    assert.equal(new Set(seq.slice(1, 1 + n)).size, n);
    // logits that predict t_{i+1} at positions n+1 and n+2 but not at n+3: accuracy 2/3
    const V = 16;
    const logits = new Float32Array(S * V);
    logits[(n + 1) * V + seq[2]] = 1;
    logits[(n + 2) * V + seq[3]] = 1;
    logits[(n + 3) * V + 0] = 1;
    assert.ok(Math.abs(copyingAccuracy(logits, batch, V) - 2 / 3) < 1e-12);
  });

  test('the planted induction head is found on fp32, random-weight heads are not', async () => {
    const r = await run(planted, await builtIn(planted, 'fp32'));
    const d = r.data;
    assert.equal(r.verdict.status, 'measured');
    assert.deepEqual(d.inductionHeads.map((h) => [h.layer, h.head]), [[2, 2]]);
    assert.ok(d.inductionHeads[0].score > 0.9, String(d.inductionHeads[0].score));
    const others = d.scores.flatMap((hs, l) => hs.filter((_, h) => !(l === 1 && h === 2)));
    assert.ok(Math.max(...others) < 0.1, `other heads: ${others.join(', ')}`);
    assert.ok(d.copyingAccuracy > 0.9, String(d.copyingAccuracy));
    // the previous-token head is one-hot (causal entropy ~0), the random heads near uniform causal attention (~1)
    assert.ok(d.causalEntropy[0][0] < 0.05 && d.causalEntropy[0].slice(1).every((x) => x > 0.9), JSON.stringify(d.causalEntropy));
    assert.equal(d.threshold, 0.3);
  });

  test('a variant that zeroes the induction head\'s queries is reported as not surviving; int8 and int4 keep it', async () => {
    const file = zeroQuery(planted, 2, 2, join(work, 'planted', 'broken-qk.onnx'));
    const broken = await run(planted, loadUserVariant(planted, { name: 'broken-qk' as UserVariantName, path: file }));
    assert.equal(broken.verdict.status, 'fails');
    const h = broken.data.survival!.heads;
    assert.deepEqual(h.map((x) => [x.layer, x.head, x.survives]), [[2, 2, false]]);
    // zero queries give equal scores, i.e. attention spread uniformly over the causal prefix
    assert.ok(Math.abs(h[0].score - broken.data.uniformScore) < 1e-3, `${h[0].score} vs ${broken.data.uniformScore}`);
    assert.ok(broken.data.copyingAccuracy < 0.2, String(broken.data.copyingAccuracy));
    assert.match(broken.verdict.summary, /lost L2H2/);
    // the dashboard's view model names the destroyed head with both scores
    const [view] = inductionView([{ deviceId: 'pi-01', record: broken }]);
    assert.deepEqual([view.destroyed, view.kept, view.heads[0].name, view.heads[0].fp32Score], [['L2H2'], [], 'L2H2', h[0].fp32Score]);
    // the hand-set head has a margin of ~0.7 over the threshold; 8-bit and 4-bit rounding move scores by far less
    for (const name of ['int8-dynamic', 'int4-weight'] as const) {
      const r = await run(planted, await builtIn(planted, name));
      assert.equal(r.verdict.status, 'survives', `${name}: ${r.verdict.summary}`);
      assert.ok(r.data.survival!.heads[0].score > 0.5, `${name}: ${r.data.survival!.heads[0].score}`);
    }
  });

  test('the Llama shape (rotary, RMSNorm, grouped-query) with a planted head: found on fp32 and kept by int4-weight', async () => {
    const llama = loadModelDir(ensureGeneratedDecoder('llama-induction', { dir: join(work, 'llama-planted') }));
    const fp32 = await run(llama, await builtIn(llama, 'fp32'));
    assert.deepEqual(fp32.data.inductionHeads.map((h) => [h.layer, h.head]), [[2, 2]]);
    assert.ok(fp32.data.inductionHeads[0].score > 0.9 && fp32.data.copyingAccuracy > 0.9, fp32.verdict.summary);
    assert.ok(Math.max(...fp32.data.scores.flatMap((hs, l) => hs.filter((_, h) => !(l === 1 && h === 2)))) < 0.1, JSON.stringify(fp32.data.scores));
    const int4 = await run(llama, await builtIn(llama, 'int4-weight'));
    assert.equal(int4.verdict.status, 'survives', int4.verdict.summary);
  });

  test('a key/value-cache export of the planted model (empty cache fed) gives the same answer', async () => {
    const kv = loadModelDir(ensureGeneratedDecoder('gpt2-induction', { dir: join(work, 'planted-kv'), overrides: { kvCache: true } }));
    const [r] = await runInductionProbe(kv, [], resolveInductionSettings({ sequences: 4, half: 12 }));
    assert.deepEqual((r.data as InductionData).inductionHeads.map((h) => [h.layer, h.head]), [[2, 2]]);
  });

  test('random-weight GPT-2 and Llama shapes have no induction head, and a variant has none to keep', async () => {
    for (const shape of ['gpt2-demo', 'llama-demo'] as const) {
      const md = loadModelDir(ensureGeneratedDecoder(shape, { dir: join(work, shape) }));
      const r = await run(md, await builtIn(md, shape === 'llama-demo' ? 'int4-weight' : 'int8-dynamic'));
      assert.equal(r.verdict.status, 'measured', r.verdict.summary);
      assert.equal(r.data.inductionHeads.length, 0);
      assert.deepEqual(r.data.survival!.heads, []);
      assert.ok(Math.max(...r.data.scores.flat()) < 0.1, JSON.stringify(r.data.scores));
      assert.match(r.verdict.summary, /no induction head/);
    }
  });

  test('fleet: an agent runs induction and divergence on a generated decoder; the coordinator stores, reports and draws them', async () => {
    const db = openStateDb(join(work, 'agent'));
    const jobs = new JobStore(db);
    const outbox = new Outbox(db, 'pi-01');
    const log = createDaemonLog('t', false, () => {});
    const fleetPlan: JobPlan = { models: [{ name: 'planted' }], variants: ['fp32', 'int4-weight'], probes: ['induction', 'divergence'], seed: 5, settings: { induction: { sequences: 4, half: 12 }, divergence: { sentences: 4 } } };
    jobs.insert('j1', 1, fleetPlan, 'accepted');
    const state = await executeJob(jobs.get('j1')!, {
      deviceId: 'pi-01', config: { models: [{ name: 'planted', generated: 'gpt2-induction' }], probes: ['induction', 'divergence'] }, jobs, outbox, log,
      variantsDir: join(work, 'fleet-variants'), queued: () => {},
    }, new AbortController().signal);
    assert.equal(state, 'completed', jobs.get('j1')!.detail ?? '');
    const { store } = await ingestOutbox(outbox, 'pi-01', work, log);
    const results = store.results();
    // induction on fp32 and int4-weight, divergence on int4-weight (fp32 is its reference)
    assert.deepEqual(results.map((r) => `${r.record.probe}/${r.record.variant.name}`).sort(), ['divergence/int4-weight', 'induction/fp32', 'induction/int4-weight']);
    const report = buildFleetReport(results, store.devices());
    const row = (v: string) => report.rows.find((r) => r.variant === v)!;
    assert.equal(cellValue(row('fp32'), 'induction', 'inductionHeads'), 1);
    assert.equal(cellValue(row('int4-weight'), 'induction', 'inductionHeads'), 1, 'the one fp32 head kept');
    assert.equal(cellValue(row('int4-weight'), 'divergence', 'task'), 'next-token');
    assert.match(renderFleetReport(report), /1\/1 kept/);
    const dash = buildDashboardData(results, store.devices(), store.jobTargets());
    const views = dash.views.induction as InductionView[];
    assert.deepEqual(views.find((v) => v.variant === 'int4-weight')!.heads.map((h) => [h.layer, h.head, h.survives]), [[2, 2, true]]);
    store.close();
    db.close();
  });

  test('dashboard view model: per variant, which of fp32\'s induction heads survive and which are destroyed', () => {
    // fp32 found L2H2 (0.9) and L3H1 (0.5) at threshold 0.3; the variant keeps L2H2 (0.8) and drops L3H1 to 0.1
    const base = { recordVersion: 2, probe: 'induction', model: { name: 'm', sha256: 'a' }, numericGate: { ok: true, reasons: [] }, durationS: 1, createdAt: '2026-12-01T00:00:00Z' };
    const data = { sequences: 4, half: 10, candidates: 500, layers: 3, heads: 2, threshold: 0.3, uniformScore: 0.05, scores: [[0, 0], [0, 0.9], [0.5, 0]], copyingAccuracy: 0.9 };
    const fp32 = { ...base, variant: { name: 'fp32', sha256: 'a' }, verdict: { status: 'measured', summary: 's' }, data: { ...data, inductionHeads: [{ layer: 2, head: 1, score: 0.9 }, { layer: 3, head: 0, score: 0.5 }] } };
    const variant = {
      ...base, variant: { name: 'int4-weight', sha256: 'b' }, verdict: { status: 'degrades', summary: 's' },
      data: { ...data, scores: [[0, 0], [0, 0.8], [0.1, 0]], copyingAccuracy: 0.4, inductionHeads: [{ layer: 2, head: 1, score: 0.8 }],
        survival: { reference: 'fp32', copyingAccuracyFp32: 0.9, heads: [{ layer: 2, head: 1, fp32Score: 0.9, score: 0.8, survives: true }, { layer: 3, head: 0, fp32Score: 0.5, score: 0.1, survives: false }] } },
    };
    const views = inductionView([fp32, variant].map((record) => ({ deviceId: 'pi-01', record: record as never })));
    assert.deepEqual(views.map((v) => [v.variant, v.heads.map((h) => h.name), v.kept, v.destroyed, v.copyingAccuracyFp32]), [
      ['fp32', ['L2H1', 'L3H0'], [], [], null],
      ['int4-weight', ['L2H1', 'L3H0'], ['L2H1'], ['L3H0'], 0.9],
    ]);
    assert.deepEqual(views[1].heads.map((h) => [h.fp32Score, h.score, h.survives]), [[0.9, 0.8, true], [0.5, 0.1, false]]);
  });

  test('an encoder is refused; plan settings are checked by the contract', async () => {
    const enc = loadModelDir(ensureGeneratedModel('tiny', { dir: join(work, 'tiny') }));
    await assert.rejects(runInductionProbe(enc, [], resolveInductionSettings()), coded('EP_PROBE_NEEDS_DECODER', { probe: 'induction' }));
    assert.ok(checkPlanProbes(plan).ok);
    const bad = checkPlanProbes({ ...plan, settings: { induction: { threshold: 2 } } });
    assert.ok(!bad.ok && /settings\.induction\/threshold/.test(bad.reason), bad.ok ? '' : bad.reason);
  });
});
