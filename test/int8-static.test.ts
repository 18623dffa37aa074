import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
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
