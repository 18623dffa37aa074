import { epError } from '../../core/errors.ts';
import { requireRunnableInputs } from '../../core/model/input-shapes.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { detectLayers } from '../../core/onnx/layer-detect.ts';
import { loadOnnxFile } from '../../core/onnx/model-io.ts';
import { detectQuantization } from '../../core/onnx/quantization-detect.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import { EDGEPROBE_VERSION } from '../../core/version.ts';
import { VARIANT_NAMES, isUserVariantName, type UserVariantName, type Variant } from '../../core/variants/variant-types.ts';

/** A file compressed outside edgeprobe, handed in under its user's name. */
export interface UserVariantSpec {
  name: UserVariantName;
  path: string;
  /** pinned content hash (plans); the file must match it */
  sha256?: string;
}

/** Checks a user variant's name; a built-in name or a bad pattern is a coded error naming where it came from. */
export function userVariantName(name: string, source: string): UserVariantName {
  if (!isUserVariantName(name)) throw epError('EP_USER_VARIANT_NAME', { name, source, builtins: VARIANT_NAMES.join(', ') });
  return name;
}

/** `--variant NAME=PATH`, repeatable (yargs gives a string or an array). */
export function parseUserVariantFlags(values: unknown, flag = '--variant'): UserVariantSpec[] {
  const list = values === undefined ? [] : (Array.isArray(values) ? values : [values]).map(String);
  const out: UserVariantSpec[] = [];
  for (const value of list) {
    const eq = value.indexOf('=');
    if (eq <= 0 || eq === value.length - 1) throw epError('EP_USER_VARIANT_SYNTAX', { flag, value });
    const name = userVariantName(value.slice(0, eq), flag);
    if (out.some((s) => s.name === name)) throw epError('EP_USER_VARIANT_DUPLICATE', { name, source: flag });
    out.push({ name, path: value.slice(eq + 1) });
  }
  return out;
}

/**
 * Loads a user-supplied file as a variant of `md`: it must decode, expose the same layers through any
 * quantized form, and pair with the source (same layer count, hidden size and inputs); its manifest
 * records what quantization the graph was found to contain.
 */
export function loadUserVariant(md: ModelDir, spec: UserVariantSpec): Variant {
  const file = loadOnnxFile(spec.path);
  if (spec.sha256 && spec.sha256 !== file.sha256) {
    throw epError('EP_USER_VARIANT_SHA_MISMATCH', { name: spec.name, file: spec.path, expected: spec.sha256, actual: file.sha256 });
  }
  requireRunnableInputs(file.proto.graph, spec.path);
  const layers = detectLayers(file.proto.graph, spec.path);
  const mismatch = (what: string) => epError('EP_USER_VARIANT_MISMATCH', { name: spec.name, file: spec.path, what, source: md.onnxPath });
  if (layers.layers !== md.layers.layers) throw mismatch(`${layers.layers} attention layers, the source has ${md.layers.layers}`);
  if (layers.architecture.kind !== md.layers.architecture.kind || layers.architecture.norm !== md.layers.architecture.norm) {
    throw mismatch(`it reads as ${layers.architecture.kind} (${layers.architecture.norm}), the source as ${md.layers.architecture.kind} (${md.layers.architecture.norm})`);
  }
  const h = layers.wordEmbeddingTable?.hidden;
  const hs = md.layers.wordEmbeddingTable?.hidden;
  if (h && hs && h !== hs) throw mismatch(`hidden size ${h}, the source has ${hs}`);
  const inputs = file.proto.graph.input.map((i) => i.name).sort().join(', ');
  const sourceInputs = md.model.proto.graph.input.map((i) => i.name).sort().join(', ');
  if (inputs !== sourceInputs) throw mismatch(`inputs ${inputs}, the source has ${sourceInputs}`);
  const q = detectQuantization(file.proto.graph);
  return {
    name: spec.name,
    onnxPath: spec.path,
    manifest: {
      variant: spec.name,
      method: 'user-supplied file (compressed outside edgeprobe)',
      parameters: { file: spec.path },
      source: { path: md.onnxPath, sha256: md.model.sha256, bytes: md.model.totalBytes },
      sha256: file.sha256,
      bytes: file.totalBytes,
      compute: `${q.summary}, as onnxruntime runs the file`,
      quantization: { forms: q.forms, summary: q.summary },
      userSupplied: { path: spec.path },
      createdAt: new Date().toISOString(),
      edgeprobeVersion: EDGEPROBE_VERSION,
    },
  };
}

/** Copies each variant's detected quantization into its records, so a record says what the file it measured contains. */
export function withQuantization(records: ProbeRecord[], variants: readonly Variant[]): ProbeRecord[] {
  const byName = new Map(variants.map((v) => [v.name as string, v.manifest.quantization]));
  for (const r of records) {
    const q = byName.get(r.variant.name);
    if (q) r.variant.quantization = q;
  }
  return records;
}
