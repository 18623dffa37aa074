import type { Argv } from 'yargs';
import type { BenchmarkData } from '../../probes/benchmark/schema.ts';
// a constants-only module (no imports of its own): the option help lists the variant names
import { VARIANT_NAMES } from '../../core/variants/variant-types.ts';
import { epError } from '../../core/errors.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { emitResult, progressFor, textTable } from '../output.ts';
import { USER_VARIANT_OPTION, referenceAndUserVariants } from './user-variant-option.ts';
import { VARIANT_SETTINGS_OPTIONS, variantSettingsFromArgs } from './variant-settings-option.ts';

export function benchCommand(y: Argv): Argv {
  return y.command('bench <model>', 'benchmark variants of a model: load time, latency p50/p90/p99, throughput, peak RSS, size, drift vs fp32', (c) => c
    .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files)' })
    .option('variants', { type: 'string', default: 'fp32,fp16,int8-dynamic,int8-weight', describe: `comma list of: ${VARIANT_NAMES.join(', ')} (fp32 is always measured as the reference)` })
    .option('seq-len', { type: 'number', default: 128, describe: 'tokens per query' })
    .option('min-queries', { type: 'number', default: 100, describe: 'single-stream: at least this many timed queries...' })
    .option('min-duration-s', { type: 'number', default: 5, describe: '...and at least this many seconds (LoadGen style: both must be met)' })
    .option('batch', { type: 'number', default: 8, describe: 'batch size for the throughput run' })
    .option('warmup', { type: 'number', default: 5, describe: 'untimed queries before timing' })
    .option('ep', { type: 'string', default: 'cpu', choices: ['cpu', 'cuda', 'tensorrt'], describe: 'onnxruntime execution provider (cuda/tensorrt also make fp16 compute in fp16)' })
    .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads (default: all cores)' })
    .option('out', { type: 'string', describe: 'where variants are written (default: the edgeprobe cache)' })
    .option('variant', USER_VARIANT_OPTION)
    .options(VARIANT_SETTINGS_OPTIONS),
  async (args) => {
    // loaded here, not at the top: other commands (the agent above all) should not carry onnxruntime and the compressor
    const { runBenchmark } = await import('../../probes/benchmark/run-benchmark.ts');
    const { parseVariantNames } = await import('../../agent/compress/ensure-variants.ts');
    const { loadModelDir } = await import('../../core/model/model-dir.ts');
    const names = parseVariantNames(args.variants as string);
    const variantSettings = variantSettingsFromArgs(args);
    const positive = (flag: string, v: unknown, min: number): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw epError('EP_FLAG_OUT_OF_RANGE', { flag, range: `a number >= ${min}`, value: String(v), example: String(Math.max(min, 1)) });
      return v;
    };
    const settings = {
      seqLen: Math.round(positive('seq-len', args.seqLen, 2)),
      minQueries: Math.round(positive('min-queries', args.minQueries, 1)),
      minDurationS: positive('min-duration-s', args.minDurationS, 0),
      batch: Math.round(positive('batch', args.batch, 1)),
      warmup: Math.round(positive('warmup', args.warmup, 0)),
      executionProvider: args.ep as string,
      threads: args.threads === undefined ? undefined : Math.round(positive('threads', args.threads, 1)),
    };
    const md = loadModelDir(args.model as string);
    const userVariants = await referenceAndUserVariants(md, args.variant);
    const progress = progressFor({ json: args.json as boolean });
    const records = await runBenchmark(md, names, { ...settings, outDir: args.out as string | undefined, progress, userVariants, variantSettings });
    progress.done();
    const { speedPhrase } = await import('../../probes/benchmark/schema.ts');
    emitResult({ json: args.json as boolean }, records, () => renderBenchmark(md.name, records, speedPhrase));
  });
}

export function renderBenchmark(model: string, records: ProbeRecord[], speedPhrase: (speedup: number) => string): string {
  const rows = records.map((r) => r.data as BenchmarkData);
  const s = rows[0].settings;
  const table = textTable([
    ['variant', 'MB', 'size x', 'load ms', 'p50 ms', 'p90 ms', 'p99 ms', `seq/s @${s.batch}`, 'peak RSS MB', 'pooled cos', 'max |dh|', 'vs fp32'],
    ...rows.map((d) => [d.variant, d.sizeBytes / 1e6, d.sizeRatio, d.loadMs, d.latencyMs.p50, d.latencyMs.p90, d.latencyMs.p99, d.throughput.sequencesPerS, d.peakRssMB,
      d.drift ? d.drift.pooledCosineMin : '-', d.drift ? d.drift.maxAbsDiffLastHidden : '-', d.drift ? speedPhrase(d.speedupVsFp32) : 'reference']),
  ]);
  const inst = rows[0].instrumented;
  return [
    `${model}: seq len ${s.seqLen}, >= ${s.minQueries} queries and >= ${s.minDurationS}s per variant, ${s.executionProvider} EP`,
    table,
    inst ? `instrumented fp32 p50 ${inst.p50Ms.toFixed(2)} ms = ${inst.ratioToPlain.toFixed(2)}x plain fp32` : '',
    ...rows.filter((d) => d.variant !== 'fp32').map((d) => `${d.variant}: ${d.compute}`),
  ].join('\n');
}
