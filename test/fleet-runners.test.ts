import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fillMaskItemsFromSentences } from '../probes/divergence/task-eval.ts';
import { fittingCorpus } from '../core/corpus/sentence-corpus.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import type { ProbeContext } from '../core/probes/contract.ts';
import { checkRecord, probeContract, probeSettings } from '../probes/index.ts';
import type { DivergenceData } from '../probes/divergence/schema.ts';
import { compressionProvider } from '../agent/jobs/variant-provider.ts';
import { loadModelDir, type ModelDir } from '../core/model/model-dir.ts';
import { MAX_MESSAGE_BYTES } from '../core/protocol/messages.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { coded } from './helpers/coded-errors.ts';
import { writeTestNorms } from './helpers/test-norms.ts';

// The fleet's runner adapters on a tiny generated model with a masked-LM head, in this process.
describe('fleet probe runners', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-runners-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const dir = ensureGeneratedModel('tiny', { dir: join(work, 'tiny-mlm'), overrides: { mlmHead: true } });
  const ref = loadModelDir(dir);
  const plan: JobPlan = {
    models: [{ name: 'tiny-mlm' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention', 'divergence'], seed: 3,
    settings: { benchmark: { seqLen: 16, warmup: 1, minQueries: 3, minDurationS: 0, batchSizes: [2] }, attention: { sentences: 6, sanityChecks: false }, divergence: { sentences: 5, fillMaskItems: 4 } },
  };

  async function run(kind: string, variantName: 'fp32' | 'int8-dynamic', extra: Partial<ProbeContext> = {}): Promise<ProbeRecord[]> {
    const [variant] = await compressionProvider.ensure(ref, [variantName], { outDir: join(work, 'variants') });
    const [fp32] = await compressionProvider.ensure(ref, ['fp32'], { outDir: join(work, 'variants') });
    const model: ModelDir = variantName === 'fp32' ? ref : loadModelDir(ref.dir, { onnxPath: variant.onnxPath });
    const contract = probeContract(kind)!;
    const base = { reference: ref, model, variant, fp32, modelName: 'tiny-mlm', plan, signal: new AbortController().signal, note: () => {}, ...extra };
    const ctx: ProbeContext = { ...base, settings: probeSettings(contract, base.plan) };
    const out: ProbeRecord[] = [];
    for await (const r of (await contract.runner())(ctx)) {
      // what the agent checks before it queues a record, and the coordinator at ingest
      const checked = checkRecord(r);
      assert.ok(checked.ok, `${kind} record passes its contract: ${checked.ok ? '' : checked.reason}`);
      out.push(r);
    }
    return out;
  }

  test('fill-mask items from plain sentences mask the middle word piece, which is the gold target', () => {
    const items = fillMaskItemsFromSentences(ref, ['the cat sat on the mat', 'a dog'], 5);
    const ids = ref.tokenizer.encode('the cat sat on the mat').ids; // [CLS] the cat sat on the mat [SEP]: 8 ids, middle index 4 = "on"
    assert.equal(items.length, 2);
    assert.equal(items[0].maskIndex, 4);
    assert.equal(items[0].target, ids[4]);
    assert.equal(items[0].ids[4], ref.tokenizer.maskId);
    assert.deepEqual(items[0].ids.filter((_, i) => i !== 4), ids.filter((_, i) => i !== 4));
    assert.equal(fillMaskItemsFromSentences(ref, ['the cat sat on the mat', 'a dog'], 1).length, 1, 'limit');
  });

  test('the corpus for a short-context model keeps only sentences that fit, in the seeded order', () => {
    const c = fittingCorpus(ref.tokenizer, 3, 10);
    assert.equal(c.sentences.length, 10);
    assert.ok(c.sentences.every((s) => !ref.tokenizer.encode(s).truncated));
    assert.deepEqual(fittingCorpus(ref.tokenizer, 3, 10).sentences, c.sentences, 'same seed, same sentences');
  });

  test('divergence: no record for fp32; for int8 one record with the jump layer and fill-mask agreement in data.task', async () => {
    assert.deepEqual(await run('divergence', 'fp32'), []);
    const [r] = await run('divergence', 'int8-dynamic');
    assert.equal(r.probe, 'divergence');
    assert.equal(r.model.name, 'tiny-mlm', 'named as in the agent config');
    const d = r.data as DivergenceData;
    assert.equal(d.sentences, 5);
    assert.ok(d.task, 'a masked-LM head gives task agreement');
    assert.equal(d.task.task, 'fill-mask');
    assert.equal(d.task.items, 4);
    assert.ok(d.task.top1Accuracy !== null && d.task.top1Accuracy >= 0 && d.task.top1Accuracy <= 1);
    assert.ok(d.task.top1Agreement >= 0 && d.task.top1Agreement <= 1);
    assert.match(r.verdict.summary, /fill-mask top-1 agreement/);
  });

  test('attention and benchmark: one record per item, named for the fleet, far below the message limit', async () => {
    const [att] = await run('attention', 'int8-dynamic');
    assert.equal(att.variant.name, 'int8-dynamic');
    assert.match(att.verdict.status, /^(survives|survives-invalid-reference|degrades|fails|invalid)$/);
    const bench = await run('benchmark', 'int8-dynamic');
    assert.equal(bench.length, 1, 'one record per batch size');
    const b = bench[0].data as { settings: { seqLen: number; batch: number }; drift: unknown; fingerprint: { vectors: number[][] } };
    assert.deepEqual([b.settings.seqLen, b.settings.batch], [16, 2]);
    assert.ok(b.drift, 'drift against fp32 computed in the same child process');
    assert.ok(b.fingerprint.vectors.length > 0);
    for (const r of [att, ...bench]) assert.ok(JSON.stringify(r).length < MAX_MESSAGE_BYTES / 10, `${r.probe} record is small`);
  });

  test('properties: norm files named by the plan come from the agent\'s normsDir; a variant is compared with fp32', async () => {
    const normsDir = join(work, 'norms');
    mkdirSync(normsDir);
    writeTestNorms(normsDir);
    const demo = loadModelDir(ensureGeneratedModel('demo'));
    const [int8] = await compressionProvider.ensure(demo, ['int8-dynamic'], { outDir: join(work, 'demo-variants') });
    const propsPlan: JobPlan = { ...plan, probes: ['properties'], settings: { properties: { norms: ['test-features.csv'], layers: 'static,2', folds: 4 } } };
    const ctx = { reference: demo, model: loadModelDir(demo.dir, { onnxPath: int8.onnxPath }), variant: int8, modelName: 'demo', plan: propsPlan, normsDir };
    const [r] = await run('properties', 'int8-dynamic', ctx);
    assert.equal(r.probe, 'properties');
    assert.equal(r.variant.name, 'int8-dynamic');
    assert.match(r.verdict.status, /^(passes-controls|fails-controls|invalid)$/);
    assert.ok((r.data as { comparedToFp32?: unknown }).comparedToFp32, 'the variant is compared with fp32');
    await assert.rejects(async () => run('properties', 'fp32', { ...ctx, variant: (await compressionProvider.ensure(demo, ['fp32']))[0], normsDir: undefined }), coded('EP_AGENT_NO_NORMS_DIR'));
  });
});
