import { DataType, node, tensorValueInfo } from './graph-builder.ts';
import { detectLayers, type LayerMap } from './layer-detect.ts';
import { cloneForEdit, type ModelProto } from './proto.ts';

export const EXPOSED_PREFIX = 'edgeprobe.';
export const hiddenOutput = (l: number): string => `${EXPOSED_PREFIX}hidden.${l}`;
export const attentionOutput = (l: number): string => `${EXPOSED_PREFIX}attention.${l}`;
export const WORD_EMBEDDINGS_OUTPUT = `${EXPOSED_PREFIX}word_embeddings`;
export const preNormOutput = (i: number): string => `${EXPOSED_PREFIX}prenorm.${i}`;

export interface InstrumentOptions {
  /** also expose every LayerNorm input (for the numeric health gate); off by default as it costs outputs */
  preNorm?: boolean;
}

export interface InstrumentedModel {
  model: ModelProto;
  layers: LayerMap;
}

/**
 * Returns a copy of the model whose run also yields, as float32 graph outputs:
 * `edgeprobe.hidden.{0..L}` [batch, seq, hidden], `edgeprobe.attention.{1..L}` [batch, heads, seq, seq]
 * and `edgeprobe.word_embeddings` [batch, seq, hidden]; with `preNorm`, `edgeprobe.prenorm.{i}` for each LayerNorm input. Each exposed tensor passes through a Cast to
 * float so the outputs have one type whether the variant computes in fp32 or fp16.
 */
export function instrumentModel(source: ModelProto, label = 'model', opts: InstrumentOptions = {}): InstrumentedModel {
  const model = cloneForEdit(source);
  const graph = model.graph;
  const layers = detectLayers(graph, label);
  const expose = (tensor: string, name: string): void => {
    graph.node.push(node('Cast', [tensor], [name], { to: DataType.FLOAT }, `edgeprobe_expose_${name}`));
    graph.output.push(tensorValueInfo(name, DataType.FLOAT));
  };
  layers.hidden.forEach((t, l) => expose(t, hiddenOutput(l)));
  layers.attention.forEach((t, i) => expose(t, attentionOutput(i + 1)));
  if (layers.wordEmbeddings) expose(layers.wordEmbeddings, WORD_EMBEDDINGS_OUTPUT);
  if (opts.preNorm) layers.preNorm.forEach((t, i) => expose(t, preNormOutput(i)));
  return { model, layers };
}
