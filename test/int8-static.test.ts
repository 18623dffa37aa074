import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { calibrateRanges } from '../agent/compress/activation-ranges.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { uint8Params } from '../agent/compress/qdq-graph.ts';
import { DataType, makeModel, node, tensorValueInfo } from '../core/onnx/graph-builder.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { loadOnnxFile } from '../core/onnx/model-io.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

test('int8-static: a calibrated QDQ variant with its manifest, close to fp32, reused on the second call', async () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const outDir = mkdtempSync(join(tmpdir(), 'ep-int8-static-'));
  const [v] = await ensureVariants(md, ['int8-static'], { outDir });
  assert.equal(v.name, 'int8-static');
  assert.deepEqual(v.manifest.quantization?.forms, ['QDQ']);
  assert.match(v.manifest.quantization!.summary, /quantized activations/);
  assert.deepEqual((v.manifest.parameters as { calibration: unknown }).calibration, { corpus: 'built-in', seed: 1, sentences: 32, method: 'minmax' });
  const proto = loadOnnxFile(v.onnxPath).proto;
  // every MatMul weight went int8: tiny has 2 layers x 6 dense matrices
  assert.equal(proto.graph.node.filter((n) => n.opType === 'DequantizeLinear' && n.input[0].endsWith('.qdq8')).length, 12);
  const seqs = ['the cat sat on the mat', 'water is cold'].map((t) => md.tokenizer.encode(t).ids);
  const run = async (m: typeof proto) => { const r = await InstrumentedRunner.fromProto(m, 'x', md.tokenizer.padId); try { return await r.run(seqs); } finally { await r.release(); } };
  const [a, b] = [await run(md.model.proto), await run(proto)];
  const x = a.hidden[a.hidden.length - 1];
  const y = b.hidden[b.hidden.length - 1];
  let dot = 0; let nx = 0; let ny = 0;
  for (let i = 0; i < x.length; i++) { dot += x[i] * y[i]; nx += x[i] ** 2; ny += y[i] ** 2; }
  assert.ok(dot / Math.sqrt(nx * ny) > 0.9, `cosine ${dot / Math.sqrt(nx * ny)}`);
  const [again] = await ensureVariants(md, ['int8-static'], { outDir });
  assert.equal(again.manifest.createdAt, v.manifest.createdAt);
});

test('percentile calibration on a planted outlier: the range stops at the bulk, so the scale is ~100x finer than min/max', async () => {
  // the activation is the token id itself (Cast(input_ids)): 100 sequences of 100 tokens, ids (j mod 10) + 1,
  // so 1..10 a thousand times each, except one 1 replaced by the outlier 1000: 10,000 values
  const m = makeModel({
    name: 'planted', opset: 17,
    nodes: [node('Cast', ['input_ids'], ['act'], { to: DataType.FLOAT }), node('Identity', ['act'], ['out'])],
    initializers: [], inputs: [tensorValueInfo('input_ids', DataType.INT64, ['batch', 'sequence'])], outputs: [tensorValueInfo('out', DataType.FLOAT)],
  });
  const seqs = Array.from({ length: 100 }, (_, s) => Array.from({ length: 100 }, (_, j) => (s === 0 && j === 0 ? 1000 : (j % 10) + 1)));
  const minmax = (await calibrateRanges(m, ['act'], seqs, 0)).get('act')!;
  const pct = (await calibrateRanges(m, ['act'], seqs, 0, 'planted', { method: 'percentile', percentile: 99.99 })).get('act')!;
  // min/max: [1, 1000]; uint8 range always holds 0, so scale = (1000 - 0) / 255 = 3.92157
  assert.deepEqual(minmax, { min: 1, max: 1000 });
  assert.ok(Math.abs(uint8Params(minmax).scale - 1000 / 255) < 1e-9);
  // percentile 99.99: 9,999 of 10,000 values are <= 10, so the cut is the upper edge of the histogram bin holding 10:
  // bins of width 1000 / 8192 = 0.1220703; 10 / 0.1220703 = 81.92 -> bin 81, upper edge 82 * 0.1220703 = 10.009766;
  // range [1, 10.009766], scale = 10.009766 / 255 = 0.0392540 (exactly 10 / 255 = 0.0392157 without binning)
  assert.equal(pct.min, 1);
  assert.ok(Math.abs(pct.max - (82 * 1000) / 8192) < 1e-9, `cut ${pct.max}`);
  assert.ok(Math.abs(uint8Params(pct).scale - (82 * 1000) / 8192 / 255) < 1e-9);
  assert.ok(uint8Params(minmax).scale / uint8Params(pct).scale > 99, 'the outlier no longer sets the scale');
  // percentile 100 keeps everything: the cut is max |x| itself, so it equals min/max
  assert.deepEqual((await calibrateRanges(m, ['act'], seqs, 0, 'planted', { method: 'percentile', percentile: 100 })).get('act'), minmax);
});
