import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { coded } from './helpers/coded-errors.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { conceptEmbeddings } from '../probes/properties/concept-embeddings.ts';
import { loadBinder, loadBuchanan, loadGenericNorms, loadRawNorms, mcraeWord } from '../probes/properties/norm-loaders.ts';
import { buildNormSet } from '../probes/properties/norm-set.ts';
import { SHARED_NORMS, needsShared } from '../harness/shared-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-norms-'));
const write = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p; };
const prep = { minConceptsPerFeature: 1, minValue: 0, binarizeForPlsr: true };
const collect = (): { warn: (m: string) => void; messages: string[] } => { const messages: string[] = []; return { warn: (m) => messages.push(m), messages }; };

test('a norm file with missing columns is a coded error naming them', () => {
  const p = write('missing.csv', 'concept,feature\ncat,has_fur\n');
  assert.throws(() => loadGenericNorms(p), coded('EP_NORMS_COLUMNS_MISSING', { file: p, columns: "column 'value'" }));
  assert.throws(() => loadRawNorms(join(dir, 'nope.csv'), { warn: () => {} }), coded('EP_NORMS_SPEC_UNKNOWN', { spec: join(dir, 'nope.csv'), named: 'mcrae, buchanan, binder' }));
});

test('NaN values and duplicate rows are warned about by line and skipped', () => {
  const p = write('bad.tsv', 'concept\tfeature\tvalue\ncat\thas_fur\t1\ncat\thas_tail\tNaN\ndog\thas_fur\t\ncat\thas_fur\t0.5\ndog\tbarks\t1\n');
  const { warn, messages } = collect();
  const set = buildNormSet(loadGenericNorms(p), prep, warn);
  assert.ok(messages.some((m) => /2 row\(s\) with a missing or non-numeric value skipped \(lines 3, 4\)/.test(m)), messages.join('\n'));
  assert.ok(messages.some((m) => /1 duplicate concept-feature row\(s\) skipped, the first occurrence kept \(lines 5\)/.test(m)), messages.join('\n'));
  // the first cat/has_fur (1) is kept, not the duplicate (0.5)
  assert.equal(set.values[set.concepts.indexOf('cat') * set.features.length + set.features.indexOf('has_fur')], 1);
});

test('a feature set empty after the thresholds is a coded error naming them', () => {
  const p = write('sparse.csv', 'concept,feature,value\ncat,a,1\ndog,b,1\nfox,c,1\n');
  assert.throws(() => buildNormSet(loadGenericNorms(p), { ...prep, minConceptsPerFeature: 2 }, () => {}),
    coded('EP_NORMS_NO_FEATURES_LEFT', { name: /sparse/, minConcepts: 2 }));
});

test('concepts whose word has pieces outside the vocabulary are reported as missing', async () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const emb = await conceptEmbeddings(md, ['cat', 'dog', 'µ-meson', 'cat'], { templates: ['{word}', 'a {word} is here.'], variant: 'fp32', cache: null });
  assert.deepEqual(emb.coverage.missing, ['µ-meson']);
  assert.equal(emb.coverage.covered, 2);
  assert.ok(emb.vectors.get('L1')!.has('dog') && !emb.vectors.get('L1')!.has('µ-meson'));
  await assert.rejects(conceptEmbeddings(md, ['cat'], { templates: ['no slot'], variant: 'fp32', cache: null }), coded('EP_TEMPLATE_NO_WORD_SLOT'));
});

test('Buchanan: final rows replace the top rows they correct; values are frequency / n; TRUE/FALSE cues lower-cased', () => {
  const b = join(dir, 'buchanan');
  mkdirSync(b, { recursive: true });
  const top = write('buchanan/top to final.csv', [
    'where,cue,feature,translated,frequency_feature,',
    'top,advice,opinion,opinion,26,', 'top,advice,openion,opinion,1,', 'top,advice,give,give,5,', 'top,advice,given,give,4,',
    'top,TRUE,real,real,10,', 'final,advice,opinion,opinion,27,spelling error fixed', '',
  ].join('\n'));
  const n = write('buchanan/n values.csv', 'cue_word,subject list\nadvice,60\nTRUE,30\n');
  const raw = loadBuchanan(top, n, () => {});
  const v = new Map(raw.entries.map((e) => [`${e.concept}/${e.feature}`, e.value]));
  assert.equal(v.get('advice/opinion'), 27 / 60); // not 26 + 1 + 27
  assert.equal(v.get('advice/give'), 9 / 60);
  assert.equal(v.get('true/real'), 10 / 30);
});

test('Binder: na -> 0, used rated twice kept apart, categories from Super Category; McRae senses map to words', () => {
  const attrs = ['Vision', 'Bright', 'Dark', 'Color', 'Pattern', 'Large', 'Small', 'Motion', 'Biomotion', 'Fast', 'Slow', 'Shape', 'Complexity', 'Face', 'Body', 'Touch', 'Temperature', 'Texture', 'Weight', 'Pain', 'Audition', 'Loud', 'Low', 'High', 'Sound', 'Music', 'Speech', 'Taste', 'Smell', 'Head', 'UpperLimb', 'LowerLimb', 'Practice', 'Landmark', 'Path', 'Scene', 'Near', 'Toward', 'Away', 'Number', 'Time', 'Duration', 'Long', 'Short', 'Caused', 'Consequential', 'Social', 'Human', 'Communication', 'Self', 'Cognition', 'Benefit', 'Harm', 'Pleasant', 'Unpleasant', 'Happy', 'Sad', 'Angry', 'Disgusted', 'Fearful', 'Surprised', 'Drive', 'Needs', 'Attention', 'Arousal'];
  const row = (no: number, word: string, wc: number, cat: string, na = false): string => [no, word, wc, ...attrs.map((a, i) => (na && a === 'Complexity' ? 'na' : String((i % 6) + 0.5))), cat].join(',');
  const p = write('binder.csv', [['No', 'Word', 'WC', ...attrs, 'Super Category'].join(','), row(27, 'used', 3, 'property', true), row(231, 'used', 2, 'action', true), row(1, 'listened (to)', 2, 'action')].join('\n'));
  const { warn, messages } = collect();
  const raw = loadBinder(p, warn);
  assert.ok(messages.some((m) => /used rated more than once/.test(m)));
  const set = buildNormSet(raw, { ...prep, binarizeForPlsr: false }, () => {});
  assert.deepEqual(set.concepts, ['listened (to)', 'used (adjective)', 'used (verb)']);
  assert.deepEqual(set.words, ['listened', 'used', 'used']);
  assert.deepEqual(set.categories, ['action', 'property', 'action']);
  assert.equal(set.values[1 * set.features.length + set.features.indexOf('Complexity')], 0);
  assert.equal(mcraeWord('bat_(animal)'), 'bat');
  assert.equal(mcraeWord('baby_chick'), 'baby chick');
});

test('the three shared norm sets load with the documented counts', { skip: needsShared }, () => {
  const opts = { normsDir: SHARED_NORMS, warn: () => {} };
  const mcrae = buildNormSet(loadRawNorms('mcrae', opts), prep, () => {});
  assert.equal(mcrae.concepts.length, 541);
  assert.equal(mcrae.features.length, 2526);
  const binder = buildNormSet(loadRawNorms('binder', opts), { ...prep, binarizeForPlsr: false }, () => {});
  assert.equal(binder.concepts.length, 535);
  assert.equal(binder.features.length, 65);
  const buchanan = buildNormSet(loadRawNorms('buchanan', opts), prep, () => {});
  assert.equal(buchanan.concepts.length, 3722);
  assert.ok(buchanan.features.length > 3400 && buchanan.features.length <= 3498, `${buchanan.features.length}`);
});
