import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
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
  if (!existsSync(path)) throw new UserError(`model path not found: ${path}`, 'pass a model directory (ONNX file + tokenizer files) or an .onnx file');
  if (statSync(path).isFile()) return { dir: dirname(path), onnxPath: path };
  const preferred = join(path, 'model.onnx');
  if (existsSync(preferred)) return { dir: path, onnxPath: preferred };
  const onnxFiles = readdirSync(path).filter((f) => f.endsWith('.onnx'));
  if (onnxFiles.length === 1) return { dir: path, onnxPath: join(path, onnxFiles[0]) };
  if (onnxFiles.length === 0) throw new UserError(`no ONNX model in ${path}`, 'the directory needs model.onnx (or exactly one .onnx file) beside its tokenizer files');
  throw new UserError(`several ONNX files in ${path}: ${onnxFiles.join(', ')}`, 'name the one to use, or keep the FP32 one as model.onnx');
}

export function readModelConfig(dir: string): ModelConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return { maxPositions: 512, demo: false, raw: {} };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`${path} is not valid JSON: ${(err as Error).message}`, 'fix or remove config.json (it is optional)');
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
    throw new UserError(
      `the tokenizer in ${resolved.dir} has ${tokenizer.vocabSize} tokens but the model's embedding table ${table.name} has ${table.vocab} rows`,
      'the tokenizer files belong to another model; copy the tokenizer exported with this ONNX file',
    );
  }
  if (table && config.hiddenSize && config.hiddenSize !== table.hidden) {
    throw new UserError(`config.json says hidden_size ${config.hiddenSize} but ${onnxPath} has embeddings of width ${table.hidden}`, 'config.json belongs to another model; replace it with this model\'s config');
  }
  return { dir: resolved.dir, onnxPath, name: basename(resolved.dir), model, config, tokenizer, layers };
}
