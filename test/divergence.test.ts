import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareVariants, type CompareData } from '../probes/divergence/divergence.ts';
import { findJump } from '../probes/divergence/jump-rule.ts';
import { addPrediction, emptyCounts, summarize } from '../probes/divergence/task-agreement.ts';
import { numericGateSweep } from '../core/runtime/numeric-gate-sweep.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { tensorNumerics, FP16_MAX } from '../core/numeric/numeric-gate.ts';
import { ensureGeneratedModel, GENERATED_DIR } from '../models/generated-models.ts';
import { plantLayerNoise } from './helpers/planted-models.ts';
import { SHARED_MODEL, needsShared } from '../harness/shared-data.ts';

const SENTENCES = [
  'the cat sat on the mat.', 'a dog runs in the park every morning.', 'the river is cold in winter.',
  'she reads a book at night.', 'many people walk to the market on sunday.', 'the old house has a red door.',
];

test('jump rule: flat error has no jump; a step names its layer', () => {
  // increments 0.01 each: median 0.01, threshold max(0.02, 0.03) -> none reach it
  assert.equal(findJump([0.01, 0.02, 0.03, 0.04]).jumpLayer, null);
  // d = [0, 0.001, 0.2, 0.21]: increments [0, .001, .199, .01], median .0055 -> threshold .02 -> layer 2
  const r = findJump([0, 0.001, 0.2, 0.21]);
  assert.equal(r.jumpLayer, 2);
  assert.equal(r.worstLayer, 2);
});

test('divergence of fp32 against itself is zero', async () => {
  const md = loadModelDir(ensureGeneratedModel('demo'));
  const [rec] = await compareVariants(md, [{ name: 'fp32', onnxPath: md.onnxPath }], SENTENCES, { sweepLengths: [8] });
  const data = rec.data as CompareData;
  for (const l of data.layers) {
    assert.equal(l.relativeL2, 0);
    assert.ok(Math.abs(l.hiddenCosine - 1) < 1e-6);
    if (l.layer > 0) assert.equal(l.attentionJs, 0);
  }
  assert.equal(data.jump.jumpLayer, null);
});

test('planted weight noise in layer 3 grows divergence there and the jump rule names layer 3', async () => {
  const md = loadModelDir(ensureGeneratedModel('demo'));
  const noisy = plantLayerNoise(md.onnxPath, 3, 0.5);
  const [rec] = await compareVariants(md, [{ name: 'noisy-3', onnxPath: noisy }], SENTENCES, { sweepLengths: [8] });
  const data = rec.data as CompareData;
  const err = data.layers.map((l) => l.relativeL2);
  // layers before 3 are untouched, so exactly equal
  assert.deepEqual(err.slice(0, 3), [0, 0, 0]);
  assert.ok(err[3] > 0.05, `layer 3 error ${err[3]}`);
  assert.ok(data.layers[3].attentionJs! > 0);
  assert.equal(data.layers[2].attentionJs, 0);
  assert.equal(data.jump.jumpLayer, 3);
  assert.deepEqual(rec.verdict.layers, [3]);
  // more noise, more divergence
  const [rec2] = await compareVariants(md, [{ name: 'noisy-3b', onnxPath: plantLayerNoise(md.onnxPath, 3, 1.5) }], SENTENCES, { sweepLengths: [8] });
  assert.ok((rec2.data as CompareData).layers[3].relativeL2 > err[3]);
});

test('agreement metrics on hand-made logits', () => {
  const acc = emptyCounts();
  // item 1: both rank class 2 first; top-5 of 6 classes agree on 5/5 except order
  addPrediction(acc, [0, 1, 9, 3, 4, 5], [0, 1, 9, 5, 4, 3], 6, 0, 2);
  // item 2: reference top-1 is 0, variant top-1 is 1 (gold 1); top5 ref {0,1,2,3,4}, var {1,0,2,3,5}: overlap 4
  addPrediction(acc, [9, 8, 7, 6, 5, 0], [8, 9, 7, 6, 0, 5], 6, 0, 1);
  const s = summarize(acc, true);
  assert.equal(s.items, 2);
  assert.equal(s.top1Accuracy, 1); // variant top-1 = gold in both items
  assert.equal(s.top1Agreement, 0.5);
  assert.equal(s.top5Agreement, (1 + 0.8) / 2);
});

test('tensor health counts NaN, Inf and fp16 saturation', () => {
  const h = tensorNumerics('t', [1, NaN, Infinity, -FP16_MAX, 70000, 2]);
  assert.deepEqual({ nan: h.nan, inf: h.inf, sat: h.fp16Saturated, max: h.maxAbs }, { nan: 1, inf: 1, sat: 2, max: 70000 });
});

test('health gate fires only at long lengths on a model with planted large activations', async () => {
  // position rows 40+ hold 7e4, beyond fp16's 65504: only inputs longer than 40 tokens reach them
  const dir = ensureGeneratedModel('demo', { dir: join(GENERATED_DIR, 'demo-position-spike'), overrides: { positionSpike: { from: 40, value: 7e4 } } });
  const sweep = await numericGateSweep(loadModelDir(dir), { fp16Compute: true, lengths: [8, 32, 64] });
  const byLen = Object.fromEntries(sweep.points.map((p) => [p.seqLen, p.ok]));
  assert.deepEqual(byLen, { 8: true, 32: true, 64: false, 128: false });
  assert.equal(sweep.ok, false);
  assert.match(sweep.points.find((p) => p.seqLen === 64)!.problems[0], /fp16 limit/);
});

test('health gate passes the shared model over the sweep', { skip: needsShared }, async () => {
  const sweep = await numericGateSweep(loadModelDir(SHARED_MODEL), { fp16Compute: true });
  assert.equal(sweep.ok, true, JSON.stringify(sweep.points));
  assert.deepEqual(sweep.points.map((p) => p.seqLen), [8, 32, 128]);
});

test('fill-mask on the shared MLM model: fp32 accuracy equals the PyTorch reference on the same items', { skip: needsShared }, async () => {
  const { readFileSync } = await import('node:fs');
  const { readFillMaskItems, fillMaskAgreement, taskKind } = await import('../probes/divergence/task-eval.ts');
  const { SHARED_MLM_MODEL } = await import('../harness/shared-data.ts');
  const md = loadModelDir(SHARED_MLM_MODEL);
  assert.equal(taskKind(md), 'fill-mask');
  const file = join(SHARED_MLM_MODEL, 'fill_mask_eval.jsonl');
  const n = 80;
  // the reference accuracy: how often PyTorch's own top-1 (first of reference_top5_ids) is the target
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(0, n).map((l) => JSON.parse(l) as { target_id: number; reference_top5_ids: number[] });
  const expected = lines.filter((l) => l.reference_top5_ids[0] === l.target_id).length / n;
  const [fp32] = await fillMaskAgreement(md, [{ name: 'fp32', onnxPath: md.onnxPath }], readFillMaskItems(file, md, n));
  assert.equal(fp32.top1Accuracy, expected);
  assert.equal(fp32.top1Agreement, 1);
  assert.equal(fp32.top5Agreement, 1);
});

test('the attention probe records a variant that fails the health gate as invalid, with the reason', async () => {
  const { runAttentionProbe } = await import('../probes/attention/run-attention-probe.ts');
  const { ensureVariants } = await import('../agent/compress/ensure-variants.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = ensureGeneratedModel('demo', { dir: join(GENERATED_DIR, 'demo-position-spike'), overrides: { positionSpike: { from: 40, value: 7e4 } } });
  const md = loadModelDir(dir);
  const variants = await ensureVariants(md, ['fp16'], { outDir: mkdtempSync(join(tmpdir(), 'ep-spike-')) });
  const corpus = { source: 'built-in' as const, seed: 1, sentences: SENTENCES };
  const records = await runAttentionProbe(md, { corpus, variants, seed: 1, sanityChecks: false });
  const [fp32, fp16] = records;
  // fp32 computes the large values exactly; only fp16 arithmetic would overflow them
  assert.equal(fp32.numericGate?.ok, true, JSON.stringify(fp32.numericGate));
  assert.notEqual(fp32.verdict.status, 'invalid');
  assert.equal(fp16.verdict.status, 'invalid');
  assert.equal(fp16.numericGate?.ok, false);
  assert.ok(fp16.numericGate!.reasons.some((r) => /seq (64|128)/.test(r)), fp16.numericGate!.reasons.join('\n'));
  assert.ok(!fp16.numericGate!.reasons.some((r) => /seq 8:/.test(r)), 'short inputs never reach the planted positions');
});

test('classification head: taskKind finds it and label agreement is 1 against itself, lower against planted noise', async () => {
  const { classificationAgreement, taskKind } = await import('../probes/divergence/task-eval.ts');
  const dir = ensureGeneratedModel('demo', { dir: join(GENERATED_DIR, 'demo-classifier'), overrides: { classifierLabels: 3 } });
  const md = loadModelDir(dir);
  assert.equal(taskKind(md), 'classification');
  const texts = [...SENTENCES, 'the bird flies over the river.', 'my friend drinks tea every morning.', 'a small boat crossed the lake.', 'the teacher opens a book.'];
  const noisy = plantLayerNoise(md.onnxPath, 4, 3);
  const [self, other] = await classificationAgreement(md, [{ name: 'fp32', onnxPath: md.onnxPath }, { name: 'noisy', onnxPath: noisy }], texts);
  assert.deepEqual({ items: self.items, top1: self.top1Agreement, top5: self.top5Agreement, acc: self.top1Accuracy }, { items: texts.length, top1: 1, top5: 1, acc: null });
  // 3 labels: top-5 covers every label, so only top-1 can disagree
  assert.equal(other.top5Agreement, 1);
  assert.ok(other.top1Agreement < 1, `noise in the last layer should flip some labels, agreement ${other.top1Agreement}`);
});
