import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { builtInCorpus, corpusFromFile, encodeCorpus } from '../core/corpus/sentence-corpus.ts';
import { AttentionProbeData } from '../probes/attention/record.ts';
import { loadAttentionThresholds } from '../probes/attention/thresholds.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { cloneForEdit } from '../core/onnx/proto.ts';
import { ProbeRecord } from '../core/results/probe-record.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { modelDirWith } from './helpers/attention-fixtures.ts';
import { assertCliError, coded } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { SHARED_MODEL, HAVE_SHARED } from '../harness/shared-data.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'edgeprobe-attn-cli-'));
const textFile = (content: string): string => {
  const p = join(tmp(), 'text.txt');
  writeFileSync(p, content);
  return p;
};
const TINY = ensureGeneratedModel('tiny');

test('built-in corpus: >= 200 sentences, seeded order, 5-60 tokens each', () => {
  const a = builtInCorpus(1);
  assert.ok(a.sentences.length >= 200);
  assert.deepEqual(builtInCorpus(1).sentences, a.sentences);
  assert.notDeepEqual(builtInCorpus(2).sentences, a.sentences);
  assert.equal(new Set(a.sentences).size, a.sentences.length, 'no duplicates');
  if (HAVE_SHARED) {
    const lengths = encodeCorpus(a, loadModelDir(SHARED_MODEL).tokenizer).map((s) => s.ids.length);
    assert.ok(Math.min(...lengths) >= 5 && Math.max(...lengths) <= 60, `lengths ${Math.min(...lengths)}..${Math.max(...lengths)}`);
    assert.ok(lengths.filter((n) => n >= 40).length >= 10, 'long sentences are represented');
  }
});

test('bad text input: empty file, blank lines only, missing file, too-long sentence are coded errors', () => {
  assert.throws(() => corpusFromFile(textFile(''), 1), coded('EP_TEXT_FILE_EMPTY'));
  assert.throws(() => corpusFromFile(textFile('\n  \n\n'), 1), coded('EP_TEXT_FILE_EMPTY'));
  assert.throws(() => corpusFromFile(join(tmp(), 'missing.txt'), 1), coded('EP_TEXT_FILE_MISSING'));
  const md = loadModelDir(TINY); // 32 positions
  const long = Array.from({ length: 40 }, () => 'water').join(' ');
  assert.throws(() => encodeCorpus(corpusFromFile(textFile(`the cat sat\n${long}\n`), 1), md.tokenizer), coded('EP_SENTENCES_TOO_LONG', { count: 1, positions: 32, examples: /\(42 tokens\)/ }));
});

test('CLI: empty text file, long sentence, model without attention Softmax, unknown variant: clear errors, exit 2', () => {
  const empty = runCli(['probe', 'attention', TINY, '--variants', 'none', '--text', textFile('')]);
  assertCliError(empty, 'EP_TEXT_FILE_EMPTY', /text\.txt/);

  const long = runCli(['probe', 'attention', TINY, '--variants', 'none', '--text', textFile(`${Array.from({ length: 40 }, () => 'water').join(' ')}\nthe sun\n`)]);
  assertCliError(long, 'EP_SENTENCES_TOO_LONG', /the model's 32 positions/);

  const md = loadModelDir(TINY);
  const noSoftmax = cloneForEdit(md.model.proto);
  noSoftmax.graph.node = noSoftmax.graph.node.map((n) => (n.opType === 'Softmax' ? { ...n, opType: 'Sigmoid' } as typeof n : n));
  const bad = runCli(['probe', 'attention', modelDirWith(noSoftmax), '--variants', 'none']);
  assertCliError(bad, 'EP_MODEL_NO_SOFTMAX');

  const unknown = runCli(['probe', 'attention', TINY, '--variants', 'fp8']);
  assertCliError(unknown, 'EP_VARIANT_UNKNOWN', /"fp8"/);
});

test('thresholds file is validated on load', () => {
  const dir = tmp();
  const good = loadAttentionThresholds();
  const write = (obj: unknown): string => { const p = join(dir, `${Math.random()}.json`); writeFileSync(p, JSON.stringify(obj)); return p; };
  assert.throws(() => loadAttentionThresholds(write({ ...good, identifiability: { supportedAt: 2 } })), coded('EP_ATTENTION_THRESHOLDS_FIELD', { field: /identifiability\/supportedAt/ }));
  assert.throws(() => loadAttentionThresholds(write({ ...good, survival: { ...good.survival, survives: { ...good.survival.survives, maxJs: 0.5 } } })), coded('EP_ATTENTION_THRESHOLDS_ORDER'));
  const notJson = join(dir, 'x.json');
  writeFileSync(notJson, '{');
  assert.throws(() => loadAttentionThresholds(notJson), coded('EP_ATTENTION_THRESHOLDS_SYNTAX', { file: notJson }));
});

test('CLI --json on a user text file: progress lines, then records valid against the schemas', () => {
  const lines = ['the cat sat on the mat', 'a dog ran in the park', 'water is cold', 'the sun is hot today', 'she reads a book', 'birds fly over the river'];
  const run = runCli(['--json', 'probe', 'attention', TINY, '--variants', 'none', '--text', textFile(lines.join('\n'))]);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.split('\n').some((l) => l.includes('"type":"progress"')));
  const records = jsonResult<ProbeRecord[]>(run);
  assert.equal(records.length, 1);
  assert.ok(Value.Check(ProbeRecord, records[0]));
  assert.ok(Value.Check(AttentionProbeData, records[0].data));
  const d = records[0].data as AttentionProbeData;
  assert.equal(d.corpus.source, 'file');
  assert.equal(d.corpus.sentences, lines.length);
  const human = runCli(['probe', 'attention', TINY, '--variants', 'none', '--no-sanity', '--text', textFile(lines.join('\n'))]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /ident \(NN\)/);
  assert.match(human.stdout, /fp32 verdict: /);
});
