import type { Argv } from 'yargs';
import { epError } from '../../core/errors.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { PropertiesData } from '../../probes/properties/schema.ts';
import { emitResult, progressFor, textTable } from '../output.ts';
import { USER_VARIANT_OPTION, referenceAndUserVariants } from './user-variant-option.ts';

/** Adds `properties` to a `probe` command group. */
export function probePropertiesCommand(y: Argv): Argv {
  return y.command('properties <model>', 'property inference (embeddings -> McRae/Buchanan/Binder norms) with its controls: sys, upper, shuffle, shuffle-upper, rand, category-destroyed', (c) => c
    .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files)' })
    .option('norms', { type: 'string', array: true, default: ['mcrae'], describe: 'mcrae | buchanan | binder | path of a CSV/TSV with concept,feature,value (several allowed, comma or repeated)' })
    .option('norms-dir', { type: 'string', describe: 'folder with mcrae/, buchanan/, binder/ (default $EDGEPROBE_NORMS_DIR, else ../shared/norms)' })
    .option('layers', { type: 'string', describe: 'static,0,3,... or all (0 = embedding output)', default: 'all' })
    .option('mapper', { choices: ['plsr', 'ffnn'] as const, describe: 'embedding -> norm mapper (default from configs/properties.json: plsr)' })
    .option('variants', { type: 'string', default: 'fp32', describe: 'comma list of fp32, fp16, int8-dynamic, int8-weight, or all' })
    .option('folds', { type: 'number', describe: 'k of the k-fold evaluation (default 10)' })
    .option('seed', { type: 'number', describe: 'seed of folds, shuffles and random controls (default 42)' })
    .option('config', { type: 'string', describe: 'JSON overriding configs/properties.json' })
    .option('min-concepts-per-feature', { type: 'number', describe: 'keep features at least this many concepts have' })
    .option('min-value', { type: 'number', describe: 'drop concept-feature values below this' })
    .option('metric', { choices: ['f1', 'spearman'] as const, describe: 'headline metric for a custom norm file (default: by density)' })
    .option('cache', { type: 'boolean', default: true, describe: 'reuse cached concept embeddings (--no-cache to recompute)' })
    .option('variant', USER_VARIANT_OPTION),
  async (args) => {
    // loaded here, not at the top: other commands (the agent above all) should not carry onnxruntime and the probes
    const { loadModelDir } = await import('../../core/model/model-dir.ts');
    const { runPropertiesProbes } = await import('../../probes/properties/properties-probe.ts');
    const { parseVariantNames } = await import('../../probes/properties/variants.ts');
    const { controlsTableRows, layerTableRows } = await import('../../probes/properties/table.ts');
    const json = args.json as boolean;
    const progress = progressFor({ json });
    const norms = (args.norms as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
    if (args.folds !== undefined && (!Number.isInteger(args.folds) || args.folds < 2)) throw epError('EP_FLAG_OUT_OF_RANGE', { flag: 'folds', range: 'an integer >= 2', value: String(args.folds), example: '10' });
    const preprocess = {
      ...(args['min-concepts-per-feature'] !== undefined ? { minConceptsPerFeature: args['min-concepts-per-feature'] as number } : {}),
      ...(args['min-value'] !== undefined ? { minValue: args['min-value'] as number } : {}),
    };
    const md = loadModelDir(args.model as string);
    const userVariants = await referenceAndUserVariants(md, args.variant);
    const names = parseVariantNames(args.variants as string);
    const records = await runPropertiesProbes({ userVariants,
      md, norms, normsDir: args['norms-dir'] as string | undefined, variants: names,
      mapper: args.mapper as 'plsr' | 'ffnn' | undefined, layers: args.layers as string, folds: args.folds as number | undefined,
      seed: args.seed as number | undefined, configPath: args.config as string | undefined, preprocess,
      metric: args.metric as 'f1' | 'spearman' | undefined, progress, noCache: args.cache === false,
    });
    const { withQuantization } = await import('../../agent/compress/user-variants.ts');
    const { ensureVariants } = await import('../../agent/compress/ensure-variants.ts');
    withQuantization(records, [...await ensureVariants(md, names), ...userVariants]);
    progress.done();
    emitResult({ json }, records, () => renderRecords(records, controlsTableRows, layerTableRows));
  });
}

type TableRows = typeof import('../../probes/properties/table.ts');

function renderRecords(records: ProbeRecord[], controlsTableRows: TableRows['controlsTableRows'], layerTableRows: TableRows['layerTableRows']): string {
  const parts = [textTable(controlsTableRows(records)), ''];
  for (const r of records) {
    const d = r.data as PropertiesData;
    parts.push(`${d.normSet.name} on ${r.variant.name}: ${d.normSet.concepts} concepts (${d.coverage.multiPiece} multi-piece words averaged, ${d.coverage.missing.length} not in the vocabulary), ${d.normSet.features} features, categories: ${d.normSet.categories}`);
    parts.push(textTable(layerTableRows(r)));
    parts.push(`verdict: ${r.verdict.status} - ${r.verdict.summary}`, '');
  }
  return parts.join('\n');
}
