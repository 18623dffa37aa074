import type { ModelDir } from '../model/model-dir.ts';
import { numericProblems, tensorNumerics, type TensorNumerics } from '../numeric/numeric-gate.ts';
import { hiddenOutput, attentionOutput, preNormOutput } from '../onnx/instrument.ts';
import { InstrumentedRunner } from './instrumented-runner.ts';

export interface SweepPoint {
  seqLen: number;
  ok: boolean;
  problems: string[];
  /** largest |x| over every exposed tensor at this length */
  maxAbs: number;
}

export interface GateSweep {
  ok: boolean;
  points: SweepPoint[];
  /** lengths the model cannot take (beyond its positions) are left out and listed here */
  skippedLengths: number[];
}

export const DEFAULT_SWEEP_LENGTHS = [8, 32, 128];

/** Numeric state of every tensor an instrumented run exposes (hidden states, attention, LayerNorm inputs). */
export function batchNumerics(raw: Record<string, { data: unknown }>, names: readonly string[]): TensorNumerics[] {
  return names.map((n) => tensorNumerics(n, raw[n].data as Float32Array));
}

/**
 * Runs the model at several sequence lengths (the default set plus the model's maximum) on a filler
 * input made by repeating a real sentence, and checks every exposed tensor. Variants that only break
 * on long inputs (fp16 overflow in late positions, position tables quantised badly) show up here.
 */
export async function numericGateSweep(md: ModelDir, opts: { fp16Compute: boolean; lengths?: number[]; text?: string }): Promise<GateSweep> {
  const max = md.tokenizer.maxLength;
  const wanted = [...new Set([...(opts.lengths ?? DEFAULT_SWEEP_LENGTHS), max])].sort((a, b) => a - b);
  const lengths = wanted.filter((l) => l >= 3 && l <= max);
  const runner = await InstrumentedRunner.create(md, { preNorm: true });
  const base = md.tokenizer.encode(opts.text ?? 'the quick brown fox jumps over the lazy dog near the river bank.').ids.slice(1, -1);
  const names = [
    ...Array.from({ length: runner.layers.layers + 1 }, (_, l) => hiddenOutput(l)),
    ...Array.from({ length: runner.layers.layers }, (_, l) => attentionOutput(l + 1)),
    ...runner.layers.preNorm.map((_, i) => preNormOutput(i)),
  ];
  const points: SweepPoint[] = [];
  try {
    for (const len of lengths) {
      const body = Array.from({ length: len - 2 }, (_, i) => base[i % base.length]);
      const batch = await runner.run([[md.tokenizer.clsId, ...body, md.tokenizer.sepId]]);
      const numerics = batchNumerics(batch.raw, names);
      const problems = numericProblems(numerics, { fp16Compute: opts.fp16Compute });
      points.push({ seqLen: len, ok: problems.length === 0, problems: problems.slice(0, 10), maxAbs: Math.max(...numerics.map((h) => h.maxAbs)) });
    }
  } finally {
    await runner.release();
  }
  return { ok: points.every((p) => p.ok), points, skippedLengths: wanted.filter((l) => !lengths.includes(l)) };
}

/** The record-level numeric gate of a probe result: the probe's own checks joined with the sweep's. */
export function combineGate(own: { ok: boolean; reasons: string[] } | undefined, sweep: GateSweep): { ok: boolean; reasons: string[] } {
  const reasons = [...(own?.reasons ?? []), ...sweep.points.filter((p) => !p.ok).flatMap((p) => p.problems.map((x) => `seq ${p.seqLen}: ${x}`))];
  return { ok: (own?.ok ?? true) && sweep.ok, reasons };
}

/** Runs the sweep on a model file (fp16 variants are judged as if computed in fp16, as on a GPU). */
export async function numericGate(md: ModelDir, variantName: string, own?: { ok: boolean; reasons: string[] }): Promise<{ ok: boolean; reasons: string[] }> {
  return combineGate(own, await numericGateSweep(md, { fp16Compute: variantName === 'fp16' }));
}
