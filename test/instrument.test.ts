import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelDir } from '../core/model/model-dir.ts';
import { attentionOutput, hiddenOutput, instrumentModel, WORD_EMBEDDINGS_OUTPUT } from '../core/onnx/instrument.ts';
import { encodeOnnx } from '../core/onnx/model-io.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { createSession } from '../core/runtime/ort-session.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { SHARED_MLM_MODEL, SHARED_MODEL, needsShared } from '../harness/shared-data.ts';

const SENTENCES = ['the cat sat on the mat.', 'a dog is a domesticated carnivore.', 'Edge devices run quantized models!'];

async function checkInstrumented(dir: string, plainOutput: string): Promise<void> {
  const md = loadModelDir(dir);
  const { model, layers } = instrumentModel(md.model.proto);
  const inst = await createSession(encodeOnnx(model), 'instrumented');
  const plain = await createSession(md.onnxPath, 'plain');
  const seqs = SENTENCES.map((s) => md.tokenizer.encode(s).ids);
  const { feeds, seqLen, lengths } = bertFeeds(inst.inputNames, seqs, md.tokenizer.padId);
  const out = await inst.run(feeds);
  const ref = await plain.run(feeds);
  const B = seqs.length;
  const H = layers.wordEmbeddingTable!.hidden;
  for (let l = 0; l <= layers.layers; l++) assert.deepEqual(out[hiddenOutput(l)].dims, [B, seqLen, H], `hidden ${l}`);
  assert.deepEqual(out[WORD_EMBEDDINGS_OUTPUT].dims, [B, seqLen, H]);
  for (let l = 1; l <= layers.layers; l++) {
    const t = out[attentionOutput(l)];
    const [b, heads, s1, s2] = t.dims;
    assert.deepEqual([b, s1, s2], [B, seqLen, seqLen]);
    assert.ok(heads >= 1);
    const a = tensorFloats(t);
    for (let r = 0; r < a.length / seqLen; r++) {
      let sum = 0;
      for (let c = 0; c < seqLen; c++) sum += a[r * seqLen + c];
      assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${l} row ${r} sums to ${sum}`);
    }
  }
  // the instrumented run's last hidden state equals the plain run's
  const last = tensorFloats(out[hiddenOutput(layers.layers)]);
  const plainLast = tensorFloats(ref[plainOutput]);
  let maxDiff = 0;
  for (let b = 0; b < B; b++) for (let i = 0; i < lengths[b] * H; i++) maxDiff = Math.max(maxDiff, Math.abs(last[b * seqLen * H + i] - plainLast[b * seqLen * H + i]));
  assert.ok(maxDiff < 1e-5, `max abs diff ${maxDiff}`);
}

test('shared model: instrumented shapes, attention rows sum to 1, last hidden state equals the plain run', { skip: needsShared }, async () => {
  await checkInstrumented(SHARED_MODEL, 'last_hidden_state');
});

test('shared MLM model: layers found although the graph output is logits', { skip: needsShared }, async () => {
  const md = loadModelDir(SHARED_MLM_MODEL);
  assert.equal(md.layers.layers, 6);
  assert.equal(md.layers.hidden.length, 7);
});

test('shared model reproduces the PyTorch reference values to 1e-5', { skip: needsShared }, async () => {
  const md = loadModelDir(SHARED_MODEL);
  const refs = JSON.parse(readFileSync(join(SHARED_MODEL, 'reference_outputs.json'), 'utf8')) as Array<{ text: string; last_hidden_state_first8_of_token0: number[] }>;
  const s = await createSession(md.onnxPath, 'plain');
  for (const r of refs) {
    const out = await s.run(bertFeeds(s.inputNames, [md.tokenizer.encode(r.text).ids], 0).feeds);
    const v = tensorFloats(out.last_hidden_state).slice(0, 8);
    r.last_hidden_state_first8_of_token0.forEach((x, i) => assert.ok(Math.abs(v[i] - x) < 1e-5, `${r.text}[${i}] ${v[i]} vs ${x}`));
  }
});

test('generated demo models (decomposed and fused LayerNorm) are instrumented the same way', async () => {
  await checkInstrumented(ensureGeneratedModel('demo'), 'last_hidden_state');
  await checkInstrumented(ensureGeneratedModel('tiny', { dir: join(ensureGeneratedModel('tiny'), '..', 'tiny-fused-ln'), overrides: { layerNorm: 'fused' } }), 'last_hidden_state');
});
