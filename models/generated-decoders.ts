import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildDecoderGraph, type DecoderGraphSpec } from '../core/onnx/decoder-graph.ts';
import { saveOnnxFile } from '../core/onnx/model-io.ts';
import { bertTokenizerJson } from '../core/tokenizer/bert-tokenizer-json.ts';
import { demoVocabulary, GENERATED_DIR } from './generated-models.ts';

export type GeneratedDecoderShape = 'gpt2-demo' | 'gpt2-induction' | 'llama-demo' | 'llama-induction';

/**
 * Shapes of generated decoder-only LMs (core/onnx/decoder-graph.ts). `gpt2-demo` and `llama-demo` have seeded
 * random weights; `gpt2-induction` and `llama-induction` (rotary, grouped-query) have a previous-token head
 * (layer 1, head 0) and an induction head (layer 2, head 2; layers count from 1 as in records, heads from 0) set by hand, so the induction probe has a known answer (docs/decoders.md).
 */
export const GENERATED_DECODER_SPECS: Record<GeneratedDecoderShape, Omit<DecoderGraphSpec, 'vocabSize'>> = {
  'gpt2-demo': { family: 'gpt2', hidden: 64, layers: 4, heads: 4, intermediate: 256, maxPositions: 128, seed: 41, initStd: 0.08 },
  'gpt2-induction': {
    family: 'gpt2', hidden: 256, layers: 2, heads: 4, intermediate: 512, maxPositions: 64, seed: 43, initStd: 0.02,
    plantInduction: { previousToken: { layer: 0, head: 0 }, induction: { layer: 1, head: 2 } },
  },
  'llama-demo': { family: 'llama', hidden: 64, layers: 4, heads: 4, kvHeads: 2, intermediate: 172, maxPositions: 128, seed: 47, initStd: 0.08 },
  'llama-induction': {
    family: 'llama', hidden: 256, layers: 2, heads: 4, kvHeads: 2, intermediate: 512, maxPositions: 64, seed: 53, initStd: 0.02,
    plantInduction: { previousToken: { layer: 0, head: 0 }, induction: { layer: 1, head: 2 } },
  },
};

/**
 * Writes a generated decoder's directory (model.onnx, vocab.txt, tokenizer.json, config.json, SOURCE.md) unless
 * one with the same spec is there. The tokenizer is the demo WordPiece vocabulary: the induction probe feeds token
 * ids directly, and text only needs some tokenizer that covers it.
 */
export function ensureGeneratedDecoder(shape: GeneratedDecoderShape, opts: { dir?: string; overrides?: Partial<DecoderGraphSpec> } = {}): string {
  const vocab = demoVocabulary();
  const spec: DecoderGraphSpec = { ...GENERATED_DECODER_SPECS[shape], vocabSize: vocab.length, name: `edgeprobe-${shape}`, ...opts.overrides };
  const dir = opts.dir ?? join(GENERATED_DIR, shape);
  const specJson = JSON.stringify(spec);
  const stamp = join(dir, 'spec.json');
  if (existsSync(stamp) && existsSync(join(dir, 'model.onnx')) && readFileSync(stamp, 'utf8') === specJson) return dir;
  mkdirSync(dir, { recursive: true });
  const { sha256 } = saveOnnxFile(buildDecoderGraph(spec), join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson({ vocab, lowercase: true, maxLength: spec.maxPositions })));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: spec.maxPositions }, null, 2));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: spec.family, architectures: [spec.family === 'gpt2' ? 'GPT2LMHeadModel' : 'LlamaForCausalLM'], edgeprobe_demo: true,
    vocab_size: spec.vocabSize, hidden_size: spec.hidden, num_hidden_layers: spec.layers, num_attention_heads: spec.heads,
    num_key_value_heads: spec.kvHeads ?? spec.heads, intermediate_size: spec.intermediate, max_position_embeddings: spec.maxPositions,
    tie_word_embeddings: spec.family === 'gpt2' || (spec.tieEmbeddings ?? false), seed: spec.seed, ...(spec.plantInduction ? { edgeprobe_planted_induction: spec.plantInduction } : {}),
  }, null, 2));
  writeFileSync(join(dir, 'SOURCE.md'), [
    `# edgeprobe generated decoder: ${shape}`, '',
    `DEMO MODEL WITH ${spec.plantInduction ? 'HAND-SET INDUCTION HEADS AND OTHERWISE ' : ''}RANDOM WEIGHTS. Written by edgeprobe (models/generated-decoders.ts)`,
    `from a seed; it has the ${spec.family} architecture but has learned nothing.`, '',
    `spec: \`${specJson}\``, '', `model.onnx sha256: \`${sha256}\``, '',
  ].join('\n'));
  writeFileSync(stamp, specJson);
  return dir;
}
