import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTextEncoder } from '../core/tokenizer/text-encoder.ts';
import { SHARED_MODEL, needsShared } from '../harness/shared-data.ts';

interface Reference { text: string; input_ids: number[] }

test('tokenizer.json ids match the reference outputs of the shared model', { skip: needsShared }, () => {
  const enc = loadTextEncoder(SHARED_MODEL, 128);
  const refs = JSON.parse(readFileSync(join(SHARED_MODEL, 'reference_outputs.json'), 'utf8')) as Reference[];
  for (const r of refs) assert.deepEqual(enc.encode(r.text).ids, r.input_ids, r.text);
});

test('ids agree with the line numbers of vocab.txt (id = line - 1)', { skip: needsShared }, () => {
  const vocab = readFileSync(join(SHARED_MODEL, 'vocab.txt'), 'utf8').split('\n');
  const enc = loadTextEncoder(SHARED_MODEL, 128);
  // "the" is on line 1997 of bert-base-uncased's vocab.txt, so its id is 1996; [CLS] 101, [SEP] 102
  assert.equal(vocab[1996], 'the');
  const e = enc.encode('the cat');
  assert.deepEqual(e.tokens, ['[CLS]', 'the', 'cat', '[SEP]']);
  assert.deepEqual(e.ids, [101, 1996, vocab.indexOf('cat'), 102]);
  // a word split into pieces: every piece id is the line of that piece in vocab.txt
  const p = enc.pieces('carnivore');
  assert.ok(p.tokens.length > 1);
  p.tokens.forEach((t, i) => assert.equal(p.ids[i], vocab.indexOf(t), t));
});

test('a directory with only vocab.txt tokenizes like tokenizer.json', { skip: needsShared }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-vocab-'));
  copyFileSync(join(SHARED_MODEL, 'vocab.txt'), join(dir, 'vocab.txt'));
  const fromVocab = loadTextEncoder(dir, 128);
  const fromJson = loadTextEncoder(SHARED_MODEL, 128);
  assert.equal(fromVocab.source, 'vocab.txt');
  for (const text of ['Edge devices run quantized models!', 'naïve café résumé', 'a dog is a domesticated carnivore.']) {
    assert.deepEqual(fromVocab.encode(text).ids, fromJson.encode(text).ids, text);
  }
});

test('text longer than the model positions is truncated and says so', { skip: needsShared }, () => {
  const enc = loadTextEncoder(SHARED_MODEL, 128);
  const long = Array.from({ length: 300 }, () => 'word').join(' ');
  const e = enc.encode(long);
  assert.equal(e.truncated, true);
  assert.equal(e.ids.length, 128);
  assert.equal(e.fullLength, 302);
  assert.equal(e.ids[127], 102);
});

test('empty text and missing tokenizer files give user errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-empty-'));
  assert.throws(() => loadTextEncoder(dir, 128), { name: 'EdgeprobeError', code: 'EP_TOKENIZER_MISSING', params: { dir } });
  writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello'].join('\n'));
  const enc = loadTextEncoder(dir, 16);
  assert.throws(() => enc.encode('   '), { name: 'EdgeprobeError', code: 'EP_ENCODE_TEXT_EMPTY' });
  assert.deepEqual(enc.encode('hello').ids, [2, 4, 3]);
});
