import { Type, type Static } from '@sinclair/typebox';
import { sha256Hex } from '../../core/onnx/model-io.ts';
import { benchmarkSettings } from '../../core/protocol/plan.ts';
import { RandomProjection } from '../../core/numeric/random-projection.ts';
import { percentiles, mean } from '../../core/numeric/stats.ts';
import { meanRows } from '../../core/numeric/vectors.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession, ORT_VERSION } from '../../core/runtime/ort-session.ts';
import type { ProbeContext, ProbeRunner } from './probe-registry.ts';

/** Fingerprints use the first sentences only, which keeps a record far below the message size limit. */
const FINGERPRINT_SENTENCES = 16;
export const FINGERPRINT_DIMS = 32;
const FINGERPRINT_SEED = 20_240_601;

export const Fingerprint = Type.Object({
  method: Type.String(),
  /** sha256 of the sentences the fingerprint was computed on: only equal inputs are compared */
  inputsSha256: Type.String(),
  dims: Type.Integer(),
  /** per sentence: the mean-pooled output projected to `dims` seeded Gaussian directions */
  vectors: Type.Array(Type.Array(Type.Number())),
  /** sha256 of the raw float32 pooled outputs: equal hashes mean bit-identical outputs */
  exactSha256: Type.String(),
});
export type Fingerprint = Static<typeof Fingerprint>;

export const BenchmarkData = Type.Object({
  batchSize: Type.Integer(),
  runs: Type.Integer(),
  warmup: Type.Integer(),
  sentences: Type.Integer(),
  latencyMs: Type.Object({ p50: Type.Number(), p90: Type.Number(), p99: Type.Number(), mean: Type.Number(), min: Type.Number(), max: Type.Number() }),
  sentencesPerS: Type.Number(),
  sizeBytes: Type.Integer(),
  output: Type.String(),
  onnxruntime: Type.String(),
  /** the model is a generated random-weight model (config.json edgeprobe_demo) */
  demoModel: Type.Boolean(),
  fingerprint: Fingerprint,
});
export type BenchmarkData = Static<typeof BenchmarkData>;

function pickOutput(names: readonly string[]): string {
  return names.includes('last_hidden_state') ? 'last_hidden_state' : names[0];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) { resolve(); return; }
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

/**
 * The minimal FP32-or-any-variant benchmark: per batch size, latency percentiles over `runs` timed
 * inferences, plus a fingerprint of the outputs (same on every device for the same model, variant and
 * inputs; the report compares them across devices).
 */
export const benchmarkRunner: ProbeRunner = async function* benchmark(ctx: ProbeContext): AsyncIterable<ProbeRecord> {
  const s = benchmarkSettings(ctx.plan);
  const session = await createSession(ctx.variant.onnxPath, `${ctx.modelName}/${ctx.variant.name}`);
  const output = pickOutput(session.outputNames);
  const tok = ctx.model.tokenizer;
  const ids = s.sentences.map((t) => tok.encode(t).ids);
  const nonFinite = { count: 0 };

  // fingerprint: batch 1 per sentence, so padding never enters the pooled vectors
  const fpStart = performance.now();
  let proj: RandomProjection | undefined; // built once the output width is known
  const vectors: number[][] = [];
  const pooledBytes: Uint8Array[] = [];
  for (const seq of ids.slice(0, FINGERPRINT_SENTENCES)) {
    const { feeds } = bertFeeds(session.inputNames, [seq], tok.padId);
    const out = tensorFloats((await session.run(feeds))[output]);
    const width = out.length / seq.length;
    for (const x of out) if (!Number.isFinite(x)) nonFinite.count++;
    const pooled = meanRows(out, width, 0, seq.length);
    if (!proj || proj.width !== width) proj = new RandomProjection(width, FINGERPRINT_DIMS, FINGERPRINT_SEED);
    vectors.push(proj.project(pooled));
    pooledBytes.push(new Uint8Array(pooled.buffer));
  }
  const fingerprint: Fingerprint = {
    method: `mean-pooled ${output}, ${FINGERPRINT_DIMS} seeded Gaussian projections per sentence (seed ${FINGERPRINT_SEED})`,
    inputsSha256: sha256Hex(JSON.stringify(s.sentences.slice(0, FINGERPRINT_SENTENCES))),
    dims: FINGERPRINT_DIMS,
    vectors,
    exactSha256: sha256Hex(Buffer.concat(pooledBytes)),
  };
  const fingerprintS = (performance.now() - fpStart) / 1000;

  for (const [bi, batchSize] of s.batchSizes.entries()) {
    if (ctx.signal.aborted) return;
    if (bi > 0) await sleep(s.cooldownMs, ctx.signal);
    const start = performance.now();
    const batches = Array.from({ length: s.warmup + s.runs }, (_, r) =>
      Array.from({ length: batchSize }, (_, j) => ids[(r * batchSize + j) % ids.length]));
    const latencies: number[] = [];
    for (const [r, batch] of batches.entries()) {
      const { feeds } = bertFeeds(session.inputNames, batch, tok.padId);
      const t0 = performance.now();
      await session.run(feeds);
      if (r >= s.warmup) latencies.push(performance.now() - t0);
    }
    const [p50, p90, p99] = percentiles(latencies, [50, 90, 99]);
    const meanMs = mean(latencies);
    const data: BenchmarkData = {
      batchSize, runs: s.runs, warmup: s.warmup, sentences: s.sentences.length,
      latencyMs: { p50, p90, p99, mean: meanMs, min: Math.min(...latencies), max: Math.max(...latencies) },
      sentencesPerS: (1000 * batchSize) / meanMs,
      sizeBytes: ctx.variant.manifest.bytes,
      output,
      onnxruntime: ORT_VERSION,
      demoModel: ctx.reference.config.demo,
      fingerprint,
    };
    const healthy = nonFinite.count === 0;
    ctx.note(`batch ${batchSize}: p50 ${p50.toFixed(2)} ms`);
    yield {
      recordVersion: 1,
      probe: 'benchmark',
      model: { name: ctx.modelName, sha256: ctx.reference.model.sha256 },
      variant: { name: ctx.variant.name, sha256: ctx.variant.manifest.sha256 },
      verdict: {
        status: healthy ? 'measured' : 'invalid',
        summary: `batch ${batchSize}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms over ${s.runs} runs`,
      },
      health: { ok: healthy, reasons: healthy ? [] : [`${nonFinite.count} non-finite output values`] },
      durationS: (performance.now() - start) / 1000 + (bi === 0 ? fingerprintS : 0),
      createdAt: new Date().toISOString(),
      data,
    };
  }
  await session.release();
};
