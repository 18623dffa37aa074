import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateRanges } from '../../agent/compress/activation-ranges.ts';
import { quantizeInt8 } from '../../agent/compress/int8-graph.ts';
import { qdqActivationSites, quantizeQdq } from '../../agent/compress/qdq-graph.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { DataType, node, tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { pruneUnused } from '../../agent/compress/weight-sites.ts';
import { GraphIndex } from '../../core/onnx/graph-index.ts';
import { saveOnnxFile } from '../../core/onnx/model-io.ts';
import { cloneForEdit, type ModelProto, type NodeProto } from '../../core/onnx/proto.ts';

/**
 * Files in the forms other tools write, made from a generated fp32 model so no model is committed:
 * - QDQ: quantize_static-style QuantizeLinear/DequantizeLinear around every MatMul input (the Softmax
 *   output included), int8 per-channel weights, ranges calibrated on `sentences`;
 * - MatMulInteger: quantize_dynamic-style, with the attention MatMuls (QK^T and probs x V) quantized too,
 *   so the Softmax output reaches its MatMul only through DynamicQuantizeLinear -> MatMulInteger.
 */
export async function qdqModel(md: ModelDir, sentences: string[]): Promise<ModelProto> {
  const src = md.model.proto;
  const sequences = sentences.map((s) => md.tokenizer.encode(s).ids);
  const ranges = await calibrateRanges(src, qdqActivationSites(src.graph), sequences, md.tokenizer.padId, md.onnxPath);
  return quantizeQdq(src, ranges).model;
}

export function matMulIntegerModel(md: ModelDir): ModelProto {
  const model = cloneForEdit(quantizeInt8(md.model.proto, { mode: 'dynamic', perChannel: true, embeddings: false }).model);
  const g = new GraphIndex(model.graph);
  const out: NodeProto[] = [];
  for (const n of model.graph.node) {
    if (n.opType !== 'MatMul' || n.input.some((i) => g.isConstant(i))) { out.push(n); continue; }
    const p = `${n.name}/user_q`;
    const [a, b] = n.input;
    out.push(
      node('DynamicQuantizeLinear', [a], [`${p}/aq`, `${p}/as`, `${p}/azp`]),
      node('DynamicQuantizeLinear', [b], [`${p}/bq`, `${p}/bs`, `${p}/bzp`]),
      node('MatMulInteger', [`${p}/aq`, `${p}/bq`, `${p}/azp`, `${p}/bzp`], [`${p}/int32`]),
      node('Cast', [`${p}/int32`], [`${p}/float`], { to: DataType.FLOAT }),
      node('Mul', [`${p}/as`, `${p}/bs`], [`${p}/scale`]),
      node('Mul', [`${p}/float`, `${p}/scale`], [n.output[0]]),
    );
  }
  model.graph.node = out;
  return model;
}

/** A copy of the model directory's tokenizer and config files with `model` as its model.onnx: a user's file opened on its own. */
export function asOwnModelDir(md: ModelDir, model: ModelProto): string {
  const dir = mkdtempSync(join(tmpdir(), 'ep-userq-'));
  for (const f of readdirSync(md.dir)) if (!f.endsWith('.onnx')) copyFileSync(join(md.dir, f), join(dir, f));
  saveOnnxFile(model, join(dir, 'model.onnx'));
  return dir;
}

/** Writes `model` to a temp file and returns its path. */
export function writeTemp(model: ModelProto, name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ep-userq-')), name);
  saveOnnxFile(model, path);
  return path;
}

/**
 * The model directory as a large-model export writes it: model.onnx holding the graph, model.onnx.data
 * the weights (every initializer of 1 KiB or more), tokenizer and config files beside them.
 */
export function asExternalDataDir(md: ModelDir, model: ModelProto = md.model.proto): string {
  const dir = mkdtempSync(join(tmpdir(), 'ep-extdata-'));
  for (const f of readdirSync(md.dir)) if (!f.endsWith('.onnx')) copyFileSync(join(md.dir, f), join(dir, f));
  saveOnnxFile(model, join(dir, 'model.onnx'), { externalData: true });
  return dir;
}

/** The export with fixed input dimensions ([batch, sequence] = `dims`), as `optimum-cli --batch_size 1 --sequence_length 64` writes it. */
export function fixedShapeModel(md: ModelDir, dims: [number, number]): ModelProto {
  const m = cloneForEdit(md.model.proto);
  m.graph.input = m.graph.input.map((i) => tensorValueInfo(i.name, DataType.INT64, dims));
  return m;
}

/** The export that takes `position_ids` as an input (as many Hugging Face exports do) instead of computing them. */
export function positionIdsModel(md: ModelDir): ModelProto {
  const m = cloneForEdit(md.model.proto);
  m.graph.node = m.graph.node.map((n) => (n.input.includes('embeddings/position_ids') ? { ...n, input: n.input.map((i) => (i === 'embeddings/position_ids' ? 'position_ids' : i)) } as NodeProto : n));
  m.graph.input = [...m.graph.input, tensorValueInfo('position_ids', DataType.INT64, ['batch', 'sequence'])];
  pruneUnused(m.graph);
  return m;
}
