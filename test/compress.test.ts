import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureVariants, parseVariantNames } from '../agent/compress/ensure-variants.ts';
import { dequantize, quantizePerColumn, quantizePerRow, quantizePerTensor } from '../agent/compress/int8-quantize.ts';
import type { VariantName } from '../core/variants/variant-types.ts';
import { loadModelDir, type ModelDir } from '../core/model/model-dir.ts';
import { cosine, maxAbsDiff, meanRows } from '../core/numeric/vectors.ts';
import { attentionOutput, hiddenOutput, instrumentModel, WORD_EMBEDDINGS_OUTPUT } from '../core/onnx/instrument.ts';
import { encodeOnnx, loadOnnxFile } from '../core/onnx/model-io.ts';
import { bertFeeds, tensorFloats } from '../core/runtime/encoder-runner.ts';
import { createSession } from '../core/runtime/ort-session.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { SHARED_MODEL, needsShared } from '../harness/shared-data.ts';
import { coded } from './helpers/coded-errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-compress-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const SENTENCES = ['the cat sat on the mat.', 'a dog is a domesticated carnivore.', 'an oak is a tree that produces acorns.'];
const ALL: VariantName[] = ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'];

test('per-tensor quantization: round trip error is at most scale/2 on a hand-made tensor', () => {
  const w = Float32Array.of(-1.27, 0.5, 0.004, 1.0, -0.333, 0);
  const q = quantizePerTensor(w);
  // max |w| = 1.27 -> scale = 1.27 / 127 = 0.01; 0.5 -> 50, 0.004 -> round(0.4) = 0, -0.333 -> round(-33.3) = -33
  assert.ok(Math.abs(q.scales[0] - 0.01) < 1e-9);
  assert.deepEqual(Array.from(q.values), [-127, 50, 0, 100, -33, 0]);
  const back = dequantize(q, w.length);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i] - w[i]) <= q.scales[0] / 2 + 1e-7, `element ${i}`);
});

test('per-column scales are max |w| of each column / 127, computed by hand', () => {
  // [3 rows, 2 cols]: column 0 = 0.5, -2.54, 1 -> scale 0.02; column 1 = 0.127, 0, -0.0635 -> scale 0.001
  const w = Float32Array.of(0.5, 0.127, -2.54, 0, 1, -0.0635);
  const q = quantizePerColumn(w, 3, 2);
  assert.ok(Math.abs(q.scales[0] - 0.02) < 1e-8 && Math.abs(q.scales[1] - 0.001) < 1e-9);
  // 0.5/0.02 = 25, 0.127/0.001 = 127, -2.54/0.02 = -127, 1/0.02 = 50, -0.0635/0.001 = -63.5 -> -63 (round half up)
  assert.deepEqual(Array.from(q.values), [25, 127, -127, 0, 50, -63]);
  // per tensor, column 1 would have scale 0.02 and lose its small values: per column keeps them within scale/2
  const back = dequantize(q, 2);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i] - w[i]) <= q.scales[i % 2] / 2 + 1e-7);
  assert.equal(quantizePerTensor(w).values[5], Math.round(-0.0635 / 0.02));
});

test('per-row scales, and an all-zero row dequantizes to zeros', () => {
  const q = quantizePerRow(Float32Array.of(0, 0, 0.254, -0.127), 2, 2);
  assert.deepEqual(Array.from(q.scales).map((s) => +s.toFixed(6)), [1, 0.002]);
  // row 1: scale 0.254/127 = 0.002; -0.127/0.002 = -63.5 rounds to -63 -> -0.126 (error 0.001 = scale/2)
  assert.deepEqual(Array.from(q.values), [0, 0, 127, -63]);
  assert.deepEqual(Array.from(dequantize(q, 2)).map((v) => +v.toFixed(6)), [0, 0, 0.254, -0.126]);
});

test('unknown variant names are refused with the valid list', () => {
  assert.deepEqual(parseVariantNames('fp16, int8-dynamic,fp16'), ['fp16', 'int8-dynamic']);
  assert.throws(() => parseVariantNames('fp16,int4'), coded('EP_VARIANT_UNKNOWN', { name: 'int4', source: '--variants' }));
  assert.throws(() => parseVariantNames('fp16,int4'), (e: Error & { fix?: string }) => /fp16, int8-dynamic, int8-weight/.test(e.fix ?? ''));
});

interface RunOut { pooled: Float32Array[]; wordEmbeddings: Float32Array[] }

/** Runs the instrumented variant; checks shapes and attention row sums, returns mean-pooled last hidden states. */
async function runInstrumented(md: ModelDir, onnxPath: string): Promise<RunOut> {
  const vmd = loadModelDir(md.dir, { onnxPath });
  const { model, layers } = instrumentModel(vmd.model.proto, onnxPath);
  const session = await createSession(encodeOnnx(model), onnxPath);
  const pooled: Float32Array[] = [];
  const wordEmbeddings: Float32Array[] = [];
  for (const text of SENTENCES) {
    const ids = md.tokenizer.encode(text).ids;
    const out = await session.run(bertFeeds(session.inputNames, [ids], md.tokenizer.padId).feeds);
    const S = ids.length;
    const H = layers.wordEmbeddingTable!.hidden;
    for (let l = 0; l <= layers.layers; l++) assert.deepEqual(out[hiddenOutput(l)].dims, [1, S, H], `${onnxPath} hidden ${l}`);
    assert.deepEqual(out[WORD_EMBEDDINGS_OUTPUT].dims, [1, S, H]);
    for (let l = 1; l <= layers.layers; l++) {
      const t = out[attentionOutput(l)];
      assert.deepEqual([t.dims[0], t.dims[2], t.dims[3]], [1, S, S]);
      const a = tensorFloats(t);
      for (let r = 0; r < a.length / S; r++) {
        let sum = 0;
        for (let c = 0; c < S; c++) sum += a[r * S + c];
        assert.ok(Math.abs(sum - 1) < 1e-4, `${onnxPath} layer ${l} row ${r} sums to ${sum}`);
      }
    }
    pooled.push(meanRows(tensorFloats(out[hiddenOutput(layers.layers)]), H, 0, S));
    wordEmbeddings.push(tensorFloats(out[WORD_EMBEDDINGS_OUTPUT]));
  }
  return { pooled, wordEmbeddings };
}

test('tiny model: every variant loads, runs instrumented with the right shapes, and is reused from its manifest', async () => {
  const md = loadModelDir(ensureGeneratedModel('tiny'));
  const outDir = join(tmp, 'tiny');
  const variants = await ensureVariants(md, ALL, { outDir });
  assert.deepEqual(variants.map((v) => v.name), ALL);
  assert.equal(variants[0].onnxPath, md.onnxPath);
  const runs: RunOut[] = [];
  for (const v of variants) {
    assert.equal(v.manifest.source.sha256, md.model.sha256);
    assert.equal(loadOnnxFile(v.onnxPath).sha256, v.manifest.sha256);
    runs.push(await runInstrumented(md, v.onnxPath));
  }
  // the exposed word embeddings of int8 variants are the dequantized rows, not the raw int8 Gather output:
  // per-row symmetric int8 keeps every value within scale/2 = max|row| / 254 of fp32 (< 0.01 for tiny's weights)
  for (const k of [2, 3]) {
    runs[k].wordEmbeddings.forEach((e, i) => assert.ok(maxAbsDiff(e, runs[0].wordEmbeddings[i]) < 0.01, `${ALL[k]} sentence ${i}: ${maxAbsDiff(e, runs[0].wordEmbeddings[i])}`));
  }
  const manifest = JSON.parse(readFileSync(join(outDir, 'int8-dynamic.manifest.json'), 'utf8')) as { method: string; compute: string; bytes: number };
  assert.match(manifest.method, /DynamicQuantizeLinear/);
  const again = await ensureVariants(md, ['int8-dynamic'], { outDir });
  assert.equal(again[0].manifest.createdAt, variants[2].manifest.createdAt, 'an up-to-date variant is reused, not rebuilt');
});

test('shared model: variant sizes, pooled cosine to fp32, instrumentation on every variant', { skip: needsShared }, async () => {
  const md = loadModelDir(SHARED_MODEL);
  const variants = await ensureVariants(md, ALL, { outDir: join(tmp, 'shared') });
  const runs = new Map<string, RunOut>();
  for (const v of variants) runs.set(v.name, await runInstrumented(md, v.onnxPath));
  const fp32 = runs.get('fp32')!.pooled;
  const minCos = (name: string): number => Math.min(...runs.get(name)!.pooled.map((p, i) => cosine(p, fp32[i])));
  const ratio = (name: string): number => variants.find((v) => v.name === name)!.manifest.bytes / md.model.bytes.byteLength;
  assert.ok(minCos('fp16') >= 0.999, `fp16 cosine ${minCos('fp16')}`);
  assert.ok(minCos('int8-dynamic') >= 0.99, `int8-dynamic cosine ${minCos('int8-dynamic')}`);
  assert.ok(minCos('int8-weight') >= 0.99, `int8-weight cosine ${minCos('int8-weight')}`);
  assert.ok(ratio('fp16') < 0.51, `fp16 size ratio ${ratio('fp16')}`);
  assert.ok(ratio('int8-dynamic') <= 0.30, `int8-dynamic size ratio ${ratio('int8-dynamic')}`);
  assert.ok(ratio('int8-weight') <= 0.30, `int8-weight size ratio ${ratio('int8-weight')}`);
});

test('fp16-compute form: runs on the CPU EP, stays instrumentable (layer detection looks through its Casts), close to fp32', async () => {
  const md = loadModelDir(ensureGeneratedModel('demo'));
  const [fp32, fp16c] = await ensureVariants(md, ['fp32', 'fp16'], { outDir: join(tmp, 'demo-cuda'), executionProvider: 'cuda' });
  assert.match(fp16c.onnxPath, /fp16-compute\.onnx$/);
  assert.equal(fp16c.manifest.parameters.form, 'compute');
  assert.match(fp16c.manifest.compute, /not validated/);
  const proto = loadOnnxFile(fp16c.onnxPath).proto;
  const types = new Map(proto.graph.initializer.map((t) => [t.name, t.dataType]));
  assert.equal(types.get('embeddings.word.weight'), 10, 'word table stored as FLOAT16 (10)');
  // Softmax stays fp32: its input is a Cast to FLOAT (1)
  const byOutput = new Map(proto.graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const softmax = proto.graph.node.find((n) => n.opType === 'Softmax')!;
  const feeder = byOutput.get(softmax.input[0])!;
  assert.equal(feeder.opType, 'Cast');
  assert.equal(Number(feeder.attribute[0].i), 1);
  const a = await runInstrumented(md, fp32.onnxPath);
  const b = await runInstrumented(md, fp16c.onnxPath);
  b.pooled.forEach((p, i) => assert.ok(cosine(p, a.pooled[i]) > 0.999, `sentence ${i}: ${cosine(p, a.pooled[i])}`));
});

test('tied MLM decoder (Transpose of the word table) is quantized too, and clear fill-mask winners survive on any CPU', async () => {
  const dir = ensureGeneratedModel('tiny', { dir: join(tmp, 'tiny-mlm-model'), overrides: { mlmHead: true } });
  const md = loadModelDir(dir);
  const [fp32, int8, weightOnly] = await ensureVariants(md, ['fp32', 'int8-dynamic', 'int8-weight'], { outDir: join(tmp, 'tiny-mlm') });
  const proto = loadOnnxFile(int8.onnxPath).proto;
  // no float copy of the word table is left, and only ONE int8 copy: the decoder reads the Transpose of the
  // embedding's int8 rows (per-row scales of [V, H] are the per-column scales of its transpose)
  assert.ok(!proto.graph.initializer.some((t) => t.name === 'embeddings.word.weight'));
  const tableSized = proto.graph.initializer.filter((t) => t.dataType === 3 && t.dims.length === 2 && Number(t.dims[0]) === md.layers.wordEmbeddingTable!.vocab);
  assert.deepEqual(tableSized.map((t) => t.name), ['embeddings.word.weight.rowq8']);
  assert.ok(proto.graph.node.some((n) => n.opType === 'Transpose' && n.input[0] === 'embeddings.word.weight.rowq8'));
  const ids = md.tokenizer.encode('the cat sat on the [MASK].').ids;
  const logitRows = async (path: string): Promise<Float32Array[]> => {
    const s = await createSession(path, path);
    const out = await s.run(bertFeeds(s.inputNames, [ids], md.tokenizer.padId).feeds);
    const V = Number(out.logits.dims[2]);
    const d = tensorFloats(out.logits);
    return ids.map((_, i) => d.subarray(i * V, (i + 1) * V));
  };
  const argmax = (r: Float32Array): number => { let best = 0; for (let v = 1; v < r.length; v++) if (r[v] > r[best]) best = v; return best; };
  const margin = (r: Float32Array): number => { const s = [...r].sort((x, y) => y - x); return s[0] - s[1]; };
  const [ref, dyn, wo] = [await logitRows(fp32.onnxPath), await logitRows(int8.onnxPath), await logitRows(weightOnly.onnxPath)];
  // int8-weight computes in fp32 on dequantized weights, so its logits are the same on every CPU (up to float
  // summation order, ~1e-6 against margins >= 0.017 here): every top-1 token survives
  assert.deepEqual(wo.map(argmax), ref.map(argmax), 'int8-weight keeps every top-1 token');
  // int8-dynamic runs onnxruntime's integer kernels, which round differently per CPU (AVX2 without VNNI saturates
  // u8 x s8 pair sums in 16 bits; VNNI and ARM dot products do not): its logits must track fp32 at every position,
  // i.e. be closer to that position's fp32 logits than to any other position's (cosine 0.9999 vs at most 0.96 with
  // VNNI; 0.966-0.999 vs at most 0.963 on an AVX2-only CPU emulated by scripts/test-avx2-emulated.sh, so no fixed
  // cosine floor holds on both), and a token with a clear winner (fp32 margin >= 5% of the logit range, about 0.1
  // here; near-ties of 0.02 flip on AVX2) survives. The per-CPU agreement on every position is a benchmark figure.
  let clear = 0;
  ref.forEach((r, i) => {
    const own = cosine(r, dyn[i]);
    const nearestOther = Math.max(...ref.filter((_, j) => j !== i).map((q) => cosine(q, dyn[i])));
    assert.ok(own > nearestOther, `position ${i}: int8-dynamic logits cosine ${own} to their own fp32 position, ${nearestOther} to another`);
    const range = Math.max(...r) - Math.min(...r);
    if (margin(r) < 0.05 * range) return;
    clear++;
    assert.equal(argmax(dyn[i]), argmax(r), `position ${i}: fp32 top-1 ${argmax(r)} wins by ${margin(r)}, int8-dynamic picks ${argmax(dyn[i])}`);
  });
  assert.ok(clear >= ids.length / 2, `${clear} of ${ids.length} positions have a clear winner: the check must test something`);
});
