import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compareVariants, encodeSentences, type CompareData } from './divergence.ts';
import { nextTokenAgreement } from './next-token.ts';
import { classificationAgreement, fillMaskAgreement, fillMaskItemsFromSentences, readFillMaskItems, taskKind, type TaskAgreement } from './task-eval.ts';
import { builtInCorpus } from '../../core/corpus/sentence-corpus.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ProbeRunner } from '../../core/probes/contract.ts';
import type { DivergenceData, ResolvedDivergenceSettings } from './schema.ts';
import { asFleetRecord } from '../../agent/jobs/fleet-record.ts';

/**
 * The 'divergence' probe for one compressed variant: per-layer divergence from fp32, the jump layer,
 * the numeric gate sweep, and, for a model with a task head, task-output agreement with fp32 in the
 * same record (one row per device x variant in the report). fp32 is the reference and yields no record.
 */
export const divergenceRunner: ProbeRunner<ResolvedDivergenceSettings> = async function* divergence(ctx) {
  if (ctx.variant.name === 'fp32') { ctx.note('divergence: fp32 is the reference, nothing to compare'); return; }
  const c = ctx.settings;
  const sentences = builtInCorpus(c.seed, c.sentences).sentences;
  const [record] = await compareVariants(ctx.reference, [ctx.variant], sentences);
  const task = await taskAgreement(ctx.reference, ctx.variant, sentences, c);
  const data: DivergenceData = { ...(record.data as CompareData), ...(task ? { task } : {}) };
  const ppl = task?.perplexity !== undefined && task.perplexityFp32 !== undefined ? `, perplexity ${task.perplexityFp32.toFixed(2)} -> ${task.perplexity.toFixed(2)}` : '';
  const taskNote = task ? `; ${task.task} top-1 agreement ${task.top1Agreement.toFixed(3)}${task.top1Accuracy === null ? '' : `, accuracy ${task.top1Accuracy.toFixed(3)}`}${ppl} on ${task.items} items` : '';
  yield asFleetRecord({ ...record, verdict: { ...record.verdict, summary: `${record.verdict.summary}${taskNote}`.slice(0, 2000) }, data }, ctx);
};

async function taskAgreement(ref: ModelDir, variant: { name: string; onnxPath: string }, sentences: string[], c: ResolvedDivergenceSettings): Promise<TaskAgreement | undefined> {
  const kind = taskKind(ref);
  if (kind === 'fill-mask' && c.fillMaskItems > 0) {
    const file = join(ref.dir, 'fill_mask_eval.jsonl');
    const items = existsSync(file) ? readFillMaskItems(file, ref, c.fillMaskItems) : fillMaskItemsFromSentences(ref, sentences, c.fillMaskItems);
    return items.length > 0 ? (await fillMaskAgreement(ref, [variant], items))[0] : undefined;
  }
  if (kind === 'classification') return (await classificationAgreement(ref, [variant], sentences))[0];
  if (kind === 'next-token') return (await nextTokenAgreement(ref, [variant], encodeSentences(ref, sentences).ids))[0];
  return undefined;
}
