import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import type { AttentionProbeData } from '../probes/attention/record.ts';
import { runAttentionProbe } from '../probes/attention/run-attention-probe.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { noisyVariant } from './helpers/attention-fixtures.ts';
import { PROJECT_ROOT, SHARED_MODEL, needsShared } from '../harness/shared-data.ts';

const HAVE_COMPRESSION = existsSync(join(PROJECT_ROOT, 'agent', 'compress', 'ensure-variants.ts'));

test('shared model: embedding-layer identifiability 1.0, randomization changes the explanation, variants get verdicts', { skip: needsShared }, async () => {
  const md = loadModelDir(SHARED_MODEL);
  const exact = { ...noisyVariant(md, 0), name: 'fp16' as const };
  const noisy = noisyVariant(md, 0.05, 3);
  const records = await runAttentionProbe(md, { corpus: builtInCorpus(1, 60), variants: [exact, noisy], seed: 1 });
  const d = records[0].data as AttentionProbeData;
  assert.equal(d.layers, 6);
  assert.equal(d.identifiability.nearest[0], 1);
  assert.equal(d.identifiability.learned[0], 1);
  // every cascade step moves the raw attention maps of the randomized layers
  for (const s of d.sanity!.randomization) assert.ok(s.attentionChanged, `attention JS ${s.attentionJs} when layers ${s.randomizedFrom}-6 are randomized`);
  // with every layer randomized the rollout ranking is gone too
  const all = d.sanity!.randomization.find((s) => s.randomizedFrom === 1)!;
  assert.ok(all.rolloutChanged && (all.rolloutSpearman ?? 0) < 0.9, `rollout Spearman ${all.rolloutSpearman}`);
  // the shared model's fp32 rollout fails its randomization check: an exact copy 'survives' against an invalid explanation
  assert.equal(records[1].verdict.status, d.tokenRelation.sanityPassed === false ? 'survives-invalid-reference' : 'survives');
  if (d.tokenRelation.sanityPassed === false) assert.match(records[1].verdict.summary, /but the fp32 explanation fails/);
  assert.ok(['survives', 'survives-invalid-reference', 'degrades', 'fails'].includes(records[2].verdict.status));
  // 5% weight noise must register as some change against the exact copy
  const noisyMax = Math.max(...(records[2].data as AttentionProbeData).survival!.layers.map((l) => l.maxJs));
  assert.ok(noisyMax > 1e-4, `noisy variant JS ${noisyMax}`);
});

test('shared model: every real compressed variant gets a verdict', { skip: needsShared || (!HAVE_COMPRESSION && 'agent/compress/ensure-variants.ts is not merged yet') }, async () => {
  const md = loadModelDir(SHARED_MODEL);
  const variants = await ensureVariants(md, ['fp16', 'int8-dynamic', 'int8-weight']);
  const records = await runAttentionProbe(md, { corpus: builtInCorpus(1, 40), variants, seed: 1, sanityChecks: false });
  assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'fp16', 'int8-dynamic', 'int8-weight']);
  for (const r of records.slice(1)) assert.ok(['survives', 'survives-invalid-reference', 'degrades', 'fails'].includes(r.verdict.status), `${r.variant.name}: ${r.verdict.status}`);
});
