import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SHARED_MODEL, needsShared } from '../harness/shared-data.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { collectActivations } from '../probes/attention/activations.ts';
import { cascadingRandomization } from '../probes/attention/randomization.ts';
import { loadAttentionThresholds } from '../probes/attention/thresholds.ts';
import { matMulIntegerModel, qdqModel, writeTemp } from './helpers/quantized-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { writeTestNorms } from './helpers/test-norms.ts';

// Acceptance of issue 16 on the shared model: a user's QDQ file and a user's MatMulInteger file each get
// bench, attention, properties and divergence results against fp32 under their own names. Kept small
// (few sentences, few timed queries): what is asserted is pairing and naming, with loose closeness bounds.
test('shared model: user QDQ and MatMulInteger files measured against fp32 by every command', { skip: needsShared, timeout: 900_000 }, async () => {
  const md = loadModelDir(SHARED_MODEL);
  const work = mkdtempSync(join(tmpdir(), 'ep-shared-user-'));
  const qdq = writeTemp(await qdqModel(md, builtInCorpus(2, 8).sentences), 'model_qdq.onnx');
  const mmi = writeTemp(matMulIntegerModel(md), 'model_quantized.onnx');
  const flags = ['--variant', `ort-qdq=${qdq}`, '--variant', `ort-dynamic=${mmi}`];
  const text = join(work, 'sentences.txt');
  writeFileSync(text, builtInCorpus(1, 8).sentences.join('\n'));
  const cli = (args: string[]): ProbeRecord[] => {
    const run = runCli([...args, '--json'], { timeoutMs: 600_000 });
    assert.equal(run.status, 0, run.stderr);
    const out = jsonResult<ProbeRecord[] | { records: ProbeRecord[] }>(run);
    return Array.isArray(out) ? out : out.records;
  };
  const names = (rs: ProbeRecord[]) => rs.map((r) => `${r.variant.name}:${(r.variant.quantization?.forms ?? []).join('+')}`);

  const bench = cli(['bench', SHARED_MODEL, '--variants', 'fp32', ...flags, '--seq-len', '32', '--min-queries', '5', '--min-duration-s', '0', '--warmup', '1', '--batch', '2']);
  assert.deepEqual(names(bench), ['fp32:', 'ort-qdq:QDQ', 'ort-dynamic:MatMulInteger']);
  for (const r of bench.slice(1)) {
    const d = r.data as BenchmarkData;
    console.log(`# ${r.variant.name}: ${(d.sizeBytes / 1e6).toFixed(1)} MB (${d.sizeRatio.toFixed(2)}x), p50 ${d.latencyMs.p50.toFixed(2)} ms, pooled cosine ${d.drift?.pooledCosineMin.toFixed(4)}`);
    assert.ok(d.drift && d.drift.pooledCosineMin > 0.8);
    // int8 matrices, fp32 embedding table (the fixtures leave embeddings alone): smaller, not 4x
    assert.ok(d.sizeRatio < 0.9, `${r.variant.name} is int8: ${d.sizeRatio}x fp32`);
  }
  const att = cli(['probe', 'attention', SHARED_MODEL, '--variants', 'none', ...flags, '--text', text, '--no-sanity']);
  assert.deepEqual(names(att), ['fp32:', 'ort-qdq:QDQ', 'ort-dynamic:MatMulInteger']);
  for (const r of att.slice(1)) console.log(`# attention ${r.variant.name}: ${r.verdict.status}`);
  const div = cli(['divergence', SHARED_MODEL, '--variants', 'none', ...flags, '--text', text]);
  assert.deepEqual(names(div), ['ort-qdq:QDQ', 'ort-dynamic:MatMulInteger']);
  for (const r of div) console.log(`# divergence ${r.variant.name}: ${r.verdict.status}`);
  const { sparse } = writeTestNorms(work);
  const props = cli(['probe', 'properties', SHARED_MODEL, '--norms', sparse, '--folds', '3', '--layers', 'static,2', '--no-cache', ...flags]);
  assert.deepEqual(names(props), ['fp32:', 'ort-qdq:QDQ', 'ort-dynamic:MatMulInteger']);
  for (const r of props.slice(1)) assert.ok((r.data as { comparedToFp32?: unknown }).comparedToFp32);

  // the sanity check of the int8 model itself re-draws its int8 weights (scales kept)
  const m = loadModelDir(md.dir, { onnxPath: mmi });
  const seqs = builtInCorpus(1, 6).sentences.map((s) => md.tokenizer.encode(s).ids);
  const ref = await collectActivations(m.model.proto, 'mmi', seqs, md.tokenizer.padId);
  const steps = await cascadingRandomization(m.model.proto, m.layers, seqs, md.tokenizer.padId, ref, 1, loadAttentionThresholds());
  const all = steps[steps.length - 1];
  console.log(`# int8 randomization, all layers: ${all.redrawn?.integerElements} int8 + ${all.redrawn?.floatElements} float elements re-drawn, attention JS ${all.attentionJs.toFixed(3)}`);
  assert.ok(all.redrawn!.integerElements > 10 * all.redrawn!.floatElements, 'the int8 matrices, not just biases and LayerNorms, are re-drawn');
  assert.ok(steps.every((s) => s.attentionChanged));
});
