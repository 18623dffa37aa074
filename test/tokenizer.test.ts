import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTextEncoder } from '../core/tokenizer/text-encoder.ts';
import { SHARED_MODEL, needsShared } from '../harness/shared-data.ts';
import { coded } from './helpers/coded-errors.ts';

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

/**
 * A Llama-style (SentencePiece converted to BPE) tokenizer.json: <unk> <s> </s> at 0..2, the 256 byte-fallback
 * pieces <0x00>..<0xFF> at 3..258, then ▁ t h e c a (259..264) and the merges' results ▁t he ▁the ▁c at ▁cat
 * (265..270). Merges in the newer pair-array form.
 */
function llamaStyleTokenizer(dir: string, config?: Record<string, unknown>): void {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const t of ['▁', 't', 'h', 'e', 'c', 'a', '▁t', 'he', '▁the', '▁c', 'at', '▁cat']) vocab[t] = Object.keys(vocab).length;
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: ['<unk>', '<s>', '</s>'].map(special),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: null,
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab,
      merges: [['▁', 't'], ['h', 'e'], ['▁t', 'he'], ['▁', 'c'], ['a', 't'], ['▁c', 'at']],
    },
  }));
  if (config) writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
}

test('a Llama-style BPE tokenizer.json (byte fallback, no [CLS]/[SEP]/[PAD]) loads: <s> begins, </s> ends and pads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-llama-tok-'));
  llamaStyleTokenizer(dir);
  const enc = loadTextEncoder(dir, 8);
  assert.deepEqual([enc.clsId, enc.sepId, enc.padId], [1, 2, 2]);
  // "the cat" -> "▁the▁cat"; ▁+t -> ▁t, h+e -> he, ▁t+he -> ▁the; ▁+c -> ▁c, a+t -> at, ▁c+at -> ▁cat; <s> prepended
  assert.deepEqual(enc.encode('the cat').ids, [1, 267, 270]);
  // "tac": ▁+t -> ▁t, then a, c have no merge: [<s>, ▁t 265, a 264, c 263]
  assert.deepEqual(enc.encode('tac').ids, [1, 265, 264, 263]);
  // "é" is not in the vocabulary: its UTF-8 bytes C3 A9 fall back to <0xC3> = 3 + 195 = 198 and <0xA9> = 3 + 169 = 172
  assert.deepEqual(enc.encode('the é').ids, [1, 267, 259, 198, 172]);
  // longer than 8 positions: cut, no end token appended
  const long = enc.encode('the cat the cat the cat the cat');
  assert.deepEqual([long.truncated, long.ids.length, long.fullLength, long.ids[7]], [true, 8, 9, 267]);
});

test('a BPE tokenizer takes bos/eos/pad from tokenizer_config.json; one with none of them is refused naming the part', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ep-llama-cfg-'));
  // an odd but legal choice: the config says </s> begins and <unk> pads
  llamaStyleTokenizer(dir, { bos_token: { content: '</s>' }, eos_token: '</s>', pad_token: '<unk>' });
  const enc = loadTextEncoder(dir, 8);
  assert.deepEqual([enc.clsId, enc.sepId, enc.padId], [2, 2, 0]);
  const bare = mkdtempSync(join(tmpdir(), 'ep-bpe-bare-'));
  writeFileSync(join(bare, 'tokenizer.json'), JSON.stringify({ version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] } }));
  assert.throws(() => loadTextEncoder(bare, 8), coded('EP_TOKENIZER_SPECIAL_TOKEN_MISSING', { dir: bare, token: /^begin-of-text token \(BPE model; looked for <s>, / }));
});
