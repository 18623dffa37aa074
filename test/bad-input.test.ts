import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { runCli, type CliRun } from './helpers/run-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-bad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const tiny = ensureGeneratedModel('tiny');

/** A copy of the tiny model dir with some files left out, to break one thing at a time. */
function modelCopy(name: string, skip: string[] = []): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.onnx', 'vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) if (!skip.includes(f)) copyFileSync(join(tiny, f), join(dir, f));
  return dir;
}

/** Non-zero exit, the message names what is wrong and says how to fix it, and no stack trace. */
function assertUserError(run: CliRun, names: RegExp): void {
  assert.notEqual(run.status, 0, `expected failure, got exit 0: ${run.stdout}`);
  assert.match(run.stderr, /^error: /m);
  assert.match(run.stderr, names, run.stderr);
  assert.match(run.stderr, /^fix: /m, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+/, `stack trace in: ${run.stderr}`);
}

test('missing ONNX file', () => {
  const dir = modelCopy('no-onnx', ['model.onnx']);
  assertUserError(runCli(['models', 'inspect', dir]), /no ONNX model in .*no-onnx/);
  assertUserError(runCli(['models', 'inspect', join(dir, 'model.onnx')]), /model path not found: .*model\.onnx/);
});

test('truncated ONNX file (first half of a generated model)', () => {
  const dir = modelCopy('truncated');
  const bytes = readFileSync(join(tiny, 'model.onnx'));
  writeFileSync(join(dir, 'model.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  assertUserError(runCli(['models', 'compress', dir, '--variants', 'fp16', '--out', join(tmp, 'out-trunc')]), /truncated\/model\.onnx is not a readable ONNX model/);
});

test('a file that is not ONNX', () => {
  const dir = modelCopy('not-onnx');
  writeFileSync(join(dir, 'model.onnx'), 'this is a README, not a model\n'.repeat(20));
  assertUserError(runCli(['bench', dir, '--min-queries', '1']), /not-onnx\/model\.onnx is not (a readable ONNX|an ONNX) model/);
});

test('missing tokenizer files', () => {
  const dir = modelCopy('no-tokenizer', ['vocab.txt', 'tokenizer.json']);
  assertUserError(runCli(['models', 'inspect', dir]), /no tokenizer in .*no-tokenizer/);
});

test('a vocabulary that does not match the model embedding table', () => {
  const dir = modelCopy('big-vocab', ['tokenizer.json']);
  const vocab = readFileSync(join(tiny, 'vocab.txt'), 'utf8').trimEnd().split('\n');
  writeFileSync(join(dir, 'vocab.txt'), `${[...vocab, ...Array.from({ length: 500 }, (_, i) => `extra${i}`)].join('\n')}\n`);
  assertUserError(runCli(['models', 'inspect', dir]), /tokenizer in .*big-vocab has \d+ tokens but the model's embedding table .* has \d+ rows/);
});

test('empty text', () => {
  assertUserError(runCli(['models', 'encode', tiny, '--text', '   ']), /--text is empty/);
});

test('text longer than the model positions is truncated and says so', () => {
  const run = runCli(['models', 'encode', tiny, '--text', 'the cat sat on the mat '.repeat(20)]);
  assert.equal(run.status, 0, run.stderr);
  // tiny has 32 positions; 20 x 6 words + [CLS] + [SEP] = 122 tokens
  assert.match(run.stderr, /has 122 tokens but tiny takes at most 32; it was truncated to the first 32/);
  assert.equal(run.stdout.trim().split('\n')[1].split(' ').length, 32);
});

test('unknown variant name', () => {
  assertUserError(runCli(['models', 'compress', tiny, '--variants', 'fp16,int4']), /unknown variant "int4" in --variants[\s\S]*fp32, fp16, int8-dynamic, int8-weight/);
  assertUserError(runCli(['bench', tiny, '--variants', 'q4']), /unknown variant "q4"/);
});

test('bad benchmark flags', () => {
  assertUserError(runCli(['bench', tiny, '--batch', '0']), /--batch must be a number >= 1/);
});
