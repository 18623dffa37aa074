import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModelDir } from '../core/model/model-dir.ts';
import { node } from '../core/onnx/graph-builder.ts';
import { detectLayers, layerWeights } from '../core/onnx/layer-detect.ts';
import { cloneForEdit, type ModelProto } from '../core/onnx/proto.ts';
import { uint8Tensor } from '../core/onnx/tensor-data.ts';
import { collectActivations } from '../probes/attention/activations.ts';
import { cascadingRandomization, randomizeFromLayer } from '../probes/attention/randomization.ts';
import { loadAttentionThresholds } from '../probes/attention/thresholds.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { coded } from './helpers/coded-errors.ts';
import { matMulIntegerModel, qdqModel } from './helpers/quantized-models.ts';

const md = loadModelDir(ensureGeneratedModel('tiny'));
const TEXTS = ['the cat sat on the mat', 'a dog and a cat', 'water is cold in the winter', 'the sun rises in the east'];
// tiny: H = 16, I = 32. Per layer, the six weight matrices hold 4 H^2 + 2 H I = 1024 + 1024 = 2048 elements;
// biases 3H (q, k, v) + H (output) + I (up) + H (down) = 112 and two LayerNorms' gamma + beta 4H = 64: 176 float elements.
const MATRIX = 2048;
const VECTORS = 176;
const size = (m: ModelProto, names: string[]): number => names.reduce((s, n) => s + m.graph.initializer.find((t) => t.name === n)!.dims.reduce((a, b) => a * Number(b), 1), 0);

test('layer weights by encoding: fp32 all float; int8 files have their matrices as integer data and their scales left alone', async () => {
  const fp = layerWeights(md.model.proto.graph, md.layers);
  for (const w of fp) { assert.equal(size(md.model.proto, w.float), MATRIX + VECTORS); assert.deepEqual(w.quantized, []); }
  for (const m of [matMulIntegerModel(md), await qdqModel(md, TEXTS)]) {
    const ws = layerWeights(m.graph, detectLayers(m.graph));
    for (const w of ws) {
      assert.equal(size(m, w.quantized), MATRIX, w.quantized.join(', '));
      // the float set is the biases and LayerNorms only: no per-channel weight scale (16 or 32 elements) among them
      assert.equal(size(m, w.float), VECTORS, w.float.join(', '));
      assert.ok(w.float.every((n) => !/scale|zero_point/.test(n)), w.float.join(', '));
    }
  }
});

test('randomization re-draws int8 weights in int8 (same scales), and the step says how many of each encoding it re-drew', async () => {
  const mmi = matMulIntegerModel(md);
  const map = detectLayers(mmi.graph);
  const ws = layerWeights(mmi.graph, map);
  const copy = randomizeFromLayer(mmi, ws.map((w) => [...w.float, ...w.quantized]), 2, 1);
  const byName = (m: ModelProto) => new Map(m.graph.initializer.map((t) => [t.name, t]));
  const before = byName(mmi);
  const after = byName(copy);
  for (const name of ws[1].quantized) {
    const a = after.get(name)!;
    assert.equal(a.dataType, before.get(name)!.dataType, 'stays int8');
    assert.notDeepEqual(Buffer.from(a.rawData), Buffer.from(before.get(name)!.rawData), `${name} re-drawn`);
  }
  for (const name of ws[0].quantized) assert.equal(after.get(name), before.get(name), 'layer 1 untouched when randomizing from layer 2');
  for (const t of mmi.graph.initializer) if (/scale|zero_point/.test(t.name)) assert.equal(after.get(t.name), t, `${t.name} kept`);

  const seqs = TEXTS.map((t) => md.tokenizer.encode(t).ids);
  const ref = await collectActivations(mmi, 'mmi', seqs, md.tokenizer.padId);
  const steps = await cascadingRandomization(mmi, map, seqs, md.tokenizer.padId, ref, 1, loadAttentionThresholds());
  assert.deepEqual(steps.map((s) => s.redrawn), [
    { floatElements: VECTORS, integerElements: MATRIX },
    { floatElements: 2 * VECTORS, integerElements: 2 * MATRIX },
  ]);
  // re-drawn int8 weights really move the attention of the randomized layers
  for (const s of steps) assert.ok(s.attentionJs > 1e-4, `attention JS ${s.attentionJs}`);
});

test('packed 4-bit weights (MatMulNBits) cannot be re-drawn: the check refuses with a coded reason instead of judging', async () => {
  const m = cloneForEdit(md.model.proto);
  const target = m.graph.node.findIndex((n) => n.name === 'MatMul_layer.0.ffn.up/mm');
  assert.ok(target >= 0);
  const mm = m.graph.node[target];
  m.graph.initializer.push(uint8Tensor('up.q4', [32, 1, 8], new Uint8Array(256)), uint8Tensor('up.q4.scales', [32], new Uint8Array(32)));
  m.graph.node[target] = node('MatMulNBits', [mm.input[0], 'up.q4', 'up.q4.scales'], mm.output, { K: 16, N: 32, bits: 4, block_size: 16 }, 'up_nbits', 'com.microsoft');
  const map = detectLayers(m.graph);
  assert.deepEqual(layerWeights(m.graph, map)[0].packed, ['up.q4']);
  await assert.rejects(cascadingRandomization(m, map, [[1, 2]], 0, undefined as never, 1, loadAttentionThresholds()), coded('EP_RANDOMIZATION_PACKED_WEIGHTS', { tensors: /up\.q4 \(layer 1\)/ }));
});
