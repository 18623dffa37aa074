import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { epError } from '../errors.ts';
import { onnx, type ModelProto, type TensorProto } from './proto.ts';

/**
 * ONNX external data (model.onnx + model.onnx.data): initializers whose bytes live in other files,
 * named relative to the model file's directory (never the working directory). Loading reads them into
 * the in-memory graph so every rewrite sees the weights; the model's sha256 covers the graph and each
 * data file, so a pin means the weights too.
 */
const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

function entry(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

export function externalDataFiles(model: ModelProto): string[] {
  const files: string[] = [];
  for (const t of model.graph.initializer) {
    if (Number(t.dataLocation) !== EXTERNAL) continue;
    const loc = entry(t, 'location');
    if (loc && !files.includes(loc)) files.push(loc);
  }
  return files;
}

/**
 * Replaces external references by the bytes they point at (in place) and returns the files read. A
 * location outside the model's directory, a missing file or a range past its end is a coded error.
 */
export function inlineExternalData(model: ModelProto, modelPath: string): Array<{ name: string; path: string; bytes: Uint8Array }> {
  const dir = dirname(modelPath);
  const files = new Map<string, { name: string; path: string; bytes: Uint8Array }>();
  for (const t of model.graph.initializer) {
    if (Number(t.dataLocation) !== EXTERNAL) continue;
    const loc = entry(t, 'location');
    if (!loc || isAbsolute(loc) || normalize(loc).split(sep).includes('..')) {
      throw epError('EP_ONNX_EXTERNAL_DATA_MISSING', { file: modelPath, tensor: t.name, location: loc ?? '(none)', reason: 'the location must be a file beside the model' });
    }
    let f = files.get(loc);
    if (!f) {
      const path = join(dir, loc);
      if (!existsSync(path) || !statSync(path).isFile()) throw epError('EP_ONNX_EXTERNAL_DATA_MISSING', { file: modelPath, tensor: t.name, location: loc, reason: `${path} does not exist` });
      f = { name: loc, path, bytes: readFileSync(path) };
      files.set(loc, f);
    }
    const offset = Number(entry(t, 'offset') ?? 0);
    const length = entry(t, 'length') !== undefined ? Number(entry(t, 'length')) : f.bytes.byteLength - offset;
    if (offset + length > f.bytes.byteLength) {
      throw epError('EP_ONNX_EXTERNAL_DATA_MISSING', { file: modelPath, tensor: t.name, location: loc, reason: `bytes ${offset}..${offset + length} are past the end of the ${f.bytes.byteLength}-byte file` });
    }
    t.rawData = f.bytes.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = 0;
  }
  return [...files.values()];
}

/** The sha256 of a model: of the graph file alone, or of the graph then each data file in reference order. */
export function modelSha256(graphBytes: Uint8Array, dataFiles: ReadonlyArray<{ bytes: Uint8Array }>): string {
  const h = createHash('sha256').update(graphBytes);
  for (const f of dataFiles) h.update(f.bytes);
  return h.digest('hex');
}

/** Initializers at least this large go to the data file (small ones stay in the graph, as exporters do). */
const MIN_EXTERNAL_BYTES = 1024;

/**
 * Writes `model` as `path` + `<basename>.data` beside it; each file is written under a temporary name
 * and renamed, data first, so a crash never leaves a graph pointing at a half-written data file.
 */
export function saveWithExternalData(model: ModelProto, path: string, encode: (m: ModelProto) => Uint8Array): { sha256: string; bytes: number; dataFile: string } {
  const dataName = `${basename(path)}.data`;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = model.graph.initializer.map((t) => {
    const raw = t.rawData;
    if (!raw || raw.byteLength < MIN_EXTERNAL_BYTES) return t;
    const ref = onnx.TensorProto.create({
      ...t, rawData: new Uint8Array(0), dataLocation: EXTERNAL,
      externalData: [{ key: 'location', value: dataName }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.byteLength) }],
    }) as TensorProto;
    chunks.push(raw);
    offset += raw.byteLength;
    return ref;
  });
  const data = Buffer.concat(chunks);
  const graph = encode({ ...model, graph: { ...model.graph, initializer } } as ModelProto);
  const dataPath = join(dirname(path), dataName);
  writeFileSync(`${dataPath}.tmp`, data);
  renameSync(`${dataPath}.tmp`, dataPath);
  writeFileSync(`${path}.tmp`, graph);
  renameSync(`${path}.tmp`, path);
  return { sha256: modelSha256(graph, [{ bytes: data }]), bytes: graph.byteLength + data.byteLength, dataFile: dataPath };
}
