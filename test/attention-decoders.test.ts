import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadUserVariant } from '../agent/compress/user-variants.ts';
import { renderAttention } from '../cli/commands/probe-attention.ts';
import { fittingCorpus, encodeCorpus } from '../core/corpus/sentence-corpus.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { cloneForEdit } from '../core/onnx/proto.ts';
import { dimsOf, floatTensor } from '../core/onnx/tensor-data.ts';
import { ProbeRecord } from '../core/results/probe-record.ts';
import type { UserVariantName } from '../core/variants/variant-types.ts';
import { ensureGeneratedDecoder } from '../models/generated-decoders.ts';
import type { Activations } from '../probes/attention/activations.ts';
import { collectActivations } from '../probes/attention/activations.ts';
import { attentionBaseline, uniformCausalAttention, uniformSelfContribution } from '../probes/attention/causal-rows.ts';
import { cascadingRandomization } from '../probes/attention/randomization.ts';
import { AttentionProbeData } from '../probes/attention/record.ts';
import { mixingCurve } from '../probes/attention/rollout.ts';
import { runAttentionProbe } from '../probes/attention/run-attention-probe.ts';
import { attentionStructure } from '../probes/attention/structure.ts';
import { compareActivations } from '../probes/attention/survival.ts';
import { loadAttentionThresholds } from '../probes/attention/thresholds.ts';
import { looksStructured, structuredHeads } from '../probes/attention/structured-heads.ts';
import { tokenRelationVerdict } from '../probes/attention/verdicts.ts';
import { zeroQuery } from './helpers/decoder-edits.ts';
import { runProbe } from './helpers/run-probe.ts';
import { attentionContract } from '../probes/attention/contract.ts';
import type { AttentionView } from '../probes/attention/schema.ts';
import type { JobPlan } from '../core/protocol/plan.ts';

const t = loadAttentionThresholds();

/** Previous-token attention [n, n]: row i puts all weight on i - 1 (row 0 on itself). */
function previousToken(n: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + Math.max(0, i - 1)] = 1;
  return a;
}

/** One-layer, one-head causal activations over sentences of the given lengths, the map built per length. */
function causalActs(lengths: number[], map: (n: number) => Float32Array): Activations {
  return { layers: 1, heads: 1, hiddenSize: 1, causal: true, gate: { ok: true, reasons: [] }, sentences: lengths.map((n) => ({ n, hidden: [], attention: [map(n)] })) };
}

describe('attention probe on decoders: causal-uniform baseline, residual stream, decoder randomization', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-attention-decoders-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  test('closed forms: uniform causal attention gives the baseline values exactly and is not "structured"; a previous-token head is', () => {
    // lengths 3 and 6: the ln(n) encoder metric would give ln(3!)/(3 ln 3) = 0.544 and ln(6!)/(6 ln 6) = 0.613 here
    const uniform = causalActs([3, 6], uniformCausalAttention);
    const [s] = attentionStructure(uniform, t.structure.dominantWeight);
    assert.ok(Math.abs(s.entropyRatio - 1) < 1e-6, String(s.entropyRatio));
    // row 1 of a causal map (two positions, 0.5 each) reaches the dominant weight 0.5 by the mask alone: not counted
    assert.equal(s.dominantShare, 0);
    assert.equal(looksStructured(s, t), false);
    assert.deepEqual(structuredHeads([s], t), []);
    const base = attentionBaseline(uniform);
    assert.equal(base.kind, 'causal-uniform');
    assert.deepEqual([base.entropyRatio, base.dominantShare], [1, 0]);
    // rollout of uniform causal attention: row i's diagonal is (i+2)/(2i+2) per layer; n = 3, rows 1..2: (3/4 + 4/6) / 2
    assert.ok(Math.abs(uniformSelfContribution(3, 1, true) - (0.75 + 4 / 6) / 2) < 1e-12);
    const mixing = mixingCurve(uniform);
    assert.ok(Math.abs(mixing.selfContribution[1] - base.selfContribution[1]) < 1e-6, `${mixing.selfContribution[1]} vs ${base.selfContribution[1]}`);
    // identity gone (identifiability 0) and uniform attention: no layer is called structured
    const v = tokenRelationVerdict([1, 0], [s], undefined, undefined, t, mixing, base);
    assert.deepEqual(v.structuredButUnidentifiable, []);
    assert.doesNotMatch(v.summary, /structured but/);
    assert.match(v.summary, /causal-uniform attention/);

    const prev = causalActs([3, 6], previousToken);
    const [p] = attentionStructure(prev, t.structure.dominantWeight);
    assert.ok(p.entropyRatio < 1e-9 && p.dominantShare === 1, JSON.stringify(p));
    assert.equal(looksStructured(p, t), true);
    assert.match(tokenRelationVerdict([1, 0], [p], undefined, undefined, t, mixingCurve(prev), attentionBaseline(prev)).summary, /layers 1 look structured but token identity is gone/);
  });

  test('rollout ranks causal prefixes against causal-uniform rollout; the [CLS]-row reading keeps Spearman 1 whatever the maps', () => {
    const uniform = causalActs([8, 8], uniformCausalAttention);
    const prev = causalActs([8, 8], previousToken);
    const self = causalActs([8, 8], (n) => { const a = new Float32Array(n * n); for (let i = 0; i < n; i++) a[i * n + i] = 1; return a; });
    const [c] = compareActivations(self, prev, t.survival.topK);
    // read as an encoder, row 0 is [1, 0, ...] in both: the "Spearman exactly 1 at every step"
    const [asEncoder] = compareActivations({ ...self, causal: false }, { ...prev, causal: false }, t.survival.topK);
    assert.ok(Math.abs(asEncoder.rolloutSpearman - 1) < 1e-12, String(asEncoder.rolloutSpearman));
    assert.ok(c.rolloutSpearman < t.randomization.maxRolloutSpearman, String(c.rolloutSpearman));
    // the same maps against themselves: JS 0, top-k 1; uniform against uniform has no ranking at all (every ratio 1)
    const [same] = compareActivations(prev, prev, t.survival.topK);
    assert.deepEqual([same.jsPerHead[0], same.topKPerHead[0]], [0, 1]);
    assert.ok(Math.abs(same.rolloutSpearman - 1) < 1e-12);
    assert.ok(Number.isNaN(compareActivations(uniform, uniform, t.survival.topK)[0].rolloutSpearman));
  });

  test('GPT-2 shape with planted heads: probe on fp32, int8-dynamic, int4-weight and a user file; structure, randomization and survival', async () => {
    // the planted construction at hidden 64 (head width 16: 8 position frequencies, no alias below 18 positions)
    const md = loadModelDir(ensureGeneratedDecoder('gpt2-induction', { dir: join(work, 'gpt2-planted'), overrides: { hidden: 64, intermediate: 128, maxPositions: 16 } }));
    const built = await ensureVariants(md, ['int8-dynamic', 'int4-weight'], { outDir: join(work, 'variants-gpt2') });
    // a user-supplied file that destroys the planted induction head (layer 2, head 2): its queries zeroed
    const broken = loadUserVariant(md, { name: 'no-induction' as UserVariantName, path: zeroQuery(md, 2, 2, join(work, 'no-induction.onnx')) });
    const records = await runAttentionProbe(md, { corpus: fittingCorpus(md.tokenizer, 1, 10), variants: [...built, broken], seed: 1 });
    assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'int8-dynamic', 'int4-weight', 'no-induction']);
    for (const r of records) {
      const data = JSON.parse(JSON.stringify(r.data));
      assert.ok(Value.Check(ProbeRecord, JSON.parse(JSON.stringify(r))) && Value.Check(AttentionProbeData, data), [...Value.Errors(AttentionProbeData, data)].slice(0, 3).map((e) => `${e.path} ${e.message}`).join('; '));
    }
    const d = records[0].data as AttentionProbeData;
    assert.equal(d.architecture!.kind, 'decoder');
    assert.match(d.architecture!.hiddenStates, /residual stream/);
    // the tensors identifiability reads: the embedding sum, then each block's output after its MLP residual Add (not ln_1)
    assert.deepEqual(md.layers.hidden, ['embed/sum', 'h.0/mlp_residual', 'h.1/mlp_residual']);
    assert.equal(d.baseline!.kind, 'causal-uniform');
    // hidden 0 is the embedding sum (token + position): every position identifiable; the residual stream after block 1 too
    assert.deepEqual(d.identifiability.nearest.slice(0, 2), [1, 1]);
    assert.equal(d.identifiability.excludedPositions, 0);
    // the planted previous-token head L1H0 (one-hot rows) reads as structured, and the random near-uniform heads do not
    const heads = d.structuredHeads!.map((h) => `L${h.layer}H${h.head}`);
    assert.ok(heads.includes('L1H0') && !heads.includes('L1H1') && !heads.includes('L2H0'), heads.join(','));
    assert.ok(d.structure[0].heads[0].entropyRatio < 0.05 && d.structure[0].heads[1].entropyRatio > 0.95, JSON.stringify(d.structure[0].heads));
    // re-drawing the planted layer 2 (then 1 and 2) changes attention and the rollout ranking
    const steps = d.sanity!.randomization;
    assert.deepEqual(steps.map((s) => s.randomizedFrom), [2, 1]);
    assert.ok(steps.every((s) => s.attentionChanged && s.rolloutChanged && s.rolloutSpearman! < t.randomization.maxRolloutSpearman), JSON.stringify(steps));
    assert.equal(steps[0].parameters, 4, 'layer 2: c_attn, attn c_proj, c_fc, mlp c_proj; norms, biases and the shared mask kept');
    assert.match(d.sanity!.redrawnWeights!, /matrix-product/);
    assert.ok(d.sanity!.shuffled.layers.every((l) => l.alignedJs === null));
    // the previous-token head follows positions, not words: its layer stays as structured on shuffled text
    assert.ok(d.sanity!.shuffled.structureKeptLayers.includes(1), JSON.stringify(d.sanity!.shuffled));
    // variants keep the fp32 validity state; the file with the induction head destroyed fails at layer 2
    for (const r of records.slice(1, 3)) {
      const s = (r.data as AttentionProbeData).survival!;
      assert.equal(s.referenceValidity!.valid, true);
      assert.ok(['survives', 'degrades'].includes(r.verdict.status), `${r.variant.name}: ${r.verdict.summary}`);
      assert.match(r.verdict.summary, /fp32 explanation passes its sanity checks/);
    }
    const lost = records[3];
    assert.equal(lost.verdict.status, 'fails', lost.verdict.summary);
    assert.deepEqual(lost.verdict.layers, [2]);
    assert.match(renderAttention(records), /entropy\/ln\(i\+1\)/);
  });

  test('Llama shape (rotary, RMSNorm, grouped-query): fp32, int8-dynamic, int4-weight and a user file; randomization that cannot change anything FAILS', async () => {
    const md = loadModelDir(ensureGeneratedDecoder('llama-demo', { dir: join(work, 'llama'), overrides: { layers: 2, maxPositions: 32 } }));
    const built = await ensureVariants(md, ['int8-dynamic', 'int4-weight'], { outDir: join(work, 'variants-llama') });
    const user = loadUserVariant(md, { name: 'ext-int8' as UserVariantName, path: built[0].onnxPath });
    const corpus = fittingCorpus(md.tokenizer, 2, 8);
    const records = await runAttentionProbe(md, { corpus, variants: [...built, user], seed: 1 });
    assert.deepEqual(records.map((r) => r.variant.name), ['fp32', 'int8-dynamic', 'int4-weight', 'ext-int8']);
    const d = records[0].data as AttentionProbeData;
    assert.deepEqual([d.architecture!.kind, d.baseline!.kind], ['decoder', 'causal-uniform']);
    // no position in a rotary model's residual stream: repeated tokens cannot be told apart and are left out, not lost
    assert.equal(d.identifiability.nearest[0], 1);
    assert.ok(d.identifiability.excludedPositions! > 0);
    assert.ok(d.sanity!.randomization.every((s) => s.parameters === (s.randomizedFrom === 2 ? 7 : 14)), 'q, k, v, o, gate, up, down per layer');
    // near causal-uniform random heads have no structure to keep on shuffled text (no noise ratio is flagged)
    assert.ok(d.structure.every((l) => l.entropyRatio > 0.9) && d.structuredHeads!.length === 0, JSON.stringify(d.structure));
    assert.deepEqual(d.sanity!.shuffled.structureKeptLayers, []);
    for (const r of records.slice(1)) assert.ok((r.data as AttentionProbeData).survival!.referenceValidity!.valid !== null, r.variant.name);
    // the user file is the int8 file: same verdict and numbers
    assert.deepEqual((records[3].data as AttentionProbeData).survival!.layers, (records[1].data as AttentionProbeData).survival!.layers);
    // a surviving variant carries fp32's validity: "survives" only against a valid fp32 explanation
    for (const r of records.slice(1)) {
      const valid = (r.data as AttentionProbeData).survival!.referenceValidity!.valid;
      if (valid === false) assert.notEqual(r.verdict.status, 'survives', r.verdict.summary);
      if ((r.data as AttentionProbeData).survival!.layers.every((l) => l.status === 'survives')) assert.equal(r.verdict.status, valid ? 'survives' : 'survives-invalid-reference');
    }

    // the fleet path: the contract's runner on a variant item (fp32 rerun, no sanity checks), its report cell and view
    const plan = { models: [{ name: md.name }], variants: ['int4-weight'], probes: ['attention'], seed: 2, settings: { attention: { sentences: 4 } } } as JobPlan;
    const [fleet] = await runProbe<AttentionProbeData>('attention', md, built[1], plan, join(work, 'variants-llama'));
    assert.equal(fleet.data.baseline!.kind, 'causal-uniform');
    const latest = [{ deviceId: 'pi-1', record: fleet }];
    assert.equal(attentionContract.report.cells(latest as never, {} as never).attentionBaseline!.text, 'decoder, causal-uniform');
    const [view] = attentionContract.view!(latest as never) as AttentionView[];
    assert.deepEqual([view.architecture, view.baseline, view.baselineSelfContribution!.length], ['decoder', 'causal-uniform', 3]);

    // queries and keys zeroed: every map is uniform causal, re-drawing zero weights (std 0) leaves them zero,
    // so attention and rollout cannot change and the check must fail rather than pass on nothing
    const flat = cloneForEdit(md.model.proto);
    flat.graph.initializer = flat.graph.initializer.map((x) => (/(q|k)_proj\.weight$/.test(x.name) ? floatTensor(x.name, dimsOf(x), new Float32Array(dimsOf(x).reduce((a, b) => a * b, 1))) : x));
    const seqs = encodeCorpus(corpus, md.tokenizer).map((s) => s.ids);
    const ref = await collectActivations(flat, 'flat', seqs, md.tokenizer.padId, { keepHidden: false });
    const [s0] = attentionStructure(ref, t.structure.dominantWeight);
    assert.ok(Math.abs(s0.entropyRatio - 1) < 1e-5 && s0.dominantShare === 0, JSON.stringify(s0));
    const steps = await cascadingRandomization(flat, md.layers, seqs, md.tokenizer.padId, ref, 1, t);
    assert.ok(steps.every((s) => !s.attentionChanged && !s.rolloutChanged), JSON.stringify(steps));
  });
});
