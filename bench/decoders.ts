/**
 * Decoder-only LMs (docs/decoders.md): prefill latency per variant at 128 tokens for the generated GPT-2 and
 * Llama shapes, next-token agreement and perplexity change per variant on the built-in corpus, and the
 * induction probe's time on the planted model with every variant (part `small`, about 2 minutes on 2 cores);
 * then LATENCY-ONLY shapes of Qwen2.5-0.5B and TinyLlama-1.1B size with seeded random weights (part
 * `latency-shapes`, bench/decoder-latency-shapes.ts). Writes bench/results/decoders.json; `--part small` or
 * `--part latency-shapes` reruns one part and keeps the other part's rows; `--part extrapolate` derives the
 * full-depth rows again from the stored latency-shape measurements.
 * `npx tsx bench/decoders.ts [--part small|latency-shapes|extrapolate]`.
 */
import { performance } from 'node:perf_hooks';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import type { VariantName } from '../core/variants/variant-types.ts';
import { ensureGeneratedDecoder } from '../models/generated-decoders.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark } from '../probes/benchmark/run-benchmark.ts';
import { encodeSentences } from '../probes/divergence/divergence.ts';
import { nextTokenAgreement } from '../probes/divergence/next-token.ts';
import type { InductionData } from '../probes/induction/schema.ts';
import { runInductionProbe } from '../probes/induction/run-induction.ts';
import { resolveInductionSettings } from '../probes/induction/schema.ts';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, writeBenchResult, type BenchResult, type BenchRow } from './bench-result.ts';
import { extrapolateLatencyShapes, latencyShapeRows, LATENCY_SHAPE_PREFIX, LATENCY_SHAPE_NOTES } from './decoder-latency-shapes.ts';

const progress = createProgress(process.stderr.isTTY ? 'tty' : 'lines');
const rows: BenchRow[] = [];
const row = (metric: string, value: number, unit: string): void => { rows.push({ metric, value: Number(value.toFixed(4)), unit }); };
const cpuS = (since: NodeJS.CpuUsage): number => { const u = process.cpuUsage(since); return (u.user + u.system) / 1e6; };
const VARIANTS: VariantName[] = ['fp16', 'int8-dynamic', 'int8-weight', 'int4-weight'];

const partArg = process.argv.indexOf('--part');
const part = partArg >= 0 ? process.argv[partArg + 1] : 'all';
if (!['all', 'small', 'latency-shapes', 'extrapolate'].includes(part)) throw new Error(`--part must be small, latency-shapes or extrapolate, not ${part}`);
const resultPath = join(RESULTS_DIR, 'decoders.json');
const previous: BenchResult | undefined = part !== 'all' && existsSync(resultPath) ? JSON.parse(readFileSync(resultPath, 'utf8')) as BenchResult : undefined;
const isShapeRow = (r: BenchRow): boolean => r.metric.startsWith(LATENCY_SHAPE_PREFIX);
let inductionNote = previous?.notes.find((n) => n.startsWith('induction verdicts')) ?? '';

if (part === 'all' || part === 'small') {
  for (const shape of ['gpt2-demo', 'llama-demo'] as const) {
    const md = loadModelDir(ensureGeneratedDecoder(shape));
    const recs = await runBenchmark(md, ['fp32', ...VARIANTS], { seqLen: 128, batch: 1, warmup: 5, minQueries: 40, minDurationS: 2, progress });
    for (const r of recs) {
      const d = r.data as BenchmarkData;
      row(`${shape} ${r.variant.name} prefill p50 at 128 tokens`, d.latencyMs.p50, 'ms');
      if (r.variant.name !== 'fp32') row(`${shape} ${r.variant.name} speed-up vs fp32 (queried alternately)`, d.speedupVsFp32, 'x');
    }
    const variants = await ensureVariants(md, VARIANTS);
    const t0 = process.cpuUsage();
    const agreement = await nextTokenAgreement(md, variants, encodeSentences(md, builtInCorpus(1, 64).sentences).ids);
    for (const a of agreement) {
      row(`${shape} ${a.variant} next-token top-1 agreement with fp32`, a.top1Agreement, 'share');
      row(`${shape} ${a.variant} next-token top-5 agreement with fp32`, a.top5Agreement, 'share');
      row(`${shape} ${a.variant} perplexity change vs fp32 (${a.perplexityFp32!.toFixed(1)})`, a.perplexity! - a.perplexityFp32!, 'ppl');
    }
    row(`${shape} next-token agreement of ${VARIANTS.length} variants (64 sentences), CPU`, cpuS(t0), 's');
  }

  const planted = loadModelDir(ensureGeneratedDecoder('gpt2-induction'));
  const variants = await ensureVariants(planted, VARIANTS);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const records = await runInductionProbe(planted, variants, resolveInductionSettings());
  row(`induction probe, gpt2-induction, fp32 + ${VARIANTS.length} variants (16 x 2 x 20 tokens), wall`, (performance.now() - t1) / 1000, 's');
  row('induction probe, same run, CPU', cpuS(c1), 's');
  for (const r of records) row(`gpt2-induction ${r.variant.name} planted head L2H2 induction score`, (r.data as InductionData).scores[1][2], 'score');
  inductionNote = `induction verdicts: ${records.map((r) => `${r.variant.name} = ${r.verdict.status}`).join(', ')}; the planted head's margin is large, so its survival says nothing about a trained GPT-2`;
} else rows.push(...previous?.rows.filter((r) => !isShapeRow(r)) ?? []);

const shapeNotes: string[] = [];
if (part === 'all' || part === 'latency-shapes') {
  const shapes = await latencyShapeRows(progress);
  rows.push(...shapes.rows);
  shapeNotes.push(...shapes.notes);
} else if (part === 'extrapolate') {
  // the stored measurements, full-depth rows derived again (the rule changed, not the measurements)
  const measured = previous?.rows.filter((r) => isShapeRow(r) && !/full depth|per block/.test(r.metric)) ?? [];
  const derived = extrapolateLatencyShapes(measured);
  rows.push(...measured, ...derived.rows);
  shapeNotes.push(...derived.notes, `${LATENCY_SHAPE_PREFIX}measured ${previous?.when ?? '?'}; full-depth rows derived from them again by --part extrapolate`);
} else rows.push(...previous?.rows.filter(isShapeRow) ?? []);
if (part === 'small') shapeNotes.push(...previous?.notes.filter((n) => n.startsWith(LATENCY_SHAPE_PREFIX) && !LATENCY_SHAPE_NOTES.includes(n)) ?? []);

writeBenchResult({
  topic: 'decoders',
  title: 'Decoder-only LMs (generated shapes): prefill latency, next-token agreement, induction probe',
  rows,
  notes: [
    'gpt2-demo and llama-demo are small random-weight shapes (hidden 64, 4 layers): latency shows the graph overhead of each variant, not a real LM\'s; perplexity is near the vocabulary size (552)',
    inductionNote,
    'the machine is shared with other jobs while this ran: absolute ms are noisy, CPU seconds less so',
    ...LATENCY_SHAPE_NOTES,
    ...shapeNotes,
  ],
});
progress.done();
for (const r of rows) process.stdout.write(`${r.metric}: ${r.value} ${r.unit}\n`);
