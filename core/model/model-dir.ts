import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { epError } from '../errors.ts';
import { detectLayers, type LayerMap } from '../onnx/layer-detect.ts';
import { loadOnnxFile, type LoadedModel } from '../onnx/model-io.ts';
import { loadTextEncoder, type TextEncoder } from '../tokenizer/text-encoder.ts';

export interface ModelConfig {
  hiddenSize?: number;
  layers?: number;
  heads?: number;
  maxPositions: number;
  vocabSize?: number;
  /** true when config.json says the weights are random (our generated demo and bench models) */
  demo: boolean;
  raw: Record<string, unknown>;
}

export interface ModelDir {
  dir: string;
  onnxPath: string;
  name: string;
  model: LoadedModel;
  config: ModelConfig;
  tokenizer: TextEncoder;
  layers: LayerMap;
}

/** A model directory, or the path of an .onnx file inside one. */
export function resolveOnnxPath(path: string): { dir: string; onnxPath: string } {
  if (!existsSync(path)) throw epError('EP_MODEL_PATH_MISSING', { path });
  if (statSync(path).isFile()) return { dir: dirname(path), onnxPath: path };
  const preferred = join(path, 'model.onnx');
  if (existsSync(preferred)) return { dir: path, onnxPath: preferred };
  const onnxFiles = readdirSync(path).filter((f) => f.endsWith('.onnx'));
  if (onnxFiles.length === 1) return { dir: path, onnxPath: join(path, onnxFiles[0]) };
  if (onnxFiles.length === 0) throw epError('EP_MODEL_NO_ONNX', { dir: path });
  throw epError('EP_MODEL_SEVERAL_ONNX', { dir: path, files: onnxFiles.join(', ') });
}

export function readModelConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return { maxPositions: 512, demo: false, raw: {} };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw epError('EP_MODEL_CONFIG_SYNTAX', { file: path, reason: (err as Error).message });
  }
  const num = (k: string): number | undefined => (typeof raw[k] === 'number' ? (raw[k] as number) : undefined);
  return {
    hiddenSize: num('hidden_size'),
    layers: num('num_hidden_layers'),
    heads: num('num_attention_heads'),
    maxPositions: num('max_position_embeddings') ?? 512,
    vocabSize: num('vocab_size'),
    demo: raw.edgeprobe_demo === true,
    raw,
  };
}

export interface LoadModelOptions {
  /** Load a variant file from the same directory instead of the FP32 model (tokenizer/config still from dir). */
  onnxPath?: string;
}

/** Loads and cross-checks a model directory: ONNX graph, config, tokenizer, layer structure. */
export function loadModelDir(path: string, opts: LoadModelOptions = {}): ModelDir {
  const resolved = resolveOnnxPath(path);
  const onnxPath = opts.onnxPath ?? resolved.onnxPath;
  const model = loadOnnxFile(onnxPath);
  const config = readModelConfig(resolved.dir);
  const tokenizer = loadTextEncoder(resolved.dir, config.maxPositions);
  const layers = detectLayers(model.proto.graph, onnxPath);
  const table = layers.wordEmbeddingTable;
  if (table && tokenizer.vocabSize > table.vocab) {
    throw epError('EP_MODEL_TOKENIZER_MISMATCH', { dir: resolved.dir, vocab: tokenizer.vocabSize, table: table.name, rows: table.vocab });
  }
  if (table && config.hiddenSize && config.hiddenSize !== table.hidden) {
    throw epError('EP_MODEL_CONFIG_MISMATCH', { hidden: config.hiddenSize, file: onnxPath, width: table.hidden });
  }
  return { dir: resolved.dir, onnxPath, name: basename(resolved.dir), model, config, tokenizer, layers };
}
