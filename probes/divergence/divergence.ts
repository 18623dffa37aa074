import { loadModelDir, type ModelDir } from '../../core/model/model-dir.ts';
import { requireSameReading } from '../../core/model/architecture-guard.ts';
import type { Progress } from '../../core/progress.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { InstrumentedRunner } from '../../core/runtime/instrumented-runner.ts';
import type { Variant } from '../../core/variants/variant-types.ts';
import { DivergenceAccumulator } from './layer-divergence.ts';
import { DEFAULT_JUMP_RULE, findJump, type JumpRule } from './jump-rule.ts';
import { numericGateSweep } from '../../core/runtime/numeric-gate-sweep.ts';
import type { DivergenceData } from './schema.ts';

/** What one variant's divergence record carries before the task agreement is added (schema.ts). */
export type CompareData = Omit<DivergenceData, 'task'>;

export interface CompareOptions {
  batchSize?: number;
  jumpRule?: JumpRule;
  progress?: Progress;
  sweepLengths?: number[];
}

/** Token ids of the sentences, truncated to the model's positions (counted, never silent). */
export function encodeSentences(md: ModelDir, sentences: readonly string[]): { ids: number[][]; truncated: number } {
  let truncated = 0;
  const ids = sentences.map((s) => {
    const e = md.tokenizer.encode(s);
    if (e.truncated) truncated++;
    return e.ids;
  });
  return { ids, truncated };
}

/**
 * Per-layer divergence of each variant from the reference model on the same sentences, the layer where
 * error jumps, and the variant's numeric gate over a sequence-length sweep.
 */
export async function compareVariants(ref: ModelDir, variants: ReadonlyArray<Pick<Variant, 'onnxPath'> & { name: string }>, sentences: readonly string[], opts: CompareOptions = {}): Promise<ProbeRecord[]> {
  const batchSize = opts.batchSize ?? 16;
  const { ids, truncated } = encodeSentences(ref, sentences);
  if (truncated > 0) opts.progress?.warn(`${truncated} sentence(s) longer than ${ref.tokenizer.maxLength} tokens were truncated`);
  // sort by length so batches carry little padding
  const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length);
  const batches: number[][][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize).map((j) => ids[j]));
  const refRunner = await InstrumentedRunner.create(ref);
  const records: ProbeRecord[] = [];
  try {
    for (const variant of variants) {
      const started = performance.now();
      const vmd = loadModelDir(ref.dir, { onnxPath: variant.onnxPath });
      requireSameReading(ref.layers, vmd.layers, variant.name, variant.onnxPath);
      const runner = await InstrumentedRunner.create(vmd);
      const acc = new DivergenceAccumulator(ref.layers.layers);
      try {
        for (let b = 0; b < batches.length; b++) {
          acc.add(await refRunner.run(batches[b]), await runner.run(batches[b]));
          opts.progress?.step(`compare ${variant.name}`, b + 1, batches.length);
        }
      } finally {
        await runner.release();
      }
      const layers = acc.result();
      const jump = findJump(layers.map((l) => l.relativeL2), opts.jumpRule ?? DEFAULT_JUMP_RULE);
      const gate = await numericGateSweep(vmd, { fp16Compute: variant.name === 'fp16', lengths: opts.sweepLengths });
      const last = layers[layers.length - 1];
      const data: CompareData = { reference: ref.model.sha256, sentences: sentences.length, truncatedSentences: truncated, layers, jump, numericGate: gate };
      const where = jump.jumpLayer === null ? `error grows evenly (worst increase at layer ${jump.worstLayer})` : `error jumps at layer ${jump.jumpLayer}`;
      records.push({
        recordVersion: 2,
        probe: 'divergence',
        model: { name: ref.name, sha256: ref.model.sha256 },
        variant: { name: variant.name, sha256: vmd.model.sha256 },
        verdict: {
          status: gate.ok ? 'measured' : 'invalid',
          summary: gate.ok
            ? `${where}; last layer cosine ${last.hiddenCosine.toFixed(4)}, relative L2 ${last.relativeL2.toFixed(4)}`
            : `numeric gate failed: ${gate.points.filter((p) => !p.ok).map((p) => `seq ${p.seqLen}: ${p.problems[0]}`).join('; ')}`,
          layers: jump.jumpLayer === null ? [jump.worstLayer] : [jump.jumpLayer],
        },
        numericGate: { ok: gate.ok, reasons: gate.points.flatMap((p) => p.problems.map((x) => `seq ${p.seqLen}: ${x}`)) },
        durationS: (performance.now() - started) / 1000,
        createdAt: new Date().toISOString(),
        data,
      });
    }
  } finally {
    await refRunner.release();
  }
  return records;
}
