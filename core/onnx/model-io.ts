import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { epError } from '../errors.ts';
import { inlineExternalData, modelSha256, saveWithExternalData } from './external-data.ts';
import { decomposeFusedAttention, type DecomposedAttention } from './fused-attention.ts';
import { MAX_KNOWN_IR_VERSION, onnx, type ModelProto } from './proto.ts';

export interface LoadedModel {
  path: string;
  /** the graph file's bytes */
  bytes: Uint8Array;
  /** of the graph file and every external data file (modelSha256), so a pin covers the weights */
  sha256: string;
  /** external data files read into the graph (empty when the weights are inside the graph file) */
  dataFiles: string[];
  /** bytes of the graph file plus its data files: the model's size on disk */
  totalBytes: number;
  /** the graph edgeprobe runs: the file's, with fused attention nodes decomposed (see fused-attention.ts) */
  proto: ModelProto;
  /** fused attention nodes decomposed into MatMul/Softmax/MatMul, per op (empty when the file has none) */
  decomposedAttention: DecomposedAttention[];
  /** Set when the file uses an IR version newer than the protobuf schema we decode with. */
  warning?: string;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Decodes an ONNX file; every way a user can hand us a bad file ends in a coded error (EP_ONNX_*) naming it. */
export function loadOnnxFile(path: string): LoadedModel {
  if (!existsSync(path)) {
    throw epError('EP_ONNX_NOT_FOUND', { file: path });
  }
  if (statSync(path).size === 0) throw epError('EP_ONNX_EMPTY', { file: path });
  const bytes = readFileSync(path);
  const decoded = decodeOnnx(bytes, path);
  const data = inlineExternalData(decoded, path);
  const { model: proto, decomposed } = decomposeFusedAttention(decoded, path);
  const ir = Number(proto.irVersion);
  const warning = ir > MAX_KNOWN_IR_VERSION
    ? `${path} uses ONNX IR version ${ir}; edgeprobe rewrites graphs with the IR ${MAX_KNOWN_IR_VERSION} schema, so fields added later are not carried into variants`
    : undefined;
  return {
    path, bytes, sha256: modelSha256(bytes, data), proto, decomposedAttention: decomposed, warning,
    dataFiles: data.map((f) => f.path), totalBytes: bytes.byteLength + data.reduce((s, f) => s + f.bytes.byteLength, 0),
  };
}

export function decodeOnnx(bytes: Uint8Array, label: string): ModelProto {
  let proto: ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes) as unknown as ModelProto;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw epError('EP_ONNX_UNREADABLE', { file: label, reason });
  }
  if (!proto.graph || proto.graph.node.length === 0 || proto.opsetImport.length === 0) {
    throw epError('EP_ONNX_NO_GRAPH', { file: label });
  }
  return proto;
}

export function encodeOnnx(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model as never).finish();
}

/** Writes the model and returns its sha256 and size, which variant manifests record. */
export function saveOnnxFile(model: ModelProto, path: string, opts: { externalData?: boolean } = {}): { sha256: string; bytes: number } {
  if (opts.externalData) return saveWithExternalData(model, path, encodeOnnx);
  const data = encodeOnnx(model);
  writeFileSync(path, data);
  return { sha256: sha256Hex(data), bytes: data.byteLength };
}
