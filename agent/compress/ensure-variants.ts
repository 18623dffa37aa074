import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { epError } from '../../core/errors.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { loadOnnxFile, saveOnnxFile } from '../../core/onnx/model-io.ts';
import { detectQuantization } from '../../core/onnx/quantization-detect.ts';
import type { ModelProto } from '../../core/onnx/proto.ts';
import { cacheDir } from '../../core/paths.ts';
import type { Progress } from '../../core/progress.ts';
import { EDGEPROBE_VERSION } from '../../core/version.ts';
import { computeInFp16 } from './fp16-compute-graph.ts';
import { storeWeightsFp16 } from './fp16-graph.ts';
import { quantizeInt8 } from './int8-graph.ts';
import { quantizeInt4 } from './int4-graph.ts';
import { int8Static, int8StaticCalibration } from './int8-static.ts';
import { MINMAX, type Calibration } from '../../core/variants/recipe-settings.ts';
import { VARIANT_NAMES, type Variant, type VariantManifest, type VariantName } from '../../core/variants/variant-types.ts';

export interface EnsureVariantsOptions {
  outDir?: string;
  progress?: Progress;
  /** execution provider the variants are for (default 'cpu'); 'cuda'/'tensorrt' make fp16 compute in fp16 */
  executionProvider?: string;
  /** override the fp16 form chosen from the execution provider */
  fp16Form?: Fp16Form;
  /** rows per int4 block of the int4-weight variant (a power of two >= 16; default 32, as onnxruntime's quantizer) */
  int4BlockSize?: number;
  /** activation calibration of the int8-static variant (default min/max) */
  int8Calibration?: Calibration;
}

/** int4-weight's recipe for one block size: the size is a parameter, so another size is another cached file. */
function int4Recipe(blockSize: number): Recipe {
  return {
    method: `MatMul weights int4 symmetric in blocks of ${blockSize} rows per output column (com.microsoft MatMulNBits, zero point 8, fp32 scale per block); MatMuls whose K is not a multiple of the block size, and embeddings, stay fp32`,
    parameters: { recipe: RECIPE_VERSION, weights: 'int4 symmetric, block-wise', blockSize, activations: 'fp32', embeddings: 'fp32' },
    compute: 'weight-only int4: onnxruntime\'s MatMulNBits kernel dequantizes blocks on the fly (CPU: AVX2/AVX-512 or ARM NEON paths; accuracy level 0 = fp32 compute)',
    build: (m) => quantizeInt4(m, blockSize),
  };
}

/** int8-static's recipe for one calibration: the method is a parameter, so percentile and min/max are separate cached files. */
function int8StaticRecipe(calibration: Calibration): Recipe {
  const how = calibration.method === 'minmax' ? 'min/max ranges' : `ranges cut at the ${calibration.percentile}th percentile of |activation|`;
  return {
    method: `static QDQ (as onnxruntime quantize_static, QuantFormat.QDQ): MatMul weights int8 symmetric per output channel behind DequantizeLinear(axis=1); MatMul inputs (attention probabilities included) and LayerNorm scale inputs uint8 per tensor with ${how} calibrated on the built-in corpus`,
    parameters: { recipe: RECIPE_VERSION, staticRecipe: INT8_STATIC_RECIPE, weights: 'int8 symmetric', perChannel: true, activations: 'uint8 asymmetric, per tensor, static', calibration: int8StaticCalibration(calibration), embeddings: 'fp32' },
    compute: 'QDQ: onnxruntime fuses DequantizeLinear -> MatMul -> QuantizeLinear into int8 kernels at load (QLinearMatMul / MatMulIntegerToFloat; VNNI or ARM dot-product where present), everything else fp32',
    build: (m, _label, md) => int8Static(md, m, calibration),
  };
}

/** 'storage': fp16 weights cast up at load (CPU). 'compute': the graph computes in fp16 (GPUs with fp16 kernels). */
export type Fp16Form = 'storage' | 'compute';

const FP16_COMPUTE_EPS = new Set(['cuda', 'tensorrt']);

export function fp16FormFor(executionProvider: string): Fp16Form {
  return FP16_COMPUTE_EPS.has(executionProvider) ? 'compute' : 'storage';
}

/** Bumped when a rewrite changes, so cached variants made by older code are rebuilt. */
const RECIPE_VERSION = 4; // 4: tied masked-LM decoders reuse the embedding table's int8 rows
/** int8-static's own recipe version: 2 keeps the masked Softmax input in fp32 */
const INT8_STATIC_RECIPE = 2;

interface Recipe {
  method: string;
  parameters: Record<string, unknown>;
  compute: string;
  build?: (source: ModelProto, label: string, md: ModelDir) => { model: ModelProto; stats: object } | Promise<{ model: ModelProto; stats: object }>;
}

const FP16_COMPUTE: Recipe = {
  method: 'float tensors computed in FLOAT16 except Softmax, LayerNorm statistics (ReduceMean/Pow/Sqrt and the ops consuming them) and ConstantOfShape, with Casts where precisions meet; inputs/outputs float32',
  parameters: { recipe: RECIPE_VERSION, form: 'compute', minElements: 16, io: 'float32', fp32Ops: ['Softmax', 'ReduceMean', 'Pow', 'Sqrt', 'LayerNormalization', 'SkipLayerNormalization', 'ConstantOfShape'] },
  compute: 'fp16 compute (Softmax and LayerNorm statistics in fp32) for execution providers with fp16 kernels; checked on the CPU EP only, where onnxruntime runs nodes without fp16 kernels in fp32, so fp16 arithmetic on a GPU is not validated by edgeprobe\'s tests',
  build: (m) => computeInFp16(m),
};

const RECIPES: Record<Exclude<VariantName, 'int4-weight' | 'int8-static'>, Recipe> = {
  fp32: { method: 'source model, unchanged', parameters: {}, compute: 'fp32' },
  fp16: {
    method: 'float initializers (>= 16 elements) stored as FLOAT16, each followed by Cast to FLOAT',
    parameters: { recipe: RECIPE_VERSION, form: 'storage', minElements: 16, io: 'float32' },
    compute: 'fp16 storage, cast to fp32 at load (CPU EP has no fp16 kernels); onnxruntime constant-folds the Casts, so compute is fp32 with fp16-rounded weights',
    build: (m) => storeWeightsFp16(m),
  },
  'int8-dynamic': {
    method: 'MatMul weights int8 symmetric (DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul, as onnxruntime quantize_dynamic); embedding tables int8 per row (Gather -> Cast -> Mul row scale)',
    parameters: { recipe: RECIPE_VERSION, weights: 'int8 symmetric', activations: 'uint8 asymmetric, per tensor, at run time', perChannel: true, embeddings: 'int8 per row' },
    compute: 'int8 x uint8 matmuls with int32 accumulation (onnxruntime fuses them into DynamicQuantizeMatMul / MatMulIntegerToFloat); everything else fp32',
    build: (m, label) => quantizeInt8(m, { mode: 'dynamic', perChannel: true, embeddings: true }, label),
  },
  'int8-weight': {
    method: 'MatMul weights int8 symmetric per output channel behind DequantizeLinear(axis=1); embedding tables int8 per row (Gather -> Cast -> Mul row scale)',
    parameters: { recipe: RECIPE_VERSION, weights: 'int8 symmetric', activations: 'fp32', perChannel: true, embeddings: 'int8 per row' },
    compute: 'weight-only int8: weights dequantized to fp32 for the matmul (onnxruntime fuses DequantizeLinear+MatMul into MatMulNBits); activations fp32',
    build: (m, label) => quantizeInt8(m, { mode: 'weight-only', perChannel: true, embeddings: true }, label),
  },
};

/**
 * Parses a comma list of variant names; an unknown name is a coded error (EP_VARIANT_UNKNOWN) listing the valid ones.
 * `none` means no variant (probes then run on fp32 alone); `all` means every variant.
 */
export function parseVariantNames(list: string | readonly string[], flag = '--variants'): VariantName[] {
  const raw = (typeof list === 'string' ? list.split(',') : list.flatMap((s) => s.split(','))).map((s) => s.trim()).filter(Boolean);
  if (raw.length === 1 && raw[0] === 'none') return [];
  if (raw.length === 1 && raw[0] === 'all') return [...VARIANT_NAMES];
  const names = raw;
  if (names.length === 0) throw epError('EP_VARIANTS_EMPTY', { flag, valid: VARIANT_NAMES.join(', ') });
  for (const n of names) {
    if (!(VARIANT_NAMES as readonly string[]).includes(n)) throw epError('EP_VARIANT_UNKNOWN', { name: n, source: flag, valid: VARIANT_NAMES.join(', ') });
  }
  return [...new Set(names)] as VariantName[];
}

/** Default home of a source model's variants: keyed by the source's content, not its path. */
export function variantsDir(sourceSha256: string): string {
  return cacheDir('variants', sourceSha256.slice(0, 16));
}

/** `fp16-compute` is stored beside `fp16` (same variant name, different form), so both can be cached. */
function fileStem(name: VariantName, recipe: Recipe): string { return recipe === FP16_COMPUTE ? 'fp16-compute' : name; }

function readReusable(dir: string, name: VariantName, recipe: Recipe, md: ModelDir): Variant | undefined {
  const stem = fileStem(name, recipe);
  const path = join(dir, `${stem}.manifest.json`);
  const onnxPath = join(dir, `${stem}.onnx`);
  if (!existsSync(path) || !existsSync(onnxPath)) return undefined;
  let manifest: VariantManifest;
  try { manifest = JSON.parse(readFileSync(path, 'utf8')) as VariantManifest; } catch { return undefined; }
  if (manifest.source?.sha256 !== md.model.sha256 || !isDeepStrictEqual(manifest.parameters, recipe.parameters)) return undefined;
  // a partly written or edited file is rebuilt rather than trusted
  let file;
  try { file = loadOnnxFile(onnxPath); } catch { return undefined; }
  if (file.totalBytes !== manifest.bytes || file.sha256 !== manifest.sha256) return undefined;
  // manifests cached before quantization detection get it from the file
  return { name, onnxPath, manifest: { ...manifest, quantization: manifest.quantization ?? quantizationOf(file.proto) } };
}

/**
 * Makes (or reuses) the named variants of a model directory's FP32 model and returns them in the order
 * asked. Each is `<name>.onnx` plus `<name>.manifest.json` under `outDir` (default: the cache, because
 * model directories may be read-only). `fp32` is the source file itself, with a manifest.
 */
export async function ensureVariants(md: ModelDir, names: VariantName[], opts: EnsureVariantsOptions = {}): Promise<Variant[]> {
  const dir = resolve(opts.outDir ?? variantsDir(md.model.sha256));
  const source = { path: md.onnxPath, sha256: md.model.sha256, bytes: md.model.totalBytes };
  const out: Variant[] = [];
  for (const [i, name] of names.entries()) {
    opts.progress?.step('variants', i, names.length, name);
    const fp16Form = opts.fp16Form ?? fp16FormFor(opts.executionProvider ?? 'cpu');
    const recipe = name === 'fp16' && fp16Form === 'compute' ? FP16_COMPUTE
      : name === 'int4-weight' ? int4Recipe(opts.int4BlockSize ?? 32)
        : name === 'int8-static' ? int8StaticRecipe(opts.int8Calibration ?? MINMAX) : RECIPES[name];
    if (!recipe) throw epError('EP_VARIANT_UNKNOWN', { name: String(name), source: 'the requested variants', valid: VARIANT_NAMES.join(', ') });
    const base = { variant: name, method: recipe.method, parameters: recipe.parameters, source, compute: recipe.compute, edgeprobeVersion: EDGEPROBE_VERSION };
    if (!recipe.build) {
      out.push({ name, onnxPath: md.onnxPath, manifest: { ...base, sha256: source.sha256, bytes: source.bytes, createdAt: new Date().toISOString(), quantization: quantizationOf(md.model.proto) } });
      continue;
    }
    const reused = readReusable(dir, name, recipe, md);
    if (reused) { out.push(reused); continue; }
    ensureWritable(dir);
    const { model, stats } = await recipe.build(md.model.proto, md.onnxPath, md);
    const stem = fileStem(name, recipe);
    const onnxPath = join(dir, `${stem}.onnx`);
    // write beside and rename, so a crash never leaves a half file under the final name; a source with
    // external data gets variants with external data (<stem>.onnx.data), as large models need
    const saved = md.model.dataFiles.length > 0 ? saveOnnxFile(model, onnxPath, { externalData: true }) : saveOnnxFile(model, `${onnxPath}.tmp`);
    if (md.model.dataFiles.length === 0) renameSync(`${onnxPath}.tmp`, onnxPath);
    const manifest: VariantManifest = { ...base, parameters: recipe.parameters, sha256: saved.sha256, bytes: saved.bytes, createdAt: new Date().toISOString(), quantization: quantizationOf(model) };
    writeFileSync(join(dir, `${stem}.manifest.json`), `${JSON.stringify({ ...manifest, stats }, null, 2)}\n`);
    out.push({ name, onnxPath, manifest });
  }
  opts.progress?.step('variants', names.length, names.length);
  return out;
}

function quantizationOf(model: ModelProto): { forms: string[]; summary: string } {
  const q = detectQuantization(model.graph);
  return { forms: q.forms, summary: q.summary };
}

function ensureWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw epError('EP_VARIANTS_DIR_UNWRITABLE', { dir, reason: (err as Error).message });
  }
}
