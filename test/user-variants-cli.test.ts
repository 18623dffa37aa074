import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { loadModelDir } from '../core/model/model-dir.ts';
import { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { asOwnModelDir, matMulIntegerModel, qdqModel, writeTemp } from './helpers/quantized-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { writeTestNorms } from './helpers/test-norms.ts';

const tinyDir = ensureGeneratedModel('tiny');
const md = loadModelDir(tinyDir);
const work = mkdtempSync(join(tmpdir(), 'ep-user-variants-'));
const textFile = join(work, 'sentences.txt');
writeFileSync(textFile, ['the cat sat on the mat', 'a dog and a cat', 'water is cold in the winter', 'the sun rises in the east', 'the bird is in the tree', 'milk and bread'].join('\n'));
const qdqPath = writeTemp(await qdqModel(md, ['the cat sat on the mat', 'a dog runs']), 'model_qdq.onnx');
const mmiPath = writeTemp(matMulIntegerModel(md), 'model_quantized.onnx');
const userFlags = ['--variant', `ort-qdq=${qdqPath}`, '--variant', `ort-dynamic=${mmiPath}`];

function records(args: string[]): ProbeRecord[] {
  const run = runCli([...args, '--json'], { timeoutMs: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  const out = jsonResult<ProbeRecord[] | { records: ProbeRecord[] }>(run);
  const list = Array.isArray(out) ? out : out.records;
  for (const r of list) assert.ok(Value.Check(ProbeRecord, r), JSON.stringify([...Value.Errors(ProbeRecord, r)].slice(0, 2)));
  return list;
}

const quantOf = (rs: ProbeRecord[], name: string) => rs.find((r) => r.variant.name === name)?.variant.quantization?.forms;

test('bench --variant NAME=PATH: each user file measured against fp32 under its own name, with its detected quantization', () => {
  const rs = records(['bench', tinyDir, '--variants', 'fp32', ...userFlags, '--seq-len', '8', '--min-queries', '3', '--min-duration-s', '0', '--warmup', '1', '--batch', '2']);
  assert.deepEqual(rs.map((r) => r.variant.name), ['fp32', 'ort-qdq', 'ort-dynamic']);
  assert.deepEqual(quantOf(rs, 'fp32'), []);
  assert.deepEqual(quantOf(rs, 'ort-qdq'), ['QDQ']);
  assert.deepEqual(quantOf(rs, 'ort-dynamic'), ['MatMulInteger']);
  for (const r of rs.slice(1)) {
    const d = r.data as BenchmarkData;
    assert.ok(d.drift, `${r.variant.name} has drift against fp32`);
    assert.ok(d.drift.pooledCosineMin > 0.9, `${r.variant.name} pooled cosine ${d.drift.pooledCosineMin}`);
    assert.match(d.compute, /QDQ|MatMulInteger/);
  }
});

test('probe attention and divergence --variant: user files judged against fp32 under their own names', () => {
  const att = records(['probe', 'attention', tinyDir, '--variants', 'none', ...userFlags, '--text', textFile, '--no-sanity']);
  assert.deepEqual(att.map((r) => r.variant.name), ['fp32', 'ort-qdq', 'ort-dynamic']);
  assert.deepEqual(quantOf(att, 'ort-qdq'), ['QDQ']);
  for (const r of att.slice(1)) assert.equal((r.data as { survival?: { reference: string } }).survival?.reference, 'fp32');
  const div = records(['divergence', tinyDir, '--variants', 'none', ...userFlags, '--text', textFile]);
  assert.deepEqual(div.map((r) => r.variant.name), ['ort-qdq', 'ort-dynamic']);
  assert.deepEqual(quantOf(div, 'ort-dynamic'), ['MatMulInteger']);
});

test('probe properties --variant: user file compared with fp32', () => {
  const { sparse } = writeTestNorms(work);
  const rs = records(['probe', 'properties', tinyDir, '--norms', sparse, '--folds', '3', '--layers', 'static,2', '--no-cache', '--variant', `ort-qdq=${qdqPath}`]);
  assert.deepEqual(rs.map((r) => r.variant.name), ['fp32', 'ort-qdq']);
  assert.deepEqual(quantOf(rs, 'ort-qdq'), ['QDQ']);
  assert.ok((rs[1].data as { comparedToFp32?: unknown }).comparedToFp32, 'the user variant carries its comparison with fp32');
});

test('user variants: bad flags, bad names, unpaired files and a quantized source are each one coded error', () => {
  assertCliError(runCli(['bench', tinyDir, '--variant', 'noequals']), 'EP_USER_VARIANT_SYNTAX', /noequals/);
  assertCliError(runCli(['bench', tinyDir, '--variant', `int8-dynamic=${qdqPath}`]), 'EP_USER_VARIANT_NAME', /int8-dynamic/);
  assertCliError(runCli(['bench', tinyDir, '--variant', `Bad Name=${qdqPath}`]), 'EP_USER_VARIANT_NAME');
  assertCliError(runCli(['bench', tinyDir, '--variant', `a=${qdqPath}`, '--variant', `a=${mmiPath}`]), 'EP_USER_VARIANT_DUPLICATE');
  assertCliError(runCli(['bench', tinyDir, '--variant', `x=${join(work, 'missing.onnx')}`]), 'EP_ONNX_NOT_FOUND', /missing\.onnx/);
  const demo = join(ensureGeneratedModel('demo'), 'model.onnx');
  assertCliError(runCli(['probe', 'attention', tinyDir, '--variant', `other=${demo}`]), 'EP_USER_VARIANT_MISMATCH', /attention layers|hidden size/);
  // a MatMulInteger file opened as its own model directory: said to be quantized, never measured as fp32
  const own = asOwnModelDir(md, matMulIntegerModel(md));
  for (const cmd of [['bench', own], ['probe', 'attention', own], ['divergence', own], ['models', 'compress', own]]) {
    assertCliError(runCli(cmd), 'EP_MODEL_SOURCE_QUANTIZED', /already quantized \(MatMulInteger/);
  }
  const inspect = runCli(['models', 'inspect', own]);
  assert.equal(inspect.status, 0, inspect.stderr);
  assert.match(inspect.stdout, /quantization: MatMulInteger .*not an fp32 reference/);
});
