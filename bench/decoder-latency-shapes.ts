/**
 * LATENCY-ONLY decoder shapes of Qwen2.5-0.5B and TinyLlama-1.1B size: the project's seeded decoder generator
 * (core/onnx/decoder-graph.ts, llama family) with those models' widths, heads, MLP and vocabulary, and SEEDED
 * RANDOM WEIGHTS. They have learned nothing: only their latency, size and memory mean anything. Generated here
 * (never in tests, never committed) into the generated-models folder and deleted after the run.
 *
 * Full depth is not generated: the loader reads a model file with one readFileSync (Node's 2 GiB limit) and keeps
 * the decoded graph in memory to build variants, and the generator holds every weight plus the encoded file, so
 * TinyLlama's 4.4 GB fp32 cannot be made or loaded, and Qwen's 1.98 GB would need ~3 copies in one process.
 * Each shape is built with 2 and 4 of its blocks instead; per-block cost is the difference / 2, and the full
 * depth is extrapolated linearly from the 4-block figure (labelled as such in every row).
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DecoderGraphSpec } from '../core/onnx/decoder-graph.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import type { Progress } from '../core/progress.ts';
import type { VariantName } from '../core/variants/variant-types.ts';
import { ensureGeneratedDecoder } from '../models/generated-decoders.ts';
import { GENERATED_DIR } from '../models/generated-models.ts';
import type { BenchmarkData } from '../probes/benchmark/schema.ts';
import { runBenchmark } from '../probes/benchmark/run-benchmark.ts';
import type { BenchRow } from './bench-result.ts';

export const LATENCY_SHAPE_PREFIX = 'latency-only shape ';

interface LatencyShape { name: string; fullLayers: number; spec: Partial<DecoderGraphSpec> }

/** The published configs' sizes (config.json of Qwen/Qwen2.5-0.5B and TinyLlama/TinyLlama-1.1B-Chat-v1.0). */
const SHAPES: LatencyShape[] = [
  { name: 'qwen2.5-0.5b', fullLayers: 24, spec: { hidden: 896, heads: 14, kvHeads: 2, intermediate: 4864, vocabSize: 151_936, tieEmbeddings: true, attentionBias: true } },
  { name: 'tinyllama-1.1b', fullLayers: 22, spec: { hidden: 2048, heads: 32, kvHeads: 4, intermediate: 5632, vocabSize: 32_000 } },
];
const LAYERS = [2, 4] as const;
const VARIANTS: VariantName[] = ['fp32', 'int8-dynamic', 'int4-weight'];

export const LATENCY_SHAPE_NOTES = [
  `${LATENCY_SHAPE_PREFIX}rows: Qwen2.5-0.5B size (hidden 896, 14 query / 2 K/V heads, SwiGLU 4864, vocab 151,936, tied embeddings, q/k/v bias) and TinyLlama-1.1B size (hidden 2048, 32 / 4 heads, SwiGLU 5632, vocab 32,000), RMSNorm and rotary, SEEDED RANDOM WEIGHTS: latency, size and memory only, no accuracy meaning`,
  `${LATENCY_SHAPE_PREFIX}rows are measured with ${LAYERS.join(' and ')} blocks (rotary table for 128 positions); "full depth, extrapolated" = the ${LAYERS[1]}-block figure + (L - ${LAYERS[1]}) x the per-block difference; peak RSS is of the child that measured the variant (it holds the decoded graph and the session)`,
  `${LATENCY_SHAPE_PREFIX}figures were measured UNDER LOAD (other jobs on the 2 cores): see the load-average and CPU-second rows beside the wall times`,
  `${LATENCY_SHAPE_PREFIX}full-depth latency is given only where the 4- and 2-block p50s differ by more than the runs' p90 - p50 spread (extrapolateLatencyShapes); full-depth size always`,
];

/** CPU seconds of this process and its waited-for children (the benchmark measures in child processes). */
function cpuWithChildrenS(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // after the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based); clock ticks of 1/100 s
  return [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i]), 0) / 100;
}

export async function latencyShapeRows(progress?: Progress): Promise<{ rows: BenchRow[]; notes: string[] }> {
  const rows: BenchRow[] = [];
  const row = (metric: string, value: number, unit: string): void => { rows.push({ metric: LATENCY_SHAPE_PREFIX + metric, value: Number(value.toFixed(4)), unit }); };
  for (const shape of SHAPES) {
    for (const layers of LAYERS) {
      const tag = `${shape.name} (${layers} of ${shape.fullLayers} blocks)`;
      const dir = join(GENERATED_DIR, `latency-${shape.name}-${layers}`);
      try {
        const w0 = performance.now();
        const c0 = cpuWithChildrenS();
        ensureGeneratedDecoder('llama-demo', { dir, overrides: { ...shape.spec, layers, maxPositions: 128, seed: 61, name: `edgeprobe-latency-only-${shape.name}-${layers}-blocks` } });
        row(`${tag} generation, wall`, (performance.now() - w0) / 1000, 's');
        row(`${tag} generation CPU`, cpuWithChildrenS() - c0, 's');
        const md = loadModelDir(dir);
        const load0 = loadavg()[0];
        const w1 = performance.now();
        const c1 = cpuWithChildrenS();
        const recs = await runBenchmark(md, VARIANTS, { outDir: join(dir, 'variants'), seqLen: 128, batch: 1, warmup: 2, minQueries: 6, minDurationS: 1, progress });
        row(`${tag} variants + benchmark of ${VARIANTS.length} variants, wall`, (performance.now() - w1) / 1000, 's');
        row(`${tag} variants + benchmark, CPU (this process and its children)`, cpuWithChildrenS() - c1, 's');
        row(`${tag} 1-minute load average before / after the benchmark: before`, load0, 'load');
        row(`${tag} 1-minute load average after`, loadavg()[0], 'load');
        for (const r of recs) {
          const d = r.data as BenchmarkData;
          const v = r.variant.name;
          row(`${tag} ${v} prefill p50 at 128 tokens (under load)`, d.latencyMs.p50, 'ms');
          row(`${tag} ${v} prefill p90 at 128 tokens (under load, ${d.latencyMs.queries} queries)`, d.latencyMs.p90, 'ms');
          if (v !== 'fp32') row(`${tag} ${v} speed-up vs fp32 (queried alternately)`, d.speedupVsFp32, 'x');
          row(`${tag} ${v} size`, d.sizeBytes / 1e6, 'MB');
          row(`${tag} ${v} peak RSS of the measuring process`, d.peakRssMB, 'MB');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const extrapolated = extrapolateLatencyShapes(rows);
  return { rows: [...rows, ...extrapolated.rows], notes: extrapolated.notes };
}

const value = (rows: readonly BenchRow[], metric: string): number | undefined => rows.find((r) => r.metric === LATENCY_SHAPE_PREFIX + metric)?.value;

/**
 * Full-depth figures from the measured 2- and 4-block rows: size always (it is linear in the blocks; the check is
 * that it lands on the published models' sizes), latency only when the 4-block p50 exceeds the 2-block one by more
 * than either run's p90 - p50 spread. Under heavy load the difference of two wall-time p50s is often smaller than
 * that noise (even negative), and an extrapolation from it would be a number with no meaning: it is withheld and
 * a note says so. Works on stored rows too (`bench/decoders.ts --part extrapolate`), so the rule can change
 * without a 30-minute rerun.
 */
export function extrapolateLatencyShapes(measured: readonly BenchRow[]): { rows: BenchRow[]; notes: string[] } {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const row = (metric: string, v: number, unit: string): void => { rows.push({ metric: LATENCY_SHAPE_PREFIX + metric, value: Number(v.toFixed(4)), unit }); };
  const [a, b] = LAYERS;
  for (const shape of SHAPES) {
    const tag = (layers: number): string => `${shape.name} (${layers} of ${shape.fullLayers} blocks)`;
    for (const v of VARIANTS) {
      const [t2, t4] = [a, b].map((l) => value(measured, `${tag(l)} ${v} prefill p50 at 128 tokens (under load)`));
      const [q2, q4] = [a, b].map((l) => measured.find((r) => r.metric.startsWith(`${LATENCY_SHAPE_PREFIX}${tag(l)} ${v} prefill p90 at 128 tokens`))?.value);
      const [s2, s4] = [a, b].map((l) => value(measured, `${tag(l)} ${v} size`));
      if (t2 === undefined || t4 === undefined || q2 === undefined || q4 === undefined || s2 === undefined || s4 === undefined) continue;
      row(`${shape.name} ${v} size, full depth ${shape.fullLayers} blocks, extrapolated`, s4 + (shape.fullLayers - b) * ((s4 - s2) / (b - a)), 'MB');
      const perBlock = (t4 - t2) / (b - a);
      const noise = Math.max(q2 - t2, q4 - t4);
      if (t4 - t2 > noise) {
        row(`${shape.name} ${v} prefill per block at 128 tokens (difference of ${b} and ${a} blocks, under load)`, perBlock, 'ms');
        row(`${shape.name} ${v} prefill p50 at 128 tokens, full depth ${shape.fullLayers} blocks, extrapolated (under load)`, t4 + (shape.fullLayers - b) * perBlock, 'ms');
      } else {
        notes.push(`${LATENCY_SHAPE_PREFIX}${shape.name} ${v}: no full-depth latency: the ${b}-block p50 (${t4.toFixed(0)} ms) minus the ${a}-block p50 (${t2.toFixed(0)} ms) is ${(t4 - t2).toFixed(0)} ms, within the runs' p90 - p50 spread (${noise.toFixed(0)} ms) under this load`);
      }
    }
  }
  return { rows, notes };
}
