import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadModelDir, type ModelDir } from '../core/model/model-dir.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { createSession } from '../core/runtime/ort-session.ts';
import { buildBertGraph, type BertGraphSpec } from '../core/onnx/bert-graph.ts';
import { decodeOnnx, encodeOnnx } from '../core/onnx/model-io.ts';
import { decomposeFusedAttention } from '../core/onnx/fused-attention.ts';
import { DataType, attr, tensorValueInfo } from '../core/onnx/graph-builder.ts';
import { cloneForEdit, type ModelProto } from '../core/onnx/proto.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { assertCliError, coded } from './helpers/coded-errors.ts';
import { asOwnModelDir } from './helpers/quantized-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

// the tiny generated model in the fused forms onnxruntime's transformer optimizer and Optimum write; non-zero
// biases so the packed bias is exercised (BERT's initial zero biases would hide a misplaced third)
const fusedDir = (attention: 'fused' | 'multi-head', attentionMask: '1d' | '2d'): string =>
  ensureGeneratedModel('tiny', { dir: join(mkdtempSync(join(tmpdir(), 'ep-fused-')), 'tiny'), overrides: { attention, attentionMask, biasStd: 0.05 } });
const decomposedDir = ensureGeneratedModel('tiny', { dir: join(mkdtempSync(join(tmpdir(), 'ep-fused-')), 'tiny'), overrides: { biasStd: 0.05 } });
// one row padded, so the mask matters (a mask read the wrong way moves the padded row's keys into every softmax)
const TEXTS = ['the cat sat on the mat by the door', 'a dog'];

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The fused file as onnxruntime runs it (the reference), with `tensors` added as outputs. */
async function runFused(md: ModelDir, seqs: number[][], tensors: string[]): Promise<Float32Array[]> {
  const fused = decodeOnnx(md.model.bytes, md.onnxPath);
  assert.ok(fused.graph.node.some((n) => n.domain === 'com.microsoft'), 'the reference really is the fused graph');
  fused.graph.output.push(...tensors.map((t) => tensorValueInfo(t, DataType.FLOAT)));
  const session = await createSession(encodeOnnx(fused), 'fused');
  try {
    const out = await session.run(bertFeeds(session.inputNames, seqs, md.tokenizer.padId).feeds);
    return tensors.map((t) => tensorFloats(out[t]));
  } finally { await session.release(); }
}

for (const [attention, mask, op] of [['fused', '2d', 'Attention'], ['fused', '1d', 'Attention'], ['multi-head', '2d', 'MultiHeadAttention']] as const) {
  test(`${op} with a ${mask} mask: decomposed on load; every hidden state matches the fused graph's within 1e-4`, async () => {
    const md = loadModelDir(fusedDir(attention, mask));
    assert.deepEqual(md.model.decomposedAttention, [{ op, nodes: 2 }]);
    assert.equal(md.layers.layers, 2);
    const seqs = TEXTS.map((t) => md.tokenizer.encode(t).ids);
    const runner = await InstrumentedRunner.create(md);
    const got = await runner.run(seqs).finally(() => runner.release());
    const want = await runFused(md, seqs, md.layers.hidden);
    got.hidden.forEach((h, l) => assert.ok(maxDiff(h, want[l]) < 1e-4, `hidden ${l}: max |d| ${maxDiff(h, want[l])}`));
    // the same seed written decomposed by the generator is the same model: a second, independent reference
    const plain = await InstrumentedRunner.create(loadModelDir(decomposedDir));
    const ref = await plain.run(seqs).finally(() => plain.release());
    got.hidden.forEach((h, l) => assert.ok(maxDiff(h, ref.hidden[l]) < 1e-4, `hidden ${l} vs generator's decomposed graph`));
    got.attention.forEach((a, l) => assert.ok(maxDiff(a, ref.attention[l]) < 1e-4, `attention ${l + 1} vs generator's decomposed graph`));
    // per head: [2, heads 2, S, S]; rows sum to 1 and the padded row's padding keys get no weight
    assert.equal(got.heads, 2);
    const S = got.seqLen;
    const row = (b: number, h: number, i: number): Float32Array => got.attention[0].subarray(((b * 2 + h) * S + i) * S, ((b * 2 + h) * S + i + 1) * S);
    assert.ok(Math.abs(row(1, 1, 0).reduce((s, x) => s + x, 0) - 1) < 1e-5);
    const short = got.lengths[1];
    assert.ok(short < S && row(1, 0, 0).subarray(short).every((p) => p < 1e-6), 'padding keys masked');
  });
}

test('mask_index [2 * batch] (ends, then starts: left padding): masked keys on both sides, as the fused kernel does', async () => {
  const spec: BertGraphSpec = { vocabSize: 60, hidden: 16, layers: 1, heads: 2, intermediate: 32, maxPositions: 16, seed: 5, initStd: 0.1, biasStd: 0.05, attention: 'fused', attentionMask: '1d' };
  // mask_index becomes a graph input, fed as [end_0, end_1, start_0, start_1]
  const m = cloneForEdit(buildBertGraph(spec));
  m.graph.node = m.graph.node.filter((n) => !n.output.some((o) => o === 'mask/int32' || o === 'mask/index'));
  m.graph.input = [...m.graph.input.filter((i) => i.name !== 'attention_mask'), tensorValueInfo('mask/index', DataType.INT32, ['mask_len'])];
  const S = 6;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: 2 * S }, (_, i) => BigInt(5 + i)), [2, S]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(2 * S), [2, S]),
    'mask/index': new ort.Tensor('int32', Int32Array.from([6, 5, 0, 2]), [4]),
  };
  const run = async (model: ModelProto): Promise<ort.InferenceSession.OnnxValueMapType> => {
    const s = await createSession(encodeOnnx(model), 'x');
    try { return await s.run(feeds); } finally { await s.release(); }
  };
  const { model, decomposed } = decomposeFusedAttention(m);
  assert.deepEqual(decomposed, [{ op: 'Attention', nodes: 1 }]);
  const softmax = model.graph.node.find((n) => n.opType === 'Softmax')!;
  model.graph.output.push(tensorValueInfo(softmax.output[0], DataType.FLOAT));
  const [want, got] = [await run(m), await run(model)];
  const d = maxDiff(tensorFloats(want.last_hidden_state), tensorFloats(got.last_hidden_state));
  assert.ok(d < 1e-4, `max |d| ${d}`);
  // row 1 attends keys 2..4 only (start 2, end 5): weights on keys 0, 1 and 5 are exp(-10000)-small
  const probs = tensorFloats(got[softmax.output[0]]);
  const row = probs.subarray((1 * 2 + 0) * S * S, (1 * 2 + 0) * S * S + S);
  assert.ok([0, 1, 5].every((j) => row[j] < 1e-6) && [2, 3, 4].every((j) => row[j] > 1e-3), `row ${Array.from(row)}`);
});

test('forms it cannot undo are refused with EP_MODEL_ATTENTION_FORM naming the construct; the attention probe runs on a decomposed file', () => {
  const md = loadModelDir(fusedDir('fused', '2d'));
  const causal = cloneForEdit(decodeOnnx(md.model.bytes, 'x'));
  causal.graph.node = causal.graph.node.map((n) => (n.opType === 'Attention' ? { ...n, attribute: [...n.attribute, attr('unidirectional', 1)] } : n));
  assert.throws(() => decomposeFusedAttention(causal, 'causal.onnx'), coded('EP_MODEL_ATTENTION_FORM', { file: 'causal.onnx', op: 'Attention', construct: /causal/ }));
  const withBias = cloneForEdit(decodeOnnx(md.model.bytes, 'x'));
  withBias.graph.node = withBias.graph.node.map((n) => (n.opType === 'Attention' ? { ...n, input: [...n.input, '', 'rel_bias'] } : n));
  assert.throws(() => decomposeFusedAttention(withBias), coded('EP_MODEL_ATTENTION_FORM', { construct: /attention bias/ }));
  // a mask declared 3-D [batch, seq, seq]
  const mask3 = cloneForEdit(decodeOnnx(md.model.bytes, 'x'));
  mask3.graph.valueInfo.push(tensorValueInfo('mask/index', DataType.INT32, ['batch', 'sequence', 'sequence']));
  assert.throws(() => decomposeFusedAttention(mask3), coded('EP_MODEL_ATTENTION_FORM', { construct: /3-D attention mask/ }));
  // MultiHeadAttention with a 1-D mask, through the CLI: one coded error, no stack trace
  assertCliError(runCli(['probe', 'attention', fusedDir('multi-head', '1d'), '--variants', 'none']), 'EP_MODEL_ATTENTION_FORM', /MultiHeadAttention.*1-D mask/);

  const dir = asOwnModelDir(md, decodeOnnx(md.model.bytes, 'x'));
  const inspect = runCli(['models', 'inspect', dir]);
  assert.equal(inspect.status, 0, inspect.stderr);
  assert.match(inspect.stdout, /fused attention: 2 Attention decomposed/);
  const text = join(dir, 'sentences.txt');
  writeFileSync(text, `${['the cat sat on the mat', 'a dog ran in the park', 'water is cold', 'the sun is hot today', 'she reads a book', 'birds fly over the river'].join('\n')}\n`);
  const probe = runCli(['--json', 'probe', 'attention', dir, '--variants', 'fp16', '--text', text, '--no-sanity']);
  assert.equal(probe.status, 0, probe.stderr);
  const records = jsonResult<Array<{ variant: { name: string }; data: { layers?: unknown } }>>(probe);
  assert.ok(records.length >= 1, JSON.stringify(records).slice(0, 300));
});
