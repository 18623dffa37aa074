import type { Argv } from 'yargs';
import type { ModelDescription } from '../../core/model/describe-model.ts';
import { emitResult, textTable } from '../output.ts';

export function modelsCommand(y: Argv): Argv {
  return y.command('models', 'inspect and compress models', (m) => m
    .command('inspect <model>', 'show the graph, detected layers, tokenizer and sizes of a model directory', (c) => c
      .positional('model', { type: 'string', demandOption: true, describe: 'model directory (ONNX + tokenizer files) or .onnx file' }),
    async (args) => {
      // imported on use, so commands that never touch a model (e.g. `edgeprobe agent` at idle) stay small
      const { loadModelDir } = await import('../../core/model/model-dir.ts');
      const { describeModel } = await import('../../core/model/describe-model.ts');
      const md = loadModelDir(args.model as string);
      const d = describeModel(md);
      emitResult({ json: args.json as boolean }, d, () => renderDescription(d));
    })
    .demandCommand(1, 'name a models subcommand: inspect, compress'));
}

function renderDescription(d: ModelDescription): string {
  const lines = [
    `${d.name}  (${d.onnxPath})${d.demo ? '  [DEMO MODEL, random weights]' : ''}`,
    `sha256 ${d.sha256}, ${(d.bytes / 1e6).toFixed(1)} MB, opset ${d.opset}, IR ${d.irVersion}, ${d.nodeCount} nodes, ${d.parameters.toLocaleString('en')} parameters`,
    `inputs: ${d.inputs.join(', ')}; outputs: ${d.outputs.join(', ')}`,
    `tokenizer: ${d.tokenizer.source}, ${d.tokenizer.vocabSize} tokens, max length ${d.tokenizer.maxLength}`,
    `layers: ${d.layers} (attention found as Softmax outputs; hidden states at each block's last LayerNorm)`,
    '',
    textTable([['op', 'count'], ...Object.entries(d.opCounts).sort((a, b) => b[1] - a[1]).slice(0, 12)]),
  ];
  return lines.join('\n');
}
