import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { runCli } from './helpers/run-cli.ts';

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

test('missing ONNX file', () => {
  const dir = modelCopy('no-onnx', ['model.onnx']);
  assertCliError(runCli(['models', 'inspect', dir]), 'EP_MODEL_NO_ONNX', /no-onnx/);
  assertCliError(runCli(['models', 'inspect', join(dir, 'model.onnx')]), 'EP_MODEL_PATH_MISSING', /no-onnx\/model\.onnx/);
});

test('truncated ONNX file (first half of a generated model)', () => {
  const dir = modelCopy('truncated');
  const bytes = readFileSync(join(tiny, 'model.onnx'));
  writeFileSync(join(dir, 'model.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  assertCliError(runCli(['models', 'compress', dir, '--variants', 'fp16', '--out', join(tmp, 'out-trunc')]), 'EP_ONNX_UNREADABLE', /truncated\/model\.onnx/);
});

test('a file that is not ONNX', () => {
  const dir = modelCopy('not-onnx');
  writeFileSync(join(dir, 'model.onnx'), 'this is a README, not a model\n'.repeat(20));
  assertCliError(runCli(['bench', dir, '--min-queries', '1']), 'EP_ONNX_UNREADABLE', /not-onnx\/model\.onnx/);
});

test('missing tokenizer files', () => {
  const dir = modelCopy('no-tokenizer', ['vocab.txt', 'tokenizer.json']);
  assertCliError(runCli(['models', 'inspect', dir]), 'EP_TOKENIZER_MISSING', /no-tokenizer/);
});

test('a vocabulary that does not match the model embedding table', () => {
  const dir = modelCopy('big-vocab', ['tokenizer.json']);
  const vocab = readFileSync(join(tiny, 'vocab.txt'), 'utf8').trimEnd().split('\n');
  writeFileSync(join(dir, 'vocab.txt'), `${[...vocab, ...Array.from({ length: 500 }, (_, i) => `extra${i}`)].join('\n')}\n`);
  assertCliError(runCli(['models', 'inspect', dir]), 'EP_MODEL_TOKENIZER_MISMATCH', /big-vocab has \d+ tokens .* has \d+ rows/);
});

test('empty text', () => {
  assertCliError(runCli(['models', 'encode', tiny, '--text', '   ']), 'EP_TEXT_FLAG_EMPTY');
});

test('text longer than the model positions is truncated and says so', () => {
  const run = runCli(['models', 'encode', tiny, '--text', 'the cat sat on the mat '.repeat(20)]);
  assert.equal(run.status, 0, run.stderr);
  // tiny has 32 positions; 20 x 6 words + [CLS] + [SEP] = 122 tokens
  assert.match(run.stderr, /has 122 tokens but tiny takes at most 32; it was truncated to the first 32/);
  assert.equal(run.stdout.trim().split('\n')[1].split(' ').length, 32);
});

test('unknown variant name', () => {
  assertCliError(runCli(['models', 'compress', tiny, '--variants', 'fp16,int4']), 'EP_VARIANT_UNKNOWN', /"int4" in --variants[\s\S]*fp32, fp16, int8-dynamic, int8-weight/);
  assertCliError(runCli(['bench', tiny, '--variants', 'q4']), 'EP_VARIANT_UNKNOWN', /"q4"/);
});

test('bad benchmark flags', () => {
  assertCliError(runCli(['bench', tiny, '--batch', '0']), 'EP_FLAG_OUT_OF_RANGE', /--batch must be a number >= 1/);
});

test('an unknown flag or a missing command is a usage error with the same error/fix shape', () => {
  assertCliError(runCli(['models', 'inspect', tiny, '--bogus', '1']), 'EP_CLI_USAGE', /Unknown argument: bogus/);
  assertCliError(runCli([]), 'EP_CLI_USAGE', /name a command/);
});
