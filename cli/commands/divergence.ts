import { existsSync } from 'node:fs';
import type { Argv } from 'yargs';
import type { CompareData } from '../../probes/divergence/divergence.ts';
import type { TaskAgreement } from '../../probes/divergence/task-eval.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { emitResult, progressFor, textTable } from '../output.ts';
import { USER_VARIANT_OPTION, referenceAndUserVariants } from './user-variant-option.ts';
import { VARIANT_SETTINGS_OPTIONS, variantSettingsFromArgs } from './variant-settings-option.ts';

export function divergenceCommand(y: Argv): Argv {
  // `compare` was this command's name before 0.2
  return y.command(['divergence <model>', 'compare'], 'where compression bites: per-layer divergence of each variant from fp32, task-output agreement, numeric gate', (c) => c
    .positional('model', { type: 'string', demandOption: true, describe: 'FP32 model directory' })
    .option('variants', { type: 'string', default: 'fp16,int8-dynamic,int8-weight', describe: 'comma-separated variants to compare with fp32' })
    .option('text', { type: 'string', describe: 'sentences to compare on, one per line (default: the built-in corpus)' })
    .option('sentences', { type: 'number', default: 64, describe: 'how many built-in sentences to use' })
    .option('fill-mask', { type: 'string', describe: 'JSON-lines fill-mask items for a masked-LM model (default: fill_mask_eval.jsonl beside the model, if present)' })
    .option('fill-mask-items', { type: 'number', default: 200, describe: 'how many fill-mask items to evaluate' })
    .option('labels-text', { type: 'string', describe: 'texts (one per line) to check label agreement on, for a classification head' })
    .option('variant', USER_VARIANT_OPTION)
    .options(VARIANT_SETTINGS_OPTIONS),
  async (args) => {
    // loaded here, not at the top: other commands (the agent above all) should not carry onnxruntime and the probes
    const { compareVariants } = await import('../../probes/divergence/divergence.ts');
    const { ensureVariants, parseVariantNames } = await import('../../agent/compress/ensure-variants.ts');
    const { loadModelDir } = await import('../../core/model/model-dir.ts');
    const { builtInCorpus, corpusFromFile } = await import('../../core/corpus/sentence-corpus.ts');
    const out = { json: args.json as boolean };
    const progress = progressFor(out);
    const md = loadModelDir(args.model as string);
    // refused before any variant is built: a decoder's logits are next-token predictions
    if (args['fill-mask'] !== undefined || args['labels-text'] !== undefined) {
      const { refuseDecoder } = await import('../../core/model/architecture-guard.ts');
      refuseDecoder(md.layers, md.onnxPath, args['fill-mask'] !== undefined ? '--fill-mask (it reads causal next-token logits as a masked-LM head)' : '--labels-text (a causal LM has no classification head)');
    }
    const userVariants = await referenceAndUserVariants(md, args.variant);
    const names = parseVariantNames(args.variants as string).filter((n) => n !== 'fp32');
    const variantSettings = variantSettingsFromArgs(args);
    const corpus = args.text ? corpusFromFile(args.text as string, 1) : builtInCorpus(1, args.sentences as number);
    const sentences = corpus.sentences;
    const variants = [...await ensureVariants(md, names, { progress, ...variantSettings }), ...userVariants];
    const { withQuantization } = await import('../../agent/compress/user-variants.ts');
    const records = withQuantization(await compareVariants(md, variants, sentences, { progress }), variants);
    const task = await taskAgreements(md, [{ name: 'fp32', onnxPath: md.onnxPath }, ...variants], args, progress, sentences);
    progress.done();
    const result = { records, task };
    emitResult(out, result, () => renderCompare(records, task));
  });
}

async function taskAgreements(md: ModelDir, variants: Array<{ name: string; onnxPath: string }>, args: Record<string, unknown>, progress: ReturnType<typeof progressFor>, sentences: readonly string[]): Promise<TaskAgreement[]> {
  const { classificationAgreement, fillMaskAgreement, readFillMaskItems, taskKind } = await import('../../probes/divergence/task-eval.ts');
  const { corpusFromFile } = await import('../../core/corpus/sentence-corpus.ts');
  const kind = taskKind(md);
  if (kind === 'next-token') {
    const { nextTokenAgreement } = await import('../../probes/divergence/next-token.ts');
    const { encodeSentences } = await import('../../probes/divergence/divergence.ts');
    return nextTokenAgreement(md, variants, encodeSentences(md, sentences).ids);
  }
  if (kind === 'fill-mask') {
    const file = (args['fill-mask'] as string | undefined) ?? `${md.dir}/fill_mask_eval.jsonl`;
    if (!existsSync(file)) { progress.info('masked-LM head found but no fill-mask items; pass --fill-mask FILE for task agreement'); return []; }
    return fillMaskAgreement(md, variants, readFillMaskItems(file, md, args['fill-mask-items'] as number), progress);
  }
  if (kind === 'classification') {
    const file = args['labels-text'] as string | undefined;
    if (!file) { progress.info('classification head found; pass --labels-text FILE for label agreement'); return []; }
    return classificationAgreement(md, variants, corpusFromFile(file, 1).sentences);
  }
  return [];
}

function renderCompare(records: ProbeRecord[], task: TaskAgreement[]): string {
  const parts: string[] = [];
  const first = records[0]?.data as CompareData | undefined;
  if (first) {
    const header = ['layer', ...records.flatMap((r) => [`${r.variant.name} cos`, 'relL2', 'attn JS'])];
    const rows = first.layers.map((_, l) => [l === 0 ? 'emb' : String(l), ...records.flatMap((r) => {
      const d = (r.data as CompareData).layers[l];
      return [d.hiddenCosine, d.relativeL2, d.attentionJs ?? '-'] as Array<string | number>;
    })]);
    parts.push(textTable([header, ...rows]));
    parts.push(`jump rule: ${first.jump.rule}`);
  }
  for (const r of records) parts.push(`${r.variant.name}: ${r.verdict.status}, ${r.verdict.summary}`);
  if (task.length) {
    const ppl = task.some((t) => t.perplexity !== undefined);
    parts.push('', textTable([['variant', 'task', 'items', 'top-1 acc', 'top-1 agree', 'top-5 agree', ...(ppl ? ['perplexity', 'fp32 ppl'] : [])], ...task.map((t) => [t.variant, t.task, t.items, t.top1Accuracy ?? '-', t.top1Agreement, t.top5Agreement, ...(ppl ? [t.perplexity ?? '-', t.perplexityFp32 ?? '-'] : [])])]));
  }
  return parts.join('\n');
}
