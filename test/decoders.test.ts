import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { causalMaskOf } from '../core/onnx/architecture-detect.ts';
import { DataType, makeModel, node, tensorValueInfo } from '../core/onnx/graph-builder.ts';
import { GraphIndex } from '../core/onnx/graph-index.ts';
import { floatTensor } from '../core/onnx/tensor-data.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { createSession, ort, type Tensor } from '../core/runtime/ort-session.ts';
import { requireRunnableInputs } from '../core/model/input-shapes.ts';
import { requireSameReading } from '../core/model/architecture-guard.ts';
import { ensureGeneratedDecoder } from '../models/generated-decoders.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { attentionStructure } from '../probes/attention/structure.ts';
import { compareVariants, encodeSentences } from '../probes/divergence/divergence.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { logProb, nextTokenAgreement } from '../probes/divergence/next-token.ts';
import { fillMaskAgreement, taskKind } from '../probes/divergence/task-eval.ts';
import { causalEntropyRatio, causalUniformRatioOverLnN } from '../probes/induction/causal-structure.ts';
import { conceptEmbeddings } from '../probes/properties/concept-embeddings.ts';
import { runInductionProbe } from '../probes/induction/run-induction.ts';
import { resolveInductionSettings } from '../probes/induction/schema.ts';
import { coded } from './helpers/coded-errors.ts';
import { runProbe } from './helpers/run-probe.ts';
import { compressionProvider } from '../agent/jobs/variant-provider.ts';
import { loadUserVariant } from '../agent/compress/user-variants.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import type { UserVariantName } from '../core/variants/variant-types.ts';
import type { DivergenceData } from '../probes/divergence/schema.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

/** Uniform causal attention [1, 1, n, n]: row i spreads 1/(i+1) over positions 0..i. */
function uniformCausal(n: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = 1 / (i + 1);
  return a;
}

describe('decoder-only LMs: generated graphs, architecture detection, refusals of encoder-only commands', () => {
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-decoders-'));
  after(() => rmSync(work, { recursive: true, force: true }));
  const gpt2 = loadModelDir(ensureGeneratedDecoder('gpt2-demo', { dir: join(work, 'gpt2') }));
  const llama = loadModelDir(ensureGeneratedDecoder('llama-demo', { dir: join(work, 'llama') }));

  test('architecture: GPT-2 and Llama shapes are decoders, named by their causal mask; the demo encoder is unchanged', () => {
    const g = gpt2.layers.architecture;
    assert.deepEqual({ ...g, causalMask: undefined }, { kind: 'decoder', causalMask: undefined, norm: 'pre-norm', normOp: 'LayerNorm', positions: 'learned', groupedQuery: false });
    assert.match(g.causalMask!, /triangular constant attn\.bias \[1, 1, 128, 128\]/);
    const l = llama.layers.architecture;
    assert.deepEqual({ ...l, causalMask: undefined }, { kind: 'decoder', causalMask: undefined, norm: 'pre-norm', normOp: 'RMSNorm', positions: 'rotary', groupedQuery: true });
    assert.match(l.causalMask!, /^Greater of two position ranges/);
    const enc = loadModelDir(ensureGeneratedModel('tiny', { dir: join(work, 'tiny') }));
    assert.deepEqual(enc.layers.architecture, { kind: 'encoder', causalMask: null, norm: 'post-norm', normOp: 'LayerNorm', positions: 'learned', groupedQuery: false });
    // Qwen2's variant of the Llama shape (tied LM head, q/k/v bias; the bench's latency-only shape) reads the same
    const qwen = loadModelDir(ensureGeneratedDecoder('llama-demo', { dir: join(work, 'qwen-like'), overrides: { layers: 1, tieEmbeddings: true, attentionBias: true } }));
    assert.deepEqual({ ...qwen.layers.architecture, causalMask: undefined }, { ...l, causalMask: undefined });
    const inits = new Set(qwen.model.proto.graph.initializer.map((t) => t.name));
    assert.deepEqual([inits.has('lm_head.weight'), inits.has('h.0.self_attn.q_proj.bias'), qwen.model.proto.graph.node.some((n) => n.output[0] === 'lm_head/wte_t')], [false, true, true]);
    // the encoder's hidden states are still each block's last LayerNorm output
    assert.deepEqual(enc.layers.hidden, ['embeddings.ln/out', 'layer.0.output.ln/out', 'layer.1.output.ln/out']);
  });

  test('a Trilu in front of the Softmax marks a decoder; a padding mask alone does not', () => {
    const inits = [floatTensor('ones', [4, 4], new Float32Array(16).fill(1)), floatTensor('neg', [], Float32Array.of(-1e4))];
    const nodes = [
      node('Trilu', ['ones'], ['tril']), node('Cast', ['tril'], ['keep'], { to: DataType.BOOL }),
      node('MatMul', ['q', 'k'], ['raw']), node('Where', ['keep', 'raw', 'neg'], ['scores']), node('Softmax', ['scores'], ['probs']),
      node('Add', ['raw', 'pad'], ['scores_enc']), node('Softmax', ['scores_enc'], ['probs_enc']),
    ];
    const g = new GraphIndex(makeModel({ name: 't', nodes, initializers: inits, inputs: ['q', 'k', 'pad'].map((n) => tensorValueInfo(n, DataType.FLOAT)), outputs: [] }).graph);
    assert.match(causalMaskOf(g, 'scores')!, /^Trilu node/);
    assert.equal(causalMaskOf(g, 'scores_enc'), null);
  });

  test('pre-norm: hidden states are the residual stream after each block\'s Add, and attention is causal', async () => {
    assert.deepEqual(gpt2.layers.hidden, ['embed/sum', 'h.0/mlp_residual', 'h.1/mlp_residual', 'h.2/mlp_residual', 'h.3/mlp_residual']);
    assert.deepEqual(llama.layers.hidden, ['embed/tokens', 'h.0/mlp_residual', 'h.1/mlp_residual', 'h.2/mlp_residual', 'h.3/mlp_residual']);
    for (const md of [gpt2, llama]) {
      const runner = await InstrumentedRunner.create(md);
      try {
        const ids = md.tokenizer.encode('the cat sat on the mat').ids;
        const out = await runner.run([ids]);
        const n = out.seqLen;
        for (const a of out.attention) {
          for (let r = 0; r < out.heads * n; r++) {
            const i = r % n;
            let above = 0;
            let sum = 0;
            for (let j = 0; j < n; j++) { sum += a[r * n + j]; if (j > i) above += a[r * n + j]; }
            assert.ok(above < 1e-6 && Math.abs(sum - 1) < 1e-5, `${md.name} row ${i}: ${above} above the diagonal, sum ${sum}`);
          }
        }
        assert.ok(out.raw.logits, 'logits are a graph output');
        assert.deepEqual(out.raw.logits.dims, [1, n, md.tokenizer.vocabSize]);
      } finally {
        await runner.release();
      }
    }
  });

  test('properties and fill-mask refuse a decoder with one coded error naming its causal mask', async () => {
    await assert.rejects(fillMaskAgreement(gpt2, [], [{ ids: [2, 40, 3], maskIndex: 1 }]), coded('EP_MODEL_DECODER_UNSUPPORTED', { what: /fill-mask/ }));
    await assert.rejects(conceptEmbeddings(llama, ['cat'], { templates: ['a {word}.'], variant: 'fp32', cache: null }), coded('EP_MODEL_DECODER_UNSUPPORTED', { construct: /Greater/, what: /properties/ }));
    assert.equal(taskKind(gpt2), 'next-token');
  });

  test('causal structure: uniform causal attention is the baseline (ratio 1), while the ln(n) metric reads it as ln(n!)/(n ln n)', () => {
    const n = 16;
    const a = uniformCausal(n);
    // the encoder metric divides every row by ln n: sum_i ln(i+1) / (n ln n) = ln(16!) / (16 ln 16) = 30.6719 / 44.3614
    const enc = attentionStructure({ layers: 1, heads: 1, sentences: [{ n, attention: [a] }] } as never, 0.5);
    assert.ok(Math.abs(enc[0].entropyRatio - 30.67186 / 44.36142) < 1e-5, String(enc[0].entropyRatio));
    assert.ok(Math.abs(causalUniformRatioOverLnN(n) - 0.691413) < 1e-5);
    assert.ok(Math.abs(causalEntropyRatio(a, 1, 1, n)[0] - 1) < 1e-6);
    // one-hot on the diagonal: no entropy
    const diag = new Float32Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = 1;
    assert.equal(causalEntropyRatio(diag, 1, 1, n)[0], 0);
  });

  test('next-token agreement and perplexity: a model agrees with itself; log-softmax matches a hand value', async () => {
    // logits [0, ln 3]: p(1) = 3 / (1 + 3)
    assert.ok(Math.abs(logProb([0, Math.log(3)], 2, 0, 1) - Math.log(0.75)) < 1e-12);
    const ids = encodeSentences(gpt2, builtInCorpus(2, 6).sentences).ids;
    const [self] = await nextTokenAgreement(gpt2, [{ name: 'fp32', onnxPath: gpt2.onnxPath }], ids);
    assert.equal(self.task, 'next-token');
    assert.equal(self.items, ids.reduce((s, q) => s + q.length - 1, 0));
    assert.equal(self.top1Agreement, 1);
    assert.equal(self.top5Agreement, 1);
    assert.equal(self.perplexity, self.perplexityFp32);
    // random weights: perplexity is near the vocabulary size, far above 1
    assert.ok(self.perplexity! > 50 && self.perplexity! < 5 * gpt2.tokenizer.vocabSize, String(self.perplexity));
  });

  test('divergence on a decoder: residual-stream layers and next-token agreement, for int4-weight and a user-supplied file', async () => {
    const plan = { models: [{ name: 'gpt2' }], variants: ['int4-weight'], probes: ['divergence'], seed: 2, settings: { divergence: { sentences: 6 } } } as JobPlan;
    const [int4] = await compressionProvider.ensure(gpt2, ['int4-weight'], { outDir: join(work, 'variants') });
    // a file made by another tool: here the int4 file handed in under a user's name
    const user = loadUserVariant(gpt2, { name: 'ext-q4' as UserVariantName, path: int4.onnxPath });
    for (const v of [int4, user]) {
      const [r] = await runProbe<DivergenceData>('divergence', gpt2, v, plan, join(work, 'variants'));
      assert.equal(r.data.layers.length, 5);
      assert.ok(r.data.layers[4].relativeL2 > 0 && r.data.layers[4].relativeL2 < 1, String(r.data.layers[4].relativeL2));
      const t = r.data.task!;
      assert.equal(t.task, 'next-token');
      assert.ok(t.top1Agreement > 0.3 && t.top1Agreement < 1 && t.perplexity! > 1 && t.perplexityFp32! > 1, JSON.stringify(t));
      assert.match(r.verdict.summary, /next-token top-1 agreement .* perplexity/);
    }
  });

  test('a key/value-cache export is fed an empty cache (same logits as without one, the cache itself consistent); position_ids are fed', async () => {
    for (const shape of ['gpt2-demo', 'llama-demo'] as const) {
      const kv = loadModelDir(ensureGeneratedDecoder(shape, { dir: join(work, `${shape}-kv`), overrides: { kvCache: true } }));
      const plain = shape === 'gpt2-demo' ? gpt2 : llama;
      requireRunnableInputs(kv.model.proto.graph, kv.onnxPath);
      assert.equal(kv.layers.architecture.kind, 'decoder');
      const ids = [2, 50, 60, 70, 80, 90];
      const [a, b] = [await createSession(plain.onnxPath, 'plain'), await createSession(kv.onnxPath, 'kv')];
      const full = await b.run(bertFeeds(b.inputNames, [ids], 0, b.inputMetadata).feeds);
      assert.deepEqual(tensorFloats(full.logits), tensorFloats((await a.run(bertFeeds(a.inputNames, [ids], 0, a.inputMetadata).feeds)).logits));
      // the last token fed alone on the prefix's cache predicts what the full pass predicts there
      const prefix = await b.run(bertFeeds(b.inputNames, [ids.slice(0, 5)], 0, b.inputMetadata).feeds);
      const step: Record<string, Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.of(90n), [1, 1]), attention_mask: new ort.Tensor('int64', new BigInt64Array(6).fill(1n), [1, 6]) };
      for (const n of b.inputNames) if (n.startsWith('past_key_values.')) step[n] = prefix[n.replace('past_key_values', 'present')];
      const last = tensorFloats((await b.run(step)).logits);
      const V = full.logits.dims[2];
      const want = tensorFloats(full.logits).subarray(5 * V, 6 * V);
      assert.ok(last.every((x, v) => Math.abs(x - want[v]) < 1e-4), `${shape}: cached step differs`);
      await Promise.all([a.release(), b.release()]);
    }
    // an export taking position_ids is fed 0..n-1 per row: the same logits as the graph that computes them, padding included
    const withIds = loadModelDir(ensureGeneratedDecoder('gpt2-demo', { dir: join(work, 'gpt2-position-ids'), overrides: { positionIdsInput: true } }));
    assert.equal(withIds.layers.architecture.positions, 'learned');
    const c = await createSession(withIds.onnxPath, 'position_ids');
    const p = await createSession(gpt2.onnxPath, 'plain');
    const seqs = [[2, 50, 60, 70, 80, 90], [2, 40, 41]];
    assert.deepEqual(tensorFloats((await c.run(bertFeeds(c.inputNames, seqs, 0, c.inputMetadata).feeds)).logits), tensorFloats((await p.run(bertFeeds(p.inputNames, seqs, 0, p.inputMetadata).feeds)).logits));
    await Promise.all([c.release(), p.release()]);
    // a cache whose head axis is symbolic cannot be fed empty: refused naming the export option
    const g = loadModelDir(join(work, 'gpt2-demo-kv')).model.proto.graph;
    const input = g.input.find((i) => i.name === 'past_key_values.0.key')!;
    input.type!.tensorType!.shape!.dim![1] = { dimParam: 'heads' } as never;
    assert.throws(() => requireRunnableInputs(g, 'kv.onnx'), coded('EP_MODEL_KV_CACHE_SHAPE', { input: 'past_key_values.0.key', shape: '[batch, heads, past_sequence, 16]' }));
    // a static-cache export (past length fixed at 7) cannot run without a 7-position cache: refused the same way,
    // before a session is made and when feeds are built from a session's metadata
    input.type!.tensorType!.shape!.dim![1] = { dimValue: 2 } as never;
    input.type!.tensorType!.shape!.dim![2] = { dimValue: 7 } as never;
    assert.throws(() => requireRunnableInputs(g, 'kv.onnx'), coded('EP_MODEL_KV_CACHE_SHAPE', { input: 'past_key_values.0.key', shape: '[batch, 2, 7, 16]' }));
    const meta = [{ name: 'past_key_values.0.key', isTensor: true, type: 'float32', shape: [1, 2, 7, 16] }] as never;
    assert.throws(() => bertFeeds(['input_ids', 'past_key_values.0.key'], [[2, 50]], 0, meta), coded('EP_MODEL_KV_CACHE_SHAPE', { shape: '[1, 2, 7, 16]' }));
  });

  test('an fp16-compute variant (Casts between residual and norm) is still read as pre-norm: its hidden states are the residual stream', async () => {
    for (const md of [gpt2, llama]) {
      const [v] = await ensureVariants(md, ['fp16'], { outDir: join(work, 'fp16c', md.name), fp16Form: 'compute' });
      const vmd = loadModelDir(md.dir, { onnxPath: v.onnxPath });
      assert.equal(vmd.layers.architecture.norm, 'pre-norm');
      const [r] = await compareVariants(md, [v], builtInCorpus(1, 4).sentences);
      // fp16 rounding only: read as post-norm, layer 0 would compare the embedding sum with ln_1's output (relative L2 ~ 10)
      const worst = Math.max(...(r.data as DivergenceData).layers.map((l) => l.relativeL2));
      assert.ok(worst < 0.01, `${md.name}: ${worst}`);
    }
    // a variant read differently from its source is refused rather than compared tensor by tensor
    const misread = { architecture: { ...gpt2.layers.architecture, norm: 'post-norm' as const } };
    assert.throws(() => requireSameReading(gpt2.layers, misread, 'odd', 'odd.onnx'), coded('EP_VARIANT_READ_DIFFERENTLY', { variantReading: 'decoder, post-norm', sourceReading: 'decoder, pre-norm' }));
  });

  test('a GPT-2-style byte-level BPE tokenizer without BERT special tokens loads; <|endoftext|> is bos, eos and pad', async () => {
    // the 256 byte symbols as GPT-2 maps bytes to characters, one merge ("t h"), and <|endoftext|>
    const printable = [...Array.from({ length: 94 }, (_, i) => 33 + i), ...Array.from({ length: 12 }, (_, i) => 161 + i), ...Array.from({ length: 82 }, (_, i) => 174 + i)];
    const symbols: string[] = new Array(256);
    let extra = 0;
    for (let b = 0; b < 256; b++) symbols[b] = String.fromCharCode(printable.includes(b) ? b : 256 + extra++);
    const vocab: Record<string, number> = Object.fromEntries(symbols.map((s, i) => [s, i]));
    Object.assign(vocab, { th: 256, '<|endoftext|>': 257 });
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
    const dir = join(work, 'gpt2-bpe');
    mkdirSync(dir);
    copyFileSync(gpt2.onnxPath, join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', n_embd: 64, max_position_embeddings: 16 }));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({
      version: '1.0', truncation: null, padding: null, normalizer: null, pre_tokenizer: byteLevel, post_processor: byteLevel, decoder: byteLevel,
      added_tokens: [{ id: 257, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: ['t h'] },
    }));
    const md = loadModelDir(dir);
    assert.deepEqual([md.tokenizer.clsId, md.tokenizer.sepId, md.tokenizer.padId], [257, 257, 257]);
    const enc = md.tokenizer.encode('the cat');
    assert.deepEqual(enc.tokens, ['th', 'e', '\u0120', 'c', 'a', 't']);
    // longer than the 16 positions: cut, not closed with an end token
    const long = md.tokenizer.encode('the cat sat on the mat and the dog sat too');
    assert.ok(long.truncated && long.ids.length === 16 && long.ids[15] !== 257);
    const [r] = await runInductionProbe(md, [], resolveInductionSettings({ sequences: 2, half: 6 }));
    assert.equal((r.data as { candidates: number }).candidates, 257, 'every byte symbol and the merge, <|endoftext|> left out');
  });

  test('CLI: models inspect names the architecture; divergence --fill-mask on a decoder is refused; probe induction finds the planted head', () => {
    const inspect = runCli(['models', 'inspect', join(work, 'llama'), '--json']);
    assert.equal(inspect.status, 0, inspect.stderr);
    const d = jsonResult<{ architecture: { kind: string; summary: string } }>(inspect);
    assert.equal(d.architecture.kind, 'decoder');
    assert.match(d.architecture.summary, /decoder-only causal LM .*RMSNorm, rotary positions, grouped-query/);
    const refused = runCli(['divergence', join(work, 'gpt2'), '--variants', 'int8-dynamic', '--sentences', '4', '--fill-mask', join(work, 'items.jsonl')], { env: { EDGEPROBE_CACHE: join(work, 'cache') } });
    assertCliError(refused, 'EP_MODEL_DECODER_UNSUPPORTED', /attn\.bias.*--fill-mask/s);
    const planted = ensureGeneratedDecoder('gpt2-induction', { dir: join(work, 'planted') });
    const probe = runCli(['probe', 'induction', planted, '--variants', 'none', '--sequences', '4', '--half', '10', '--json']);
    assert.equal(probe.status, 0, probe.stderr);
    const [rec] = jsonResult<Array<{ data: { inductionHeads: Array<{ layer: number; head: number }> } }>>(probe);
    assert.deepEqual(rec.data.inductionHeads.map((h) => [h.layer, h.head]), [[2, 2]]);
    assertCliError(runCli(['probe', 'induction', planted, '--threshold', '3']), 'EP_FLAG_OUT_OF_RANGE', /--threshold must be a number above 0 and at most 1/);
  });
});
