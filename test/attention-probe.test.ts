import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { renderAttention } from '../cli/commands/probe-attention.ts';
import { corpusFromFile } from '../core/corpus/sentence-corpus.ts';
import { AttentionProbeData } from '../probes/attention/record.ts';
import { runAttentionProbe } from '../probes/attention/run-attention-probe.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { ProbeRecord } from '../core/results/probe-record.ts';
import { DEMO_WORDS } from '../models/demo-vocabulary.ts';
import { GENERATED_DIR, ensureGeneratedModel } from '../models/generated-models.ts';
import { noisyVariant } from './helpers/attention-fixtures.ts';

/** Sentences of 4-12 demo-vocabulary words, so the tiny model's 32 positions are enough. */
export function demoTextFile(count: number, seed = 3): string {
  const rng = new SeededRandom(seed);
  const words = DEMO_WORDS.filter((w) => /^[a-z]+$/.test(w));
  const lines = Array.from({ length: count }, () => Array.from({ length: 4 + rng.int(9) }, () => words[rng.int(words.length)]).join(' '));
  const path = join(mkdtempSync(join(tmpdir(), 'edgeprobe-text-')), 'sentences.txt');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

test('generated model with peaked attention: records for fp32 and every variant, schema-valid, verdicts ordered by damage', async () => {
  // larger initial weights give peaked, input-dependent attention (BERT-like 0.02 gives near-uniform maps
  // that stay near-uniform when redrawn, so the randomization check would have nothing to detect)
  const md = loadModelDir(ensureGeneratedModel('demo', { dir: join(GENERATED_DIR, 'demo-peaked'), overrides: { initStd: 0.4 } }));
  const exact = { ...noisyVariant(md, 0), name: 'fp16' as const };
  const heavy = { ...noisyVariant(md, 1, 2), name: 'int8-dynamic' as const };
  const records = await runAttentionProbe(md, { corpus: corpusFromFile(demoTextFile(40), 1), variants: [exact, heavy], seed: 1 });
  assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'fp16', 'int8-dynamic']);
  for (const r of records) {
    assert.ok(Value.Check(ProbeRecord, JSON.parse(JSON.stringify(r))), `record ${r.variant.name} fails ProbeRecord: ${[...Value.Errors(ProbeRecord, r)].map((e) => `${e.path} ${e.message}`).join('; ')}`);
    assert.ok(Value.Check(AttentionProbeData, JSON.parse(JSON.stringify(r.data))), `${r.variant.name} data: ${[...Value.Errors(AttentionProbeData, JSON.parse(JSON.stringify(r.data)))].slice(0, 3).map((e) => `${e.path} ${e.message}`).join('; ')}`);
    assert.ok(['survives', 'survives-invalid-reference', 'degrades', 'fails'].includes(r.verdict.status));
  }
  const d = records[0].data as AttentionProbeData;
  assert.equal(d.identifiability.nearest[0], 1, 'embedding layer identifies every token');
  assert.ok(d.structure.some((l) => l.entropyRatio < 0.9), 'the planted model has structured attention');
  assert.equal(d.sanity!.randomization.length, d.layers);
  assert.ok(d.sanity!.randomization.every((s) => s.attentionChanged), 'randomizing weights changes the attention maps');
  assert.equal(d.sanity!.shuffled.layers.length, d.layers);
  // an exact copy survives with zero divergence; heavy weight noise is judged worse
  const copy = records[1].data as AttentionProbeData;
  // surviving compression counts as keeping the explanation only when fp32's own explanation is valid
  assert.equal(records[1].verdict.status, d.tokenRelation.sanityPassed === false ? 'survives-invalid-reference' : 'survives');
  assert.equal(copy.survival!.referenceValidity!.valid, d.tokenRelation.sanityPassed);
  assert.ok(copy.survival!.layers.every((l) => l.maxJs < 1e-9 && l.minTopKOverlap === 1));
  assert.equal(records[2].verdict.status, 'fails');
  assert.ok((records[2].verdict.layers ?? []).length > 0);
  const text = renderAttention(records);
  assert.match(text, /fp16\s+survives/);
  assert.match(text, /int8-dynamic\s+fails/);
  assert.match(text, /randomized layers/);
});
