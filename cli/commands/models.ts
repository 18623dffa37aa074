import type { Argv } from 'yargs';
import { epError } from '../../core/errors.ts';
import type { ModelDescription } from '../../core/model/describe-model.ts';
// a constants-only module (no imports of its own): the option help lists the variant names
import { VARIANT_NAMES } from '../../core/variants/variant-types.ts';
import { emitResult, progressFor, textTable } from '../output.ts';
import { VARIANT_SETTINGS_OPTIONS, variantSettingsFromArgs } from './variant-settings-option.ts';

// Handlers import the model loader, compression and download code when they run (see cli/commands/fleet.ts).
const modelDir = async () => (await import('../../core/model/model-dir.ts')).loadModelDir;

export function modelsCommand(y: Argv): Argv {
  return y.command('models', 'inspect and compress models', (m) => m
    .command('inspect <model>', 'show the graph, detected layers, tokenizer and sizes of a model directory', (c) => c
      .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files) or .onnx file' }),
    async (args) => {
      const { describeModel } = await import('../../core/model/describe-model.ts');
      const md = (await modelDir())(args.model as string);
      const d = describeModel(md);
      emitResult({ json: args.json as boolean }, d, () => renderDescription(d));
    })
    .command('compress <model>', 'write compressed variants (fp16, int8-dynamic, int8-weight) with manifests', (c) => c
      .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files) or .onnx file' })
      .option('variants', { type: 'string', default: 'fp16,int8-dynamic,int8-weight', describe: `comma list of: ${VARIANT_NAMES.join(', ')}` })
      .option('out', { type: 'string', describe: 'output directory (default: the edgeprobe cache, keyed by the model sha256)' })
      .option('ep', { type: 'string', default: 'cpu', choices: ['cpu', 'cuda', 'tensorrt'], describe: 'execution provider the variants are for: cuda/tensorrt write fp16 as an fp16-compute graph' })
      .options(VARIANT_SETTINGS_OPTIONS),
    async (args) => {
      const { ensureVariants, parseVariantNames } = await import('../../agent/compress/ensure-variants.ts');
      const names = parseVariantNames(args.variants as string);
      const variantSettings = variantSettingsFromArgs(args);
      const { requireFp32Source } = await import('../../core/model/source-check.ts');
      const md = (await modelDir())(args.model as string);
      requireFp32Source(md);
      const progress = progressFor({ json: args.json as boolean });
      const variants = await ensureVariants(md, names, { outDir: args.out as string | undefined, progress, executionProvider: args.ep as string, ...variantSettings });
      progress.done();
      emitResult({ json: args.json as boolean }, variants, () => textTable([
        ['variant', 'MB', 'x fp32', 'file'],
        ...variants.map((v) => [v.name, v.manifest.bytes / 1e6, v.manifest.bytes / md.model.totalBytes, v.onnxPath]),
      ]) + variants.map((v) => `\n${v.name}: ${v.manifest.compute}`).join(''));
    })
    .command('fetch <url>', 'download a published model file or archive, refusing it unless its sha256 matches', (c) => c
      .positional('url', { type: 'string', demandOption: true, describe: 'http(s) URL of an .onnx file or a .tar.gz/.tgz/.tar model archive' })
      .option('sha256', { type: 'string', demandOption: true, describe: 'the published sha256 of the file' })
      .option('dir', { type: 'string', describe: 'where to put it (default: the edgeprobe cache)' }),
    async (args) => {
      const { fetchModel } = await import('../../agent/fetch-model.ts');
      const progress = progressFor({ json: args.json as boolean });
      const r = await fetchModel(args.url as string, args.sha256 as string, { dir: args.dir as string | undefined, progress });
      progress.done();
      emitResult({ json: args.json as boolean }, r, () => `downloaded ${r.bytes} bytes, sha256 ok\n${r.path}${r.extractedTo ? `\nunpacked to ${r.extractedTo}` : ''}`);
    })
    .command('encode <model>', 'tokenize a text as the model will see it (ids, pieces, truncation)', (c) => c
      .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files)' })
      .option('text', { type: 'string', demandOption: true, describe: 'the text to encode' }),
    async (args) => {
      const text = args.text as string;
      if (text.trim().length === 0) throw epError('EP_TEXT_FLAG_EMPTY');
      const md = (await modelDir())(args.model as string);
      const enc = md.tokenizer.encode(text);
      const progress = progressFor({ json: args.json as boolean });
      if (enc.truncated) progress.warn(`the text has ${enc.fullLength} tokens but ${md.name} takes at most ${md.tokenizer.maxLength}; it was truncated to the first ${md.tokenizer.maxLength} (ending in [SEP])`);
      emitResult({ json: args.json as boolean }, enc, () => `${enc.tokens.join(' ')}\n${enc.ids.join(' ')}`);
    })
    .demandCommand(1, 'name a models subcommand: inspect, compress, fetch, encode'));
}

function renderDescription(d: ModelDescription): string {
  const lines = [
    `${d.name}  (${d.onnxPath})${d.demo ? '  [DEMO MODEL, random weights]' : ''}`,
    `sha256 ${d.sha256}, ${(d.bytes / 1e6).toFixed(1)} MB, opset ${d.opset}, IR ${d.irVersion}, ${d.nodeCount} nodes, ${d.parameters.toLocaleString('en')} parameters`,
    ...(d.dataFiles.length > 0 ? [`external data: ${d.dataFiles.join(', ')} (covered by the sha256)`] : []),
    `inputs: ${Object.entries(d.inputShapes).map(([n, s]) => `${n} [${s.join(', ')}]`).join(', ')}; outputs: ${d.outputs.join(', ')}`,
    ...(Object.values(d.inputShapes).some((s) => s.slice(0, 2).some((x) => typeof x === 'number'))
      ? [`fixed input shape: the probes need dynamic batch and sequence axes (max length ${Math.min(d.tokenizer.maxLength, ...Object.values(d.inputShapes).map((s) => (typeof s[1] === 'number' ? s[1] : Infinity)))})`] : []),
    `tokenizer: ${d.tokenizer.source}, ${d.tokenizer.vocabSize} tokens, max length ${d.tokenizer.maxLength}`,
    `architecture: ${d.architecture.summary}`,
    `layers: ${d.layers} (attention found as Softmax outputs; hidden states ${d.architecture.norm === 'pre-norm' ? 'are the residual stream after each block (the input of the next norm)' : "at each block's last LayerNorm"})`,
    ...(d.decomposedAttention.length > 0
      ? [`fused attention: ${d.decomposedAttention.map((a) => `${a.nodes} ${a.op}`).join(', ')} decomposed into MatMul/Softmax/MatMul so the probes can read each head`] : []),
    `quantization: ${d.quantization.summary}${d.quantization.quantized ? ': already compressed, so it is not an fp32 reference' : ''}`,
    '',
    textTable([['op', 'count'], ...Object.entries(d.opCounts).sort((a, b) => b[1] - a[1]).slice(0, 12)]),
  ];
  return lines.join('\n');
}
