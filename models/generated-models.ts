import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IS_BUILD } from '../core/build-layout.ts';
import { buildBertGraph, type BertGraphSpec } from '../core/onnx/bert-graph.ts';
import { cacheDir } from '../core/paths.ts';
import { saveOnnxFile } from '../core/onnx/model-io.ts';
import { bertTokenizerJson } from '../core/tokenizer/bert-tokenizer-json.ts';
import { DEMO_WORDS } from './demo-vocabulary.ts';

/**
 * Generated models are written here, one directory per spec: models/generated (git-ignored) from the sources;
 * from the shipped build the package directory may be read-only (an image, a global install), so the cache
 * (EDGEPROBE_CACHE, an image's data volume); EDGEPROBE_GENERATED_DIR overrides both.
 */
export const GENERATED_DIR = process.env.EDGEPROBE_GENERATED_DIR
  ?? (IS_BUILD ? cacheDir('generated-models') : resolve(dirname(fileURLToPath(import.meta.url)), 'generated'));

export type GeneratedShape = 'demo' | 'tiny' | 'minilm' | 'bert-base';

/** Shapes of generated models. `demo` is what `npm start` uses; `minilm` and `bert-base` are for latency benchmarks. */
export const GENERATED_SPECS: Record<GeneratedShape, Omit<BertGraphSpec, 'vocabSize'> & { vocab: 'demo' | number }> = {
  demo: { hidden: 64, layers: 4, heads: 4, intermediate: 256, maxPositions: 128, seed: 7, initStd: 0.08, vocab: 'demo' },
  tiny: { hidden: 16, layers: 2, heads: 2, intermediate: 32, maxPositions: 32, seed: 11, initStd: 0.1, vocab: 'demo' },
  minilm: { hidden: 384, layers: 6, heads: 12, intermediate: 1536, maxPositions: 512, seed: 21, vocab: 30522 },
  'bert-base': { hidden: 768, layers: 12, heads: 12, intermediate: 3072, maxPositions: 512, seed: 31, vocab: 30522 },
};

const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCT = ['.', ',', '!', '?', ';', ':', "'", '"', '-', '(', ')'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');

/** The demo vocabulary: specials, punctuation, single characters (so any text tokenizes) and common words. */
export function demoVocabulary(): string[] {
  // one id per token: single letters such as 'a' are words too, and a duplicate would leave a row no id reaches
  return [...new Set([...SPECIAL, ...PUNCT, ...LETTERS, ...LETTERS.map((c) => `##${c}`), ...DEMO_WORDS])];
}

/** A filler vocabulary of the requested size for benchmark-shaped models (ids only matter for latency). */
function fillerVocabulary(size: number): string[] {
  const base = demoVocabulary();
  const out = [...base];
  for (let i = out.length; i < size; i++) out.push(`##x${i}`);
  return out.slice(0, Math.max(size, base.length));
}

export interface GeneratedModelOptions {
  /** output directory; default models/generated/<shape> */
  dir?: string;
  overrides?: Partial<BertGraphSpec>;
}

/**
 * Writes a generated model directory (model.onnx, vocab.txt, tokenizer.json, config.json, SOURCE.md)
 * unless one with the same spec is already there. Returns the directory.
 */
export function ensureGeneratedModel(shape: GeneratedShape, opts: GeneratedModelOptions = {}): string {
  const { vocab: vocabKind, ...base } = GENERATED_SPECS[shape];
  const vocab = vocabKind === 'demo' ? demoVocabulary() : fillerVocabulary(vocabKind);
  const spec: BertGraphSpec = { ...base, vocabSize: vocab.length, name: `edgeprobe-${shape}`, ...opts.overrides };
  const dir = opts.dir ?? join(GENERATED_DIR, shape);
  const specJson = JSON.stringify(spec);
  const stamp = join(dir, 'spec.json');
  if (existsSync(stamp) && existsSync(join(dir, 'model.onnx')) && readFileSync(stamp, 'utf8') === specJson) return dir;
  mkdirSync(dir, { recursive: true });
  const { sha256 } = saveOnnxFile(buildBertGraph(spec), join(dir, 'model.onnx'));
  writeFileSync(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson({ vocab, lowercase: true, maxLength: spec.maxPositions })));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: spec.maxPositions }, null, 2));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({
    model_type: 'bert', edgeprobe_demo: true, vocab_size: vocab.length, hidden_size: spec.hidden, num_hidden_layers: spec.layers,
    num_attention_heads: spec.heads, intermediate_size: spec.intermediate, max_position_embeddings: spec.maxPositions, seed: spec.seed,
  }, null, 2));
  writeFileSync(join(dir, 'SOURCE.md'), [
    `# edgeprobe generated model: ${shape}`, '',
    'DEMO MODEL WITH RANDOM WEIGHTS. Written by edgeprobe (models/generated-models.ts) from a seed; it has',
    'BERT architecture but has learned nothing, so probe results on it show how the tool works, not how a real model behaves.', '',
    `spec: \`${specJson}\``, '', `model.onnx sha256: \`${sha256}\``, '',
  ].join('\n'));
  writeFileSync(stamp, specJson);
  return dir;
}
