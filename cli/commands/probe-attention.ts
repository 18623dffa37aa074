import type { Argv } from 'yargs';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { AttentionProbeData } from '../../probes/attention/record.ts';
import { emitResult, formatNumber, progressFor, textTable } from '../output.ts';
import { USER_VARIANT_OPTION, referenceAndUserVariants } from './user-variant-option.ts';
import { VARIANT_SETTINGS_OPTIONS, variantSettingsFromArgs } from './variant-settings-option.ts';

/** `edgeprobe probe attention`: token identifiability, mixing, sanity checks and compression survival. */
export function probeAttentionCommand(y: Argv): Argv {
  return y.command('attention <model>', 'do attention maps still relate input tokens, pass sanity checks, and survive compression?', (c) => c
    .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files)' })
    .option('variants', { type: 'string', default: 'fp16,int8-dynamic,int8-weight', describe: 'compressed variants to judge against fp32 (comma-separated), or none' })
    .option('text', { type: 'string', describe: 'text file, one sentence per line (default: the built-in corpus)' })
    .option('sentences', { type: 'number', describe: 'use at most this many sentences (default: 200 built-in, all of --text)' })
    .option('seed', { type: 'number', default: 1, describe: 'seed for sentence order, train/held-out split, randomization, shuffling' })
    .option('sanity', { type: 'boolean', default: true, describe: 'run cascading randomization and the shuffled-input control (--no-sanity skips them)' })
    .option('thresholds', { type: 'string', describe: 'verdict thresholds JSON (default configs/attention-thresholds.json)' })
    .option('variant', USER_VARIANT_OPTION)
    .options(VARIANT_SETTINGS_OPTIONS),
  async (args) => {
    // loaded here, not at the top: other commands (the agent above all) should not carry onnxruntime and the probes
    const { loadModelDir } = await import('../../core/model/model-dir.ts');
    const { builtInCorpus, corpusFromFile } = await import('../../core/corpus/sentence-corpus.ts');
    const { runAttentionProbe } = await import('../../probes/attention/run-attention-probe.ts');
    const { ensureVariants, parseVariantNames } = await import('../../agent/compress/ensure-variants.ts');
    const json = args.json as boolean;
    const progress = progressFor({ json });
    const seed = args.seed as number;
    const names = parseVariantNames(args.variants as string);
    const variantSettings = variantSettingsFromArgs(args);
    const count = args.sentences as number | undefined;
    const corpus = args.text ? corpusFromFile(args.text as string, seed, count) : builtInCorpus(seed, count ?? 200);
    const md = loadModelDir(args.model as string);
    const userVariants = await referenceAndUserVariants(md, args.variant);
    const wanted = names.filter((n) => n !== 'fp32');
    const [fp32] = await ensureVariants(md, ['fp32']);
    const variants = [...wanted.length > 0 ? await ensureVariants(md, wanted, { progress, ...variantSettings }) : [], ...userVariants];
    const records = await runAttentionProbe(md, { corpus, variants, seed, sanityChecks: args.sanity as boolean, thresholdsPath: args.thresholds as string | undefined, progress });
    const { withQuantization } = await import('../../agent/compress/user-variants.ts');
    withQuantization(records, [fp32, ...variants]);
    emitResult({ json }, records, () => renderAttention(records));
  });
}

const f = (x: number | null): string => (x === null ? '-' : formatNumber(x));

export function renderAttention(records: ProbeRecord[]): string {
  const ref = records[0];
  const d = ref.data as AttentionProbeData;
  const flagged = new Set(d.tokenRelation.structuredButUnidentifiable);
  const causal = d.baseline?.kind === 'causal-uniform';
  const entropyHeader = causal ? 'entropy/ln(i+1)' : 'entropy/ln n';
  const rows: Array<Array<string | number>> = [['layer', 'ident (NN)', 'ident (learned)', 'rollout self', causal ? 'uniform self' : 'eff. sources', entropyHeader, 'dominant rows', 'note']];
  for (let l = 0; l <= d.layers; l++) {
    const s = l > 0 ? d.structure[l - 1] : undefined;
    rows.push([String(l), f(d.identifiability.nearest[l]), f(d.identifiability.learned[l]), f(d.mixing.selfContribution[l]), f(causal ? d.baseline!.selfContribution[l] : d.mixing.effectiveSources[l]),
      s ? f(s.entropyRatio) : '-', s ? f(s.dominantShare) : '-', l === 0 ? 'embeddings' : flagged.has(l) ? 'STRUCTURED, IDENTITY GONE' : l > d.tokenRelation.supportedUpToLayer ? 'identity gone' : '']);
  }
  const out = [
    `attention probe: ${ref.model.name}, ${d.corpus.sentences} sentences (${d.corpus.source}${d.corpus.path ? ` ${d.corpus.path}` : ''}, ${d.corpus.tokens} tokens, seed ${d.corpus.seed})`,
    ...(d.architecture ? [`read as: ${d.architecture.kind}${d.architecture.causalMask ? ` (${d.architecture.causalMask})` : ''}; hidden states: ${d.architecture.hiddenStates}`] : []),
    ...(causal ? [`baseline: ${d.baseline!.rule}; left out: ${d.baseline!.excludedRows}${d.identifiability.excludedPositions ? `; ${d.identifiability.excludedPositions} positions whose input embedding copies another's left out of identifiability` : ''}`] : []),
    '', textTable(rows), '', `fp32 verdict: ${ref.verdict.status.toUpperCase()} - ${ref.verdict.summary}`,
  ];
  if (d.sanity) {
    out.push('', textTable([['randomized layers', 'attention JS', 'attention changed', 'rollout Spearman', 'rollout changed'],
      ...d.sanity.randomization.map((s) => [`${s.randomizedFrom}-${d.layers}`, f(s.attentionJs), s.attentionChanged ? 'yes' : 'NO', f(s.rolloutSpearman), s.rolloutChanged ? 'yes' : 'NO'])]));
    out.push('', textTable([['shuffled input: layer', entropyHeader, 'structure kept', 'aligned JS', 'ident (NN)'],
      ...d.sanity.shuffled.layers.map((l) => [String(l.layer), f(l.entropyRatio), f(l.structureKept), f(l.alignedJs), f(l.identifiability)])]));
  }
  const variants = records.slice(1);
  if (variants.length > 0) {
    out.push('', textTable([['variant', 'verdict', 'worst JS', 'min top-k', 'min rollout rho', 'max ident drop', 'layers'],
      ...variants.map((r) => {
        const s = (r.data as AttentionProbeData).survival!.layers;
        const rhos = s.map((l) => l.rolloutSpearman).filter((x): x is number => x !== null);
        return [r.variant.name, r.verdict.status, f(Math.max(...s.map((l) => l.maxJs))), f(Math.min(...s.map((l) => l.minTopKOverlap))),
          rhos.length ? f(Math.min(...rhos)) : '-', f(Math.max(...s.map((l) => l.identifiabilityDrop))), (r.verdict.layers ?? []).join(',') || '-'];
      })]));
    for (const r of variants) out.push(r.verdict.summary);
  }
  return out.join('\n');
}
