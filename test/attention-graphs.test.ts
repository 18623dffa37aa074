import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectActivations } from '../probes/attention/activations.ts';
import { identifiabilityCurve } from '../probes/attention/identifiability.ts';
import { learnedIdentifiability } from '../probes/attention/learned-identifiability.ts';
import { mixingCurve, rollout } from '../probes/attention/rollout.ts';
import { attentionStructure } from '../probes/attention/structure.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { DataType, node } from '../core/onnx/graph-builder.ts';
import { detectLayers, layerParameters } from '../core/onnx/layer-detect.ts';
import { GraphIndex } from '../core/onnx/graph-index.ts';
import { cloneForEdit } from '../core/onnx/proto.ts';
import { dimsOf, float16Tensor, floatTensor, readFloats } from '../core/onnx/tensor-data.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { constantAttentionGraph, modelDirWith } from './helpers/attention-fixtures.ts';

const TEXTS = ['the cat sat on the mat', 'a dog and a cat', 'water is cold in the winter and warm in the summer', 'the sun rises'];

async function runFixture(diagonal: number | number[]) {
  const tiny = loadModelDir(ensureGeneratedModel('tiny'));
  const dir = modelDirWith(constantAttentionGraph({ layers: Array.isArray(diagonal) ? diagonal.length : 3, diagonal, vocab: tiny.tokenizer.vocabSize }));
  const md = loadModelDir(dir);
  const seqs = TEXTS.map((t) => md.tokenizer.encode(t).ids);
  // one sentence per batch: this graph has no attention mask, so padding would get attention weight
  return collectActivations(md.model.proto, 'fixture', seqs, md.tokenizer.padId, { batchTokens: 1 });
}

test('hand-built graph with a large constant diagonal: identity attention, identifiability 1.0, rollout = I', async () => {
  const acts = await runFixture(50);
  assert.equal(acts.layers, 3);
  for (const s of acts.sentences) {
    for (const a of s.attention) for (let i = 0; i < s.n; i++) for (let j = 0; j < s.n; j++) assert.ok(Math.abs(a[i * s.n + j] - (i === j ? 1 : 0)) < 1e-6);
    for (const r of rollout(s.attention, acts.heads, s.n)) for (let k = 0; k < s.n * s.n; k++) assert.ok(Math.abs(r[k] - (Math.floor(k / s.n) === k % s.n ? 1 : 0)) < 1e-6);
  }
  assert.deepEqual(identifiabilityCurve(acts), [1, 1, 1, 1]);
  assert.deepEqual(learnedIdentifiability(acts, 1, 0.5).curve, [1, 1, 1, 1]);
  const mix = mixingCurve(acts);
  mix.selfContribution.forEach((x) => assert.ok(Math.abs(x - 1) < 1e-6));
  const st = attentionStructure(acts, 0.5);
  st.forEach((l) => { assert.ok(l.entropyRatio < 1e-6); assert.equal(l.dominantShare, 1); });
});

test('hand-built graph with constant zero scores: uniform attention, plain rollout rows 1/n', async () => {
  const acts = await runFixture(0);
  for (const s of acts.sentences) {
    for (const a of s.attention) for (let k = 0; k < s.n * s.n; k++) assert.ok(Math.abs(a[k] - 1 / s.n) < 1e-7);
    for (const r of rollout(s.attention, acts.heads, s.n, 0)) for (let k = 0; k < s.n * s.n; k++) assert.ok(Math.abs(r[k] - 1 / s.n) < 1e-6);
    // residual rollout after 3 layers: 0.125 I + 0.875 / n
    const r3 = rollout(s.attention, acts.heads, s.n)[2];
    for (let i = 0; i < s.n; i++) for (let j = 0; j < s.n; j++) assert.ok(Math.abs(r3[i * s.n + j] - ((i === j ? 0.125 : 0) + 0.875 / s.n)) < 1e-6);
  }
  attentionStructure(acts, 0.5).forEach((l) => { assert.ok(Math.abs(l.entropyRatio - 1) < 1e-6); assert.equal(l.dominantShare, 0); });
});

test('hand-built two-layer graph (scores ln3 I, then 0) matches the rollout computed by hand', async () => {
  // layer 1: softmax of ln(3) on the diagonal -> A1 diag 3/(n+2), off-diagonal 1/(n+2)
  //   Â1 = .5 A1 + .5 I: diag .5 + 1.5/(n+2), off .5/(n+2)   (rows already sum to 1)
  // layer 2: zeros -> A2 = U (all 1/n); Â2 = .5 U + .5 I
  // R2 = Â2 Â1 = .5 U Â1 + .5 Â1 = .5 U + .5 Â1, since Â1 is symmetric and row-stochastic (U Â1 = U)
  //   diag .5/n + .25 + .75/(n+2), off .5/n + .25/(n+2)
  //   e.g. n = 5: diag .1 + .25 + .75/7 = 0.457142..., off .1 + .25/7 = 0.135714...; row sum .457142 + 4 x .135714 = 1
  const acts = await runFixture([Math.log(3), 0]);
  for (const s of acts.sentences) {
    const n = s.n;
    const [r1, r2] = rollout(s.attention, acts.heads, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const want1 = i === j ? 0.5 + 1.5 / (n + 2) : 0.5 / (n + 2);
        const want2 = i === j ? 0.5 / n + 0.25 + 0.75 / (n + 2) : 0.5 / n + 0.25 / (n + 2);
        assert.ok(Math.abs(r1[i * n + j] - want1) < 1e-6, `R1[${i}][${j}] n=${n}`);
        assert.ok(Math.abs(r2[i * n + j] - want2) < 1e-6, `R2[${i}][${j}] = ${r2[i * n + j]} vs ${want2} (n=${n})`);
      }
    }
  }
});

test('generated BERT with zeroed query and key weights attends exactly uniformly (with padding in the batch)', async () => {
  const base = loadModelDir(ensureGeneratedModel('tiny'));
  const model = cloneForEdit(base.model.proto);
  model.graph.initializer = model.graph.initializer.map((t) => (/attention\.(query|key)\.weight$/.test(t.name) ? floatTensor(t.name, dimsOf(t), new Float32Array(dimsOf(t).reduce((a, b) => a * b, 1))) : t));
  const md = loadModelDir(modelDirWith(model));
  const seqs = TEXTS.map((t) => md.tokenizer.encode(t).ids);
  const acts = await collectActivations(md.model.proto, 'zeroed qk', seqs, md.tokenizer.padId);
  for (const s of acts.sentences) for (const a of s.attention) for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - 1 / s.n) < 1e-6, `weight ${a[k]} vs 1/${s.n}`);
  // embeddings layer: every position is its own nearest input embedding
  assert.equal(identifiabilityCurve(acts)[0], 1);
});

test('layerParameters finds each block\'s own weights and no shared constants', () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const params = layerParameters(md.model.proto.graph, md.layers);
  assert.equal(params.length, 2);
  for (const [l, names] of params.entries()) {
    assert.ok(names.length >= 12, `layer ${l + 1}: ${names.join(', ')}`);
    for (const n of names) assert.ok(n.startsWith(`layer.${l}.`), `${n} is not in layer ${l + 1}`);
    for (const w of ['attention.query.weight', 'attention.key.weight', 'attention.value.weight', 'attention.output.weight', 'ffn.up.weight', 'ffn.down.weight']) {
      assert.ok(names.includes(`layer.${l}.${w}`), `layer ${l + 1} misses ${w}`);
    }
  }
  const all = params.flat();
  for (const shared of ['attn/scale', 'attn/split_shape', 'embeddings.word.weight', 'mask/neg']) assert.ok(!all.includes(shared));
  // nodesBetween of hidden 0 and hidden 1 contains the layer-0 softmax but not the layer-1 one
  const g = new GraphIndex(md.model.proto.graph);
  const block = [...g.nodesBetween(md.layers.hidden[0], md.layers.hidden[1])].map((i) => md.model.proto.graph.node[i].output[0]);
  assert.ok(block.includes(md.layers.attention[0]));
  assert.ok(!block.includes(md.layers.attention[1]));
});

test('layerParameters follows weights through the Cast nodes an fp16 variant inserts', () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const model = cloneForEdit(md.model.proto);
  const casts: ReturnType<typeof node>[] = [];
  model.graph.initializer = model.graph.initializer.map((t) => {
    if (t.dims.length < 2 || t.dataType !== DataType.FLOAT) return t;
    casts.push(node('Cast', [`${t.name}_fp16`], [t.name], { to: DataType.FLOAT }));
    return float16Tensor(`${t.name}_fp16`, dimsOf(t), readFloats(t));
  });
  model.graph.node = [...casts, ...model.graph.node];
  const params = layerParameters(model.graph, detectLayers(model.graph));
  assert.ok(params[0].includes('layer.0.attention.query.weight_fp16'));
  assert.ok(params[1].includes('layer.1.ffn.down.weight_fp16'));
  assert.ok(!params.flat().includes('embeddings.word.weight_fp16'));
});
