import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { loadOnnxFile } from '../core/onnx/model-io.ts';
import { readFloats } from '../core/onnx/tensor-data.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

test('int4-weight: MatMulNBits blocks that decode by hand to within half a step of each weight, outputs close to fp32, block size a parameter', async () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const outDir = mkdtempSync(join(tmpdir(), 'ep-int4-'));
  const [v] = await ensureVariants(md, ['int4-weight'], { outDir, int4BlockSize: 16 });
  assert.deepEqual(v.manifest.quantization?.forms, ['MatMulNBits']);
  assert.equal((v.manifest.parameters as { blockSize: number }).blockSize, 16);
  const proto = loadOnnxFile(v.onnxPath).proto;
  assert.equal(proto.graph.node.filter((n) => n.opType === 'MatMulNBits').length, 12, 'all 12 dense matrices of tiny (K = 16 or 32)');

  // decode layer.0.ffn.up.weight [K=16, N=32] from the packed bytes as the layout says: B[n][block][byte], low nibble first, zero point 8
  const w = readFloats(md.model.proto.graph.initializer.find((t) => t.name === 'layer.0.ffn.up.weight')!);
  const b = proto.graph.initializer.find((t) => t.name === 'layer.0.ffn.up.weight.q4')!;
  const s = readFloats(proto.graph.initializer.find((t) => t.name === 'layer.0.ffn.up.weight.q4.scales')!);
  const [K, N] = [16, 32];
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const byte = b.rawData[n * (K / 2) + (k >> 1)];
      const q = k % 2 === 0 ? byte & 15 : byte >> 4;
      assert.ok(Math.abs((q - 8) * s[n] - w[k * N + n]) <= s[n] / 2 + 1e-7, `w[${k}][${n}]`);
    }
  }
  const seqs = ['the cat sat on the mat', 'water is cold'].map((t) => md.tokenizer.encode(t).ids);
  const run = async (m: typeof proto) => { const r = await InstrumentedRunner.fromProto(m, 'x', md.tokenizer.padId); try { return await r.run(seqs); } finally { await r.release(); } };
  const [x, y] = [(await run(md.model.proto)).hidden[2], (await run(proto)).hidden[2]];
  let dot = 0; let nx = 0; let ny = 0;
  for (let i = 0; i < x.length; i++) { dot += x[i] * y[i]; nx += x[i] ** 2; ny += y[i] ** 2; }
  assert.ok(dot / Math.sqrt(nx * ny) > 0.98, `cosine ${dot / Math.sqrt(nx * ny)}`);
  // another block size is another variant file's parameters (no stale reuse); the default 32 skips K = 16 matrices
  const [v32] = await ensureVariants(md, ['int4-weight'], { outDir: mkdtempSync(join(tmpdir(), 'ep-int4-')) });
  assert.equal(loadOnnxFile(v32.onnxPath).proto.graph.node.filter((n) => n.opType === 'MatMulNBits').length, 2, 'only ffn.down (K = 32) per layer');
});

test('CLI: --int4-block-size and --int8-calibration reach the recipes (manifests name them); bad values are coded errors naming the flag', () => {
  const tiny = ensureGeneratedModel('tiny');
  assertCliError(runCli(['models', 'compress', tiny, '--variants', 'int4-weight', '--int4-block-size', '24']), 'EP_INT4_BLOCK_SIZE', /--int4-block-size: int4 block size 24 is not a power of two >= 16/);
  assertCliError(runCli(['probe', 'attention', tiny, '--variants', 'int8-static', '--int8-calibration', 'percentile:30']), 'EP_INT8_CALIBRATION', /--int8-calibration: "percentile:30"/);
  const out = mkdtempSync(join(tmpdir(), 'ep-int4-cli-'));
  const run = runCli(['--json', 'models', 'compress', tiny, '--variants', 'int4-weight,int8-static', '--int4-block-size', '16', '--int8-calibration', 'percentile', '--out', out]);
  assert.equal(run.status, 0, run.stderr);
  const [int4, int8] = jsonResult<Array<{ manifest: { parameters: { blockSize?: number; calibration?: { method: string; percentile?: number } } } }>>(run);
  assert.equal(int4.manifest.parameters.blockSize, 16);
  assert.deepEqual([int8.manifest.parameters.calibration?.method, int8.manifest.parameters.calibration?.percentile], ['percentile', 99.99]);
});
