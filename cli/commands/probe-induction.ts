import type { Argv } from 'yargs';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { InductionData } from '../../probes/induction/schema.ts';
import { emitResult, formatNumber, progressFor, textTable } from '../output.ts';
import { USER_VARIANT_OPTION, referenceAndUserVariants } from './user-variant-option.ts';

/** `edgeprobe probe induction`: induction heads of a causal LM and whether compressed variants keep them. */
export function probeInductionCommand(y: Argv): Argv {
  return y.command('induction <model>', 'which heads of a causal LM are induction heads, and do compressed variants keep them? (docs/decoders.md)', (c) => c
    .positional('model', { type: 'string', demandOption: true, describe: 'decoder-only model directory (ONNX + tokenizer files)' })
    .option('variants', { type: 'string', default: 'int8-dynamic,int4-weight', describe: 'compressed variants to judge against fp32 (comma-separated), or none' })
    .option('sequences', { type: 'number', default: 16, describe: 'repeated random sequences' })
    .option('half', { type: 'number', default: 20, describe: 'tokens per half of [bos, t1..tn, t1..tn] (cut to the model\'s positions)' })
    .option('threshold', { type: 'number', default: 0.3, describe: 'induction score from which a head counts as an induction head' })
    .option('seed', { type: 'number', default: 1, describe: 'seed of the random tokens' })
    .option('variant', USER_VARIANT_OPTION),
  async (args) => {
    const { loadModelDir } = await import('../../core/model/model-dir.ts');
    const { runInductionProbe } = await import('../../probes/induction/run-induction.ts');
    const { ensureVariants, parseVariantNames } = await import('../../agent/compress/ensure-variants.ts');
    const { withQuantization } = await import('../../agent/compress/user-variants.ts');
    const { checkPlanProbes } = await import('../../probes/index.ts');
    const { epError } = await import('../../core/errors.ts');
    const json = args.json as boolean;
    const progress = progressFor({ json });
    const block = { sequences: args.sequences as number, half: args.half as number, seed: args.seed as number, threshold: args.threshold as number };
    // the flags are checked against the probe's plan schema, so the CLI and plans accept the same values
    const checked = checkPlanProbes({ models: [], variants: [], probes: ['induction'], settings: { induction: block } });
    if (!checked.ok) {
      const key = (/^settings\.induction\/(\w+)/.exec(checked.reason)?.[1] ?? 'sequences') as keyof typeof block;
      throw epError('EP_FLAG_OUT_OF_RANGE', { flag: key, range: RANGES[key], value: String(block[key]), example: EXAMPLES[key] });
    }
    const md = loadModelDir(args.model as string);
    const userVariants = await referenceAndUserVariants(md, args.variant);
    const wanted = parseVariantNames(args.variants as string).filter((n) => n !== 'fp32');
    const [fp32] = await ensureVariants(md, ['fp32']);
    const variants = [...wanted.length > 0 ? await ensureVariants(md, wanted, { progress }) : [], ...userVariants];
    const { resolveInductionSettings } = await import('../../probes/induction/schema.ts');
    const records = withQuantization(await runInductionProbe(md, variants, resolveInductionSettings(block)), [fp32, ...variants]);
    progress.done();
    emitResult({ json }, records, () => renderInduction(records));
  });
}

// what probes/induction/schema.ts accepts, in words
const RANGES = { sequences: 'an integer from 1 to 512', half: 'an integer from 4 to 512', seed: 'an integer from 0 to 2147483647', threshold: 'a number above 0 and at most 1' };
const EXAMPLES = { sequences: '16', half: '20', seed: '1', threshold: '0.3' };

export function renderInduction(records: ProbeRecord[]): string {
  const d = records[0].data as InductionData;
  const header = ['layer', ...Array.from({ length: d.heads }, (_, h) => `head ${h}`)];
  const out = [
    `induction probe: ${records[0].model.name}, ${d.sequences} sequences of 2 x ${d.half} tokens (seed ${d.seed}); threshold ${d.threshold}, uniform causal attention ${formatNumber(d.uniformScore)}`,
    '', textTable([header, ...d.scores.map((hs, l) => [String(l + 1), ...hs.map((x) => `${formatNumber(x)}${x >= d.threshold ? ' *' : ''}`)])]),
    '', '* induction head (score >= threshold)', '',
  ];
  out.push(textTable([['variant', 'verdict', 'copying acc', 'heads kept'], ...records.map((r) => {
    const x = r.data as InductionData;
    return [r.variant.name, r.verdict.status, formatNumber(x.copyingAccuracy), x.survival ? `${x.survival.heads.filter((h) => h.survives).length}/${x.survival.heads.length}` : `${x.inductionHeads.length} found`];
  })]));
  for (const r of records) out.push(`${r.variant.name}: ${r.verdict.summary}`);
  return out.join('\n');
}
