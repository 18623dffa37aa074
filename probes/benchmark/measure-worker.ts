/**
 * Child process that measures ONE variant, so its peak RSS is that variant's alone (a parent that loaded
 * fp32 first would report fp32's peak for every later variant). Started by measure-in-child.ts over IPC.
 */
import { isEdgeprobeError } from '../../core/errors.ts';
import { loadModelDir } from '../../core/model/model-dir.ts';
import { instrumentModel, hiddenOutput } from '../../core/onnx/instrument.ts';
import { encodeOnnx } from '../../core/onnx/model-io.ts';
import { percentiles, mean } from '../../core/numeric/stats.ts';
import { bertFeeds, tensorFloats } from '../../core/runtime/encoder-runner.ts';
import { createSession, type ort } from '../../core/runtime/ort-session.ts';
import type { BenchmarkSettings, RunConditions } from './schema.ts';
import { ConditionRecorder } from './run-conditions.ts';
import { benchmarkSequence } from './bench-inputs.ts';

export interface WorkerRequest {
  modelDir: string;
  onnxPath: string;
  settings: BenchmarkSettings;
  /** also time the instrumented graph against the plain one, alternating (done for fp32) */
  timeInstrumented: boolean;
  /** fp32 file to time alternately with this variant, for a paired speed-up (unset for fp32 itself) */
  referenceOnnxPath?: string;
  driftSentences: string[];
  /** root of the sysfs tree the board sensors are read from ('/' on a device; a fixture tree in tests) */
  sensorRoot?: string;
}

export interface WorkerResult {
  loadMs: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; queries: number; durationS: number };
  throughput: { batch: number; batches: number; sequencesPerS: number };
  peakRssMB: number;
  baselineRssMB: number;
  /** p50 of plain and instrumented queries run alternately (fp32 only) */
  instrumented?: { plainP50Ms: number; p50Ms: number };
  /** p50 of fp32 and of this variant queried alternately in this process */
  paired?: { referenceP50Ms: number; p50Ms: number };
  /** last hidden state rows of the real tokens of each drift sentence, [tokens, hidden] flattened */
  driftHidden: number[][];
  /** the same rows from the fp32 reference, computed in this process (unset for fp32 itself) */
  referenceDriftHidden?: number[][];
  hidden: number;
  /** name of the exposed tensor the drift rows come from */
  driftOutput: string;
  /** NaN/Inf among this variant's drift rows */
  nonFinite: number;
  /** board temperature, clocks, throttling and power over the measurement */
  conditions: RunConditions;
  /** LATENCY_QUANTILES of the single-stream latencies (ms) */
  latencyQuantilesMs: number[];
}

/** 0, 1/32, ..., 1: 33 quantiles keep a run's latency distribution for the monitoring's two-sample test. */
export const LATENCY_QUANTILES = Array.from({ length: 33 }, (_, i) => (i * 100) / 32);

type Session = ort.InferenceSession;

type Query = { session: Session; feeds: Record<string, ort.Tensor> };

/**
 * Single-stream queries under the LoadGen stopping rule (both the minimum count and the minimum duration
 * are met), the given sessions queried in turn (a, b, a, b, ...); returns ms per query for each. With two
 * sessions, load from other processes hits both alike, so their ratio is far steadier on a shared machine
 * than two runs made one after the other.
 */
async function loadgen(queries: readonly Query[], s: BenchmarkSettings, rec?: ConditionRecorder): Promise<{ samples: number[][]; durationS: number }> {
  for (let i = 0; i < s.warmup; i++) for (const q of queries) await q.session.run(q.feeds);
  const samples = queries.map((): number[] => []);
  const start = performance.now();
  while (samples[0].length < s.minQueries || performance.now() - start < s.minDurationS * 1000) {
    for (let k = 0; k < queries.length; k++) {
      const t = performance.now();
      await queries[k].session.run(queries[k].feeds);
      samples[k].push(performance.now() - t);
    }
    rec?.tick();
  }
  return { samples, durationS: (performance.now() - start) / 1000 };
}

/** p50s of two sessions queried alternately. */
async function alternate(a: Session, feedsA: Record<string, ort.Tensor>, b: Session, feedsB: Record<string, ort.Tensor>, s: BenchmarkSettings, rec: ConditionRecorder): Promise<{ aP50: number; bP50: number }> {
  rec.enter('paired');
  const { samples } = await loadgen([{ session: a, feeds: feedsA }, { session: b, feeds: feedsB }], s, rec);
  return { aP50: percentiles(samples[0], [50])[0], bP50: percentiles(samples[1], [50])[0] };
}

export async function measureVariant(req: WorkerRequest): Promise<WorkerResult> {
  const s = req.settings;
  const baselineRssMB = process.memoryUsage().rss / 2 ** 20;
  const md = loadModelDir(req.modelDir, { onnxPath: req.onnxPath });
  const sessionOpts = { threads: s.threads, executionProviders: [s.executionProvider] };
  const t0 = performance.now();
  const session = await createSession(req.onnxPath, req.onnxPath, sessionOpts);
  const loadMs = performance.now() - t0;
  const seq = benchmarkSequence(md.tokenizer, s.seqLen);
  const single = bertFeeds(session.inputNames, [seq], md.tokenizer.padId, session.inputMetadata).feeds;
  const rec = new ConditionRecorder(req.sensorRoot ?? '/', Math.max(250, (s.minDurationS * 1000) / 16));
  rec.mark('before');
  rec.enter('latency');
  const { samples: [samples], durationS } = await loadgen([{ session, feeds: single }], s, rec);
  const [p50, p90, p99] = percentiles(samples, [50, 90, 99]);
  const batchFeeds = bertFeeds(session.inputNames, Array.from({ length: s.batch }, () => seq), md.tokenizer.padId, session.inputMetadata).feeds;
  await session.run(batchFeeds);
  const minBatches = Math.max(3, Math.ceil(s.minQueries / s.batch));
  let batches = 0;
  rec.enter('throughput');
  const tb = performance.now();
  while (batches < minBatches || performance.now() - tb < (s.minDurationS * 1000) / 2) { await session.run(batchFeeds); batches++; rec.tick(); }
  const sequencesPerS = (batches * s.batch) / ((performance.now() - tb) / 1000);
  // maxRSS is in kilobytes; read before the instrumented and fp32 reference sessions add their memory
  const peakRssMB = process.resourceUsage().maxRSS / 1024;

  const inst = instrumentModel(md.model.proto, req.onnxPath);
  const instSession = await createSession(encodeOnnx(inst.model), `${req.onnxPath} (instrumented)`, sessionOpts);
  let instrumented: WorkerResult['instrumented'];
  if (req.timeInstrumented) {
    const instFeeds = bertFeeds(instSession.inputNames, [seq], md.tokenizer.padId, instSession.inputMetadata).feeds;
    const r = await alternate(session, single, instSession, instFeeds, s, rec);
    instrumented = { plainP50Ms: r.aP50, p50Ms: r.bP50 };
  }
  let paired: WorkerResult['paired'];
  let referenceDriftHidden: number[][] | undefined;
  const lastName = hiddenOutput(inst.layers.layers);
  if (req.referenceOnnxPath) {
    const ref = await createSession(req.referenceOnnxPath, req.referenceOnnxPath, sessionOpts);
    const r = await alternate(ref, bertFeeds(ref.inputNames, [seq], md.tokenizer.padId, ref.inputMetadata).feeds, session, single, s, rec);
    paired = { referenceP50Ms: r.aP50, p50Ms: r.bP50 };
    await ref.release();
    rec.mark('after');
    // fp32's drift rows from this process too, so drift never depends on a record made elsewhere
    const refMd = loadModelDir(req.modelDir, { onnxPath: req.referenceOnnxPath });
    const refInst = instrumentModel(refMd.model.proto, req.referenceOnnxPath);
    const refInstSession = await createSession(encodeOnnx(refInst.model), `${req.referenceOnnxPath} (instrumented)`, sessionOpts);
    referenceDriftHidden = (await driftRows(refInstSession, hiddenOutput(refInst.layers.layers), md, req.driftSentences)).rows;
    await refInstSession.release();
  }
  if (!req.referenceOnnxPath) rec.mark('after');
  const meanMs = mean(samples);
  const { rows: driftHidden, hidden } = await driftRows(instSession, lastName, md, req.driftSentences);
  const nonFinite = driftHidden.reduce((n, row) => n + row.filter((x) => !Number.isFinite(x)).length, 0);
  return {
    loadMs, latencyMs: { p50, p90, p99, mean: meanMs, queries: samples.length, durationS },
    throughput: { batch: s.batch, batches, sequencesPerS }, peakRssMB, baselineRssMB, instrumented, paired, driftHidden, referenceDriftHidden, hidden,
    driftOutput: 'last hidden state', nonFinite, conditions: rec.finish(meanMs), latencyQuantilesMs: percentiles(samples, LATENCY_QUANTILES),
  };
}

/** Last hidden state rows per sentence, one sentence per run so no padding enters the comparison. */
async function driftRows(session: Session, output: string, md: ReturnType<typeof loadModelDir>, sentences: readonly string[]): Promise<{ rows: number[][]; hidden: number }> {
  const rows: number[][] = [];
  let hidden = 0;
  for (const text of sentences) {
    const ids = md.tokenizer.encode(text).ids;
    const out = await session.run(bertFeeds(session.inputNames, [ids], md.tokenizer.padId, session.inputMetadata).feeds);
    hidden = Number(out[output].dims[2]);
    rows.push(Array.from(tensorFloats(out[output])));
  }
  return { rows, hidden };
}

// The IPC channel closes when the parent (the agent or the CLI) dies, even by SIGKILL: nobody will read
// the result, and a worker left running would keep loading the CPU the next measurement is made on.
process.on('disconnect', () => process.exit(1));

process.on('message', (msg: WorkerRequest) => {
  measureVariant(msg).then(
    (result) => { process.send?.({ ok: true, result }, () => process.exit(0)); },
    (err: unknown) => {
      const e = err as Error;
      const coded = isEdgeprobeError(err) ? { code: err.code, params: err.params } : {};
      process.send?.({ ok: false, error: { message: e.message, ...coded, stack: e.stack } }, () => process.exit(1));
    },
  );
});
