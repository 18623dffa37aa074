import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CompareData } from '../probes/divergence/divergence.ts';
import type { TaskAgreement } from '../probes/divergence/task-eval.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark } from '../probes/benchmark/run-benchmark.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import { runAttentionProbe } from '../probes/attention/run-attention-probe.ts';
import { runPropertiesProbes } from '../probes/properties/properties-probe.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { PROJECT_ROOT, SHARED_MLM_MODEL } from '../harness/shared-data.ts';
import { writeBenchResult, type BenchRow } from './bench-result.ts';

/**
 * Issue 11's table on the shared masked-LM model: per variant, fill-mask accuracy and agreement with fp32,
 * the worst layer, latency and size ratios, and the explanation verdicts. Also times the `compare` command
 * itself (three variants, fill-mask on every item) in its own process, for its peak RSS.
 */
const VARIANTS = ['fp16', 'int8-dynamic', 'int8-weight'] as const;
const progress = createProgress('lines');
if (!existsSync(join(SHARED_MLM_MODEL, 'model.onnx'))) throw new Error(`needs ${SHARED_MLM_MODEL}`);
const md = loadModelDir(SHARED_MLM_MODEL);
await ensureVariants(md, [...VARIANTS], { progress }); // built once up front so the timed command measures comparing, not compressing

progress.info('compare command (3 variants, 64 sentences, 1000 fill-mask items) in a child process');
const t0 = performance.now();
const run = spawnSync('/usr/bin/time', ['-f', 'EDGEPROBE_MAXRSS_KB=%M', process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'cli', 'main.ts'),
  'divergence', SHARED_MLM_MODEL, '--json', '--sentences', '64', '--fill-mask-items', '1000'], { encoding: 'utf8', maxBuffer: 64 << 20 });
const compareS = (performance.now() - t0) / 1000;
if (run.status !== 0) throw new Error(`compare failed: ${run.stderr}`);
const compareRssMB = Number(/EDGEPROBE_MAXRSS_KB=(\d+)/.exec(run.stderr)?.[1] ?? NaN) / 1024;
const resultLine = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; result?: { records: ProbeRecord[]; task: TaskAgreement[] } }).filter((l) => l.type === 'result').pop();
const { records: compareRecords, task } = resultLine!.result!;

progress.info('benchmark: latency and size ratios');
const bench = await runBenchmark(md, ['fp32', ...VARIANTS], { minQueries: 50, minDurationS: 3, seqLen: 128, progress });
progress.info('attention probe on 100 built-in sentences');
const variants = await ensureVariants(md, [...VARIANTS]);
const attention = await runAttentionProbe(md, { corpus: builtInCorpus(1, 100), variants, seed: 1, sanityChecks: true, progress });
progress.info('properties probe: McRae and Binder, static embeddings and the last layer, every variant');
const properties = await runPropertiesProbes({ md, norms: ['mcrae', 'binder'], variants: ['fp32', ...VARIANTS], layers: 'static,6', progress });

const byVariant = <T extends { variant: { name: string } }>(rs: T[], v: string): T | undefined => rs.find((r) => r.variant.name === v);
const rows = ['fp32', ...VARIANTS].map((v) => {
  const t = task.find((x) => x.variant === v);
  const c = byVariant(compareRecords, v);
  const b = byVariant(bench, v)?.data as BenchmarkData | undefined;
  const a = byVariant(attention, v);
  const cd = c?.data as CompareData | undefined;
  return {
    variant: v,
    top1Accuracy: t?.top1Accuracy ?? null,
    top1Agreement: t?.top1Agreement ?? null,
    top5Agreement: t?.top5Agreement ?? null,
    worstLayer: cd ? cd.jump.worstLayer : null,
    jumpLayer: cd ? cd.jump.jumpLayer : null,
    lastLayerCosine: cd ? cd.layers[cd.layers.length - 1].hiddenCosine : null,
    latencyRatio: b ? 1 / b.speedupVsFp32 : null,
    sizeRatio: b?.sizeRatio ?? null,
    attention: a ? a.verdict.status : null,
    properties: properties.filter((r) => r.variant.name === v).map((r) => `${(r.data as { normSet: { name: string } }).normSet.name} ${r.verdict.status}`).join(', ') || null,
    numericGate: c ? (c.numericGate?.ok ? 'ok' : 'invalid') : 'ok',
  };
});

const f = (x: number | null, d = 3): string => (x === null ? '-' : x.toFixed(d));
const table = [
  '| variant | fill-mask top-1 acc | top-1 agree | top-5 agree | worst layer | jump layer | last-layer cos | latency vs fp32 | size vs fp32 | attention | properties | numeric gate |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|',
  ...rows.map((r) => `| ${r.variant} | ${f(r.top1Accuracy)} | ${f(r.top1Agreement)} | ${f(r.top5Agreement)} | ${r.worstLayer ?? '-'} | ${r.jumpLayer ?? 'none'} | ${f(r.lastLayerCosine, 4)} | ${f(r.latencyRatio, 2)}x | ${f(r.sizeRatio, 2)}x | ${r.attention ?? '-'} | ${r.properties ?? '-'} | ${r.numericGate} |`),
].join('\n');
const docPath = join(PROJECT_ROOT, 'docs', 'compare.md');
const doc = readFileSync(docPath, 'utf8');
writeFileSync(docPath, doc.replace(/<!-- table:start -->[\s\S]*<!-- table:end -->/, `<!-- table:start -->\n${table}\n\n_${new Date().toISOString().slice(0, 10)}, ${task[0]?.items ?? 0} fill-mask items, 64 sentences for divergence, 100 for attention (fp32: token-relation verdict with sanity checks; variants: survival against fp32), properties on McRae and Binder with static embeddings and layer 6; written by \`npm run bench -- variant-matrix\`._\n<!-- table:end -->`));

const int8 = rows.find((r) => r.variant === 'int8-dynamic')!;
const benchRows: BenchRow[] = [
  { metric: 'compare command: 3 variants, 64 sentences + 1000 fill-mask items, wall time', value: compareS, unit: 's' },
  { metric: 'compare command peak RSS', value: compareRssMB, unit: 'MB' },
  { metric: 'int8-dynamic fill-mask top-1 agreement with fp32', value: int8.top1Agreement ?? NaN, unit: 'fraction', target: '>= 0.95', pass: (int8.top1Agreement ?? 0) >= 0.95 },
  { metric: 'int8-dynamic size vs fp32 (MLM model)', value: int8.sizeRatio ?? NaN, unit: 'x', target: '<= 0.30', pass: (int8.sizeRatio ?? 1) <= 0.3 },
  ...rows.map((r) => ({ metric: `${r.variant} latency vs fp32 (seq 128)`, value: r.latencyRatio ?? NaN, unit: 'x' })),
];
writeBenchResult({
  topic: 'variant-matrix', title: 'Where compression bites (shared masked-LM model)', rows: benchRows,
  notes: ['Table per variant in docs/compare.md.', 'The machine is shared with other work while this runs; latency ratios come from fp32 and the variant queried alternately in one process.'],
});
console.log(table);
