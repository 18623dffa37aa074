import { benchmarkVariant, resolveSettings } from './run-benchmark.ts';
import type { ProbeRunner } from '../../core/probes/contract.ts';
import type { ResolvedBenchmarkSettings } from './schema.ts';
import { asFleetRecord, sleep } from '../../agent/jobs/fleet-record.ts';

/**
 * The fleet's 'benchmark' probe is probes/benchmark's benchmark (the one `edgeprobe bench` runs): each record
 * is measured in a child process, with LoadGen-style single-stream latency, size, drift and paired
 * speed-up against fp32, and the output fingerprint the report compares across devices. One record
 * per plan batch size, so a long benchmark resumes where it stopped.
 */
export const benchmarkRunner: ProbeRunner<ResolvedBenchmarkSettings> = async function* benchmark(ctx) {
  const s = ctx.settings;
  for (const [i, batch] of s.batchSizes.entries()) {
    if (ctx.signal.aborted) return;
    if (i > 0) await sleep(s.cooldownMs, ctx.signal);
    const settings = resolveSettings(ctx.reference, { seqLen: s.seqLen, warmup: s.warmup, minQueries: s.minQueries, minDurationS: s.minDurationS, batch, threads: s.threads, executionProvider: 'cpu' });
    const record = await benchmarkVariant(ctx.reference, ctx.variant, ctx.fp32, settings, s.sentences);
    ctx.note(`batch ${batch}: ${record.verdict.summary}`);
    yield asFleetRecord(record, ctx);
  }
};
