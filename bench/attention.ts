/**
 * Attention probe suite on the shared model: 200 built-in sentences, fp32 + fp16 / int8-dynamic /
 * int8-weight, cascading randomization and shuffled control included. Writes bench/results/attention.json
 * (timing, peak RSS) and bench/results/attention-records.json (the records, for docs/attention.md).
 */
import { performance } from 'node:perf_hooks';
import type { VariantName } from '../core/variants/variant-types.ts';
import { builtInCorpus } from '../core/corpus/sentence-corpus.ts';
import { runAttentionProbe } from '../probes/attention/run-attention-probe.ts';
import { ensureVariants } from '../agent/compress/ensure-variants.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { createProgress } from '../core/progress.ts';
import { SHARED_MODEL } from '../harness/shared-data.ts';
import { writeBenchRecords, writeBenchResult } from './bench-result.ts';

const NAMES: VariantName[] = ['fp16', 'int8-dynamic', 'int8-weight'];
const progress = createProgress('lines');
const md = loadModelDir(SHARED_MODEL);
const t0 = performance.now();
const variants = await ensureVariants(md, NAMES, { progress });
const prepS = (performance.now() - t0) / 1000;
const t1 = performance.now();
const records = await runAttentionProbe(md, { corpus: builtInCorpus(1, 200), variants, seed: 1, progress });
const probeS = (performance.now() - t1) / 1000;
const peakMB = process.resourceUsage().maxRSS / 1024;
writeBenchRecords('attention', records);
writeBenchResult({
  topic: 'attention',
  title: 'Attention probe suite (identifiability, rollout, sanity checks, survival of 3 variants)',
  rows: [
    { metric: 'probe suite wall time (200 sentences, fp32 + 3 variants, randomization + shuffled control)', value: Math.round(probeS * 10) / 10, unit: 's', target: '<= 300 s', pass: probeS <= 300 },
    { metric: 'variant preparation (cached after the first run)', value: Math.round(prepS * 10) / 10, unit: 's' },
    { metric: 'peak RSS', value: Math.round(peakMB), unit: 'MB' },
  ],
  notes: [
    `model ${md.name}; 200 built-in sentences, seed 1; verdicts: ${records.map((r) => `${r.variant.name} = ${r.verdict.status}`).join(', ')}`,
    'probe time covers the fp32 run, 6 cascading-randomization runs, the shuffled-input run, 3 variant runs, the numeric health sweeps and all metrics',
  ],
});
for (const r of records) process.stdout.write(`${r.variant.name}: ${r.verdict.status}: ${r.verdict.summary}\n`);
