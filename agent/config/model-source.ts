import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { epError } from '../../core/errors.ts';
import { resolveOnnxPath } from '../../core/model/model-dir.ts';
import { loadOnnxFile, sha256Hex } from '../../core/onnx/model-io.ts';
import { cacheDir } from '../../core/paths.ts';
import { ensureGeneratedModel } from '../../models/generated-models.ts';
import { ensureGeneratedDecoder } from '../../models/generated-decoders.ts';
import type { AllowedModel } from './agent-config.ts';

export interface ResolvedModel { name: string; dir: string; onnxPath: string; sha256: string }

/** Hashing a model is the slow part; one check per process and file is enough. */
const verified = new Map<string, ResolvedModel>();

/**
 * Turns an allowed model into a local model directory whose ONNX file has the pinned sha256.
 * A model whose bytes differ from its pin is refused: the plan names a model, the config decides what that is.
 */
export async function resolveAllowedModel(m: AllowedModel): Promise<ResolvedModel> {
  const cached = verified.get(m.name);
  if (cached) return cached;
  let resolved: ResolvedModel;
  if ('path' in m) {
    const { dir, onnxPath } = resolveOnnxPath(m.path);
    resolved = { name: m.name, dir, onnxPath, sha256: verifySha(onnxPath, m.sha256, m.name) };
  } else if ('generated' in m) {
    const dir = m.generated === 'demo' || m.generated === 'tiny' ? ensureGeneratedModel(m.generated) : ensureGeneratedDecoder(m.generated);
    const onnxPath = join(dir, 'model.onnx');
    resolved = { name: m.name, dir, onnxPath, sha256: verifySha(onnxPath, m.sha256, m.name) };
  } else {
    resolved = await downloadModel(m);
  }
  verified.set(m.name, resolved);
  return resolved;
}

function verifySha(path: string, expected: string | undefined, name: string): string {
  // the model's sha256 covers its external data files too (core/onnx/external-data.ts)
  const actual = loadOnnxFile(path).sha256;
  if (expected && actual !== expected) {
    throw epError('EP_MODEL_SHA256_CHANGED', { name, file: path, actual, expected });
  }
  return actual;
}

export async function fetchVerified(url: string, sha256: string, dest: string): Promise<void> {
  if (existsSync(dest) && sha256Hex(readFileSync(dest)) === sha256) return;
  const res = await fetch(url);
  if (!res.ok) throw epError('EP_MODEL_DOWNLOAD_HTTP', { url, status: res.status });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw epError('EP_MODEL_URL_SHA256_MISMATCH', { url, actual, expected: sha256 });
  writeFileSync(`${dest}.tmp`, bytes);
  renameSync(`${dest}.tmp`, dest);
}

/** URL models land in the cache under their sha256, so a second agent or a restart reuses them. */
async function downloadModel(m: Extract<AllowedModel, { url: string }>): Promise<ResolvedModel> {
  const dir = cacheDir('models', m.sha256);
  mkdirSync(dir, { recursive: true });
  const onnxPath = join(dir, 'model.onnx');
  await fetchVerified(m.url, m.sha256, onnxPath);
  for (const f of m.files) await fetchVerified(f.url, f.sha256, join(dir, f.name));
  return { name: m.name, dir, onnxPath, sha256: m.sha256 };
}
