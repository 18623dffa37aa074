import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadModelDir } from '../core/model/model-dir.ts';
import { loadOnnxFile, sha256Hex } from '../core/onnx/model-io.ts';
import { readFloats } from '../core/onnx/tensor-data.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { createSession } from '../core/runtime/ort-session.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { asExternalDataDir } from './helpers/quantized-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

const md = loadModelDir(ensureGeneratedModel('tiny'));
const seqs = ['the cat sat on the mat', 'a dog'].map((t) => md.tokenizer.encode(t).ids);

/** last_hidden_state as onnxruntime computes it from the file on disk (it reads the external data itself). */
async function hiddenFromFile(path: string): Promise<Float32Array> {
  const s = await createSession(path, path);
  try { return tensorFloats((await s.run(bertFeeds(s.inputNames, seqs, md.tokenizer.padId).feeds)).last_hidden_state); } finally { await s.release(); }
}

test('external-data export: the fixture is one onnxruntime reads, and edgeprobe reads the same weights from the model\'s directory', async () => {
  const dir = asExternalDataDir(md);
  const graphBytes = statSync(join(dir, 'model.onnx')).size;
  const dataBytes = statSync(join(dir, 'model.onnx.data')).size;
  assert.ok(dataBytes > 2 * graphBytes, `weights are in the data file (${graphBytes} graph bytes, ${dataBytes} data bytes)`);
  const ref = await hiddenFromFile(md.onnxPath);
  assert.deepEqual(await hiddenFromFile(join(dir, 'model.onnx')), ref);

  // the CLI runs in the project root, the model sits in a temp directory: the data path is resolved from the model's directory
  const run = runCli(['--json', 'models', 'inspect', dir]);
  assert.equal(run.status, 0, run.stderr);
  const d = jsonResult<{ sha256: string; bytes: number; dataFiles: string[] }>(run);
  assert.deepEqual(d.dataFiles, [join(dir, 'model.onnx.data')]);
  assert.equal(d.bytes, graphBytes + dataBytes);
  // the pin covers the weights: graph bytes then data bytes
  assert.equal(d.sha256, sha256Hex(Buffer.concat([readFileSync(join(dir, 'model.onnx')), readFileSync(join(dir, 'model.onnx.data'))])));
  const loaded = loadOnnxFile(join(dir, 'model.onnx'));
  const w = (p: typeof loaded.proto) => readFloats(p.graph.initializer.find((t) => t.name === 'layer.0.ffn.up.weight')!);
  assert.deepEqual(w(loaded.proto), w(md.model.proto));

  // a changed data file changes the pin; a missing one is one coded error naming it
  appendFileSync(join(dir, 'model.onnx.data'), Buffer.from([0]));
  assert.notEqual(loadOnnxFile(join(dir, 'model.onnx')).sha256, d.sha256);
  rmSync(join(dir, 'model.onnx.data'));
  assertCliError(runCli(['models', 'inspect', dir]), 'EP_ONNX_EXTERNAL_DATA_MISSING', /model\.onnx\.data/);
});

test('models compress on an external-data export writes variants with external data whose outputs stay close to fp32', async () => {
  const dir = asExternalDataDir(md);
  const out = mkdtempSync(join(tmpdir(), 'ep-extvariants-'));
  const run = runCli(['--json', 'models', 'compress', dir, '--variants', 'fp16,int8-weight', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  const variants = jsonResult<Array<{ name: string; onnxPath: string; manifest: { bytes: number; sha256: string } }>>(run);
  const ref = await hiddenFromFile(md.onnxPath);
  for (const v of variants) {
    const data = `${v.onnxPath}.data`;
    assert.ok(existsSync(data) && statSync(data).size > 1000, `${v.name} has non-empty external data`);
    assert.equal(v.manifest.bytes, statSync(v.onnxPath).size + statSync(data).size);
    assert.equal(v.manifest.sha256, loadOnnxFile(v.onnxPath).sha256);
    const h = await hiddenFromFile(v.onnxPath);
    let dot = 0; let na = 0; let nb = 0;
    for (let i = 0; i < ref.length; i++) { dot += ref[i] * h[i]; na += ref[i] ** 2; nb += h[i] ** 2; }
    assert.ok(dot / Math.sqrt(na * nb) > 0.95, `${v.name}: cosine ${dot / Math.sqrt(na * nb)}`);
  }
  // a second run reuses them (the manifest's pin matches graph + data)
  const again = jsonResult<Array<{ manifest: { createdAt: string } }>>(runCli(['--json', 'models', 'compress', dir, '--variants', 'fp16,int8-weight', '--out', out]));
  assert.deepEqual(again.map((v) => v.manifest.createdAt), variants.map((v) => (v as unknown as { manifest: { createdAt: string } }).manifest.createdAt));
});
