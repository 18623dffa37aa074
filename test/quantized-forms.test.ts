import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quantizeInt8 } from '../agent/compress/int8-graph.ts';
import { storeWeightsFp16 } from '../agent/compress/fp16-graph.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { DataType, makeModel, node, tensorValueInfo } from '../core/onnx/graph-builder.ts';
import { detectLayers } from '../core/onnx/layer-detect.ts';
import { detectQuantization } from '../core/onnx/quantization-detect.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { coded } from './helpers/coded-errors.ts';
import { matMulIntegerModel, qdqModel } from './helpers/quantized-models.ts';
import type { ModelProto } from '../core/onnx/proto.ts';

const TEXTS = ['the cat sat on the mat', 'a dog and a cat', 'water is cold in the winter', 'the sun rises in the east'];
const md = loadModelDir(ensureGeneratedModel('tiny'));
const count = (m: ModelProto, op: string): number => m.graph.node.filter((n) => n.opType === op).length;

test('QDQ file (Q/DQ around every MatMul input, the Softmax output included): layers found through the QuantizeLinear/DequantizeLinear pairs', async () => {
  const qdq = await qdqModel(md, TEXTS);
  // the fixture really puts every attention Softmax behind Q/DQ: no Softmax feeds a MatMul directly
  const softmaxOut = new Set(qdq.graph.node.filter((n) => n.opType === 'Softmax').map((n) => n.output[0]));
  assert.equal(softmaxOut.size, 2);
  assert.ok(qdq.graph.node.every((n) => n.opType !== 'MatMul' || !n.input.some((i) => softmaxOut.has(i))));
  assert.ok(count(qdq, 'QuantizeLinear') >= 10);
  const map = detectLayers(qdq.graph, 'qdq.onnx');
  const ref = detectLayers(md.model.proto.graph);
  assert.deepEqual(map.attention, ref.attention);
  assert.deepEqual(map.hidden, ref.hidden);
  const q = detectQuantization(qdq.graph);
  assert.deepEqual(q.forms, ['QDQ']);
  assert.equal(q.activations, 'quantized');
  assert.ok(q.quantized && q.integerWeightElements > 0);
});

test('MatMulInteger file (attention matmuls quantized too): layers found through DynamicQuantizeLinear -> MatMulInteger', () => {
  const mmi = matMulIntegerModel(md);
  const softmaxOut = new Set(mmi.graph.node.filter((n) => n.opType === 'Softmax').map((n) => n.output[0]));
  assert.ok(mmi.graph.node.every((n) => n.opType !== 'MatMul' || !n.input.some((i) => softmaxOut.has(i))));
  assert.equal(count(mmi, 'MatMul'), 0);
  const map = detectLayers(mmi.graph, 'mmi.onnx');
  assert.deepEqual(map.attention, detectLayers(md.model.proto.graph).attention);
  assert.deepEqual(detectQuantization(mmi.graph).forms, ['MatMulInteger']);
});

test('quantized files run instrumented, and their attention and hidden states stay close to fp32 (loose, CPU-independent bounds)', async () => {
  const seqs = TEXTS.map((t) => md.tokenizer.encode(t).ids);
  const run = async (m: ModelProto) => {
    const r = await InstrumentedRunner.fromProto(m, 'm', md.tokenizer.padId);
    try { return await r.run(seqs); } finally { await r.release(); }
  };
  const ref = await run(md.model.proto);
  for (const m of [await qdqModel(md, TEXTS), matMulIntegerModel(md)]) {
    const b = await run(m);
    for (let l = 0; l < ref.attention.length; l++) {
      // attention rows are probabilities; int8 moves them by a few hundredths at most on this model
      let maxDiff = 0;
      for (let k = 0; k < ref.attention[l].length; k++) maxDiff = Math.max(maxDiff, Math.abs(ref.attention[l][k] - b.attention[l][k]));
      assert.ok(maxDiff < 0.25, `layer ${l + 1} attention moved by ${maxDiff}`);
    }
    const last = ref.hidden.length - 1;
    let dot = 0; let na = 0; let nb = 0;
    for (let k = 0; k < ref.hidden[last].length; k++) { dot += ref.hidden[last][k] * b.hidden[last][k]; na += ref.hidden[last][k] ** 2; nb += b.hidden[last][k] ** 2; }
    assert.ok(dot / Math.sqrt(na * nb) > 0.9, `last hidden cosine ${dot / Math.sqrt(na * nb)}`);
  }
});

test('quantization detection: fp32, our own variants, and each op form (structure only)', () => {
  assert.deepEqual(detectQuantization(md.model.proto.graph), { forms: [], quantized: false, activations: 'fp32', integerWeightElements: 0, fp16WeightElements: 0, ops: {}, summary: 'fp32 (not quantized)' });
  const w8 = detectQuantization(quantizeInt8(md.model.proto, { mode: 'weight-only' }).model.graph);
  assert.deepEqual(w8.forms, ['QDQ', 'int8-embeddings']);
  assert.equal(w8.activations, 'fp32');
  const d8 = detectQuantization(quantizeInt8(md.model.proto, { mode: 'dynamic' }).model.graph);
  assert.deepEqual(d8.forms, ['MatMulInteger', 'int8-embeddings']);
  assert.equal(d8.activations, 'quantized');
  const f16 = detectQuantization(storeWeightsFp16(md.model.proto).model.graph);
  assert.deepEqual(f16.forms, ['fp16']);
  assert.ok(f16.fp16WeightElements > 0 && f16.integerWeightElements === 0);
  const single = (op: string, domain?: string) => detectQuantization(makeModel({
    name: op, nodes: [node(op, ['x'], ['y'], {}, op, domain)], initializers: [], inputs: [tensorValueInfo('x', DataType.FLOAT)], outputs: [tensorValueInfo('y', DataType.FLOAT)],
  }).graph).forms;
  assert.deepEqual(single('QLinearMatMul'), ['QLinearMatMul']);
  assert.deepEqual(single('MatMulNBits', 'com.microsoft'), ['MatMulNBits']);
  assert.deepEqual(single('DynamicQuantizeMatMul', 'com.microsoft'), ['DynamicQuantizeMatMul']);
});

test('QOperator-format softmax (QLinearSoftmax): one coded refusal naming the file', () => {
  const m = makeModel({
    name: 'qop', nodes: [node('QLinearSoftmax', ['x', 's', 'z', 's', 'z'], ['y'], {}, 'qs', 'com.microsoft')], initializers: [],
    inputs: [tensorValueInfo('x', DataType.UINT8)], outputs: [tensorValueInfo('y', DataType.UINT8)],
  });
  assert.throws(() => detectLayers(m.graph, 'qop.onnx'), coded('EP_MODEL_QLINEAR_SOFTMAX', { file: 'qop.onnx' }));
});
