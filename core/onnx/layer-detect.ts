import { epError } from '../errors.ts';
import { dimsOf } from './tensor-data.ts';
import { GraphIndex } from './graph-index.ts';
import { quantizedRoles } from './quantized-weights.ts';
import { DataType, type GraphProto, type NodeProto } from './proto.ts';
import { detectArchitecture, type Architecture, type NormSite } from './architecture-detect.ts';

/**
 * Where a BERT-family encoder keeps what edgeprobe exposes, found from graph structure alone so that
 * PyTorch exports, optimum exports and our own generated graphs (whose node names all differ) work.
 *
 * Rules (post-LayerNorm BERT blocks):
 * - attention probabilities: each Softmax whose output is multiplied (MatMul) with a computed tensor,
 *   i.e. applied to values; in topological order these are layers 1..L.
 * - LayerNorm outputs: a LayerNormalization / SkipLayerNormalization node, or the decomposed form
 *   ReduceMean(x) -> Sub(x, mean) -> ... -> Div -> Mul(gamma) -> Add(beta) that exporters write.
 * - hidden state 0 (the embeddings output) is the last LayerNorm before the first Softmax; hidden state
 *   l is the second LayerNorm after Softmax l (one after attention, one after the feed-forward block).
 * - word embeddings: the Gather whose indices are the `input_ids` input.
 */
export interface LayerMap {
  layers: number;
  /** Softmax output tensor per layer (index 0 = layer 1). */
  attention: string[];
  /** hidden[0] = embeddings output, hidden[l] = output of layer l. */
  hidden: string[];
  wordEmbeddings?: string;
  /**
   * Inputs of every LayerNorm (the un-normalised residual stream), in graph order. This is where fp16
   * overflows first in BERT-family models, so the numeric health gate inspects them.
   */
  preNorm: string[];
  /** Initializer holding the word-embedding table, when found. */
  wordEmbeddingTable?: { name: string; vocab: number; hidden: number };
  /** Node indices per layer: first node of layer l+1's block .. Softmax, used to scope per-layer rewrites. */
  softmaxNodes: string[];
  /** encoder or decoder, pre- or post-norm (core/onnx/architecture-detect.ts) */
  architecture: Architecture;
}

const QUANTIZED_TYPES = new Set<number>([DataType.INT8, DataType.UINT8]);
/** Products of two tensors in every form quantizers write (float, integer, QLinear, com.microsoft fused). */
const MATMUL_OPS = new Set(['MatMul', 'MatMulInteger', 'QLinearMatMul', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'MatMulNBits']);
const FUSED_ATTENTION_OPS = new Set(['Attention', 'MultiHeadAttention', 'PackedAttention', 'GroupQueryAttention', 'DecoderAttention']);

export function detectLayers(graph: GraphProto, label = 'model'): LayerMap {
  const g = new GraphIndex(graph);
  const nodes = graph.node;
  const softmaxes = nodes
    .map((node, index) => ({ node, index }))
    .filter(({ node }) => node.opType === 'Softmax' && g.consumersThroughConversions(node.output[0]).some(({ node: c }) => MATMUL_OPS.has(c.opType) && !c.input.every((i) => !i || g.isConstant(i))));
  if (softmaxes.length === 0) {
    const fused = nodes.find((n) => FUSED_ATTENTION_OPS.has(n.opType));
    if (fused) {
      throw epError('EP_MODEL_ATTENTION_FUSED', { file: label, op: fused.opType });
    }
    // QOperator format: the probabilities exist only as uint8 inside QLinearSoftmax
    if (nodes.some((n) => n.opType === 'QLinearSoftmax')) throw epError('EP_MODEL_QLINEAR_SOFTMAX', { file: label });
    throw epError('EP_MODEL_NO_SOFTMAX', { file: label });
  }
  const lnOutputs = findLayerNormOutputs(g, nodes);
  const inputIds = graph.input.find((i) => i.name === 'input_ids')?.name ?? graph.input[0]?.name;
  const architecture = detectArchitecture(g, softmaxes[0], lnOutputs, inputIds);
  // post-norm (BERT): a norm's output is the residual stream; pre-norm (GPT-2, Llama): its input is
  const stream = (ln: LnOutput): string => (architecture.norm === 'pre-norm' ? ln.input : ln.tensor);
  const hidden: string[] = [];
  const before = lnOutputs.filter((ln) => ln.index < softmaxes[0].index);
  if (before.length === 0) throw epError('EP_MODEL_NO_EMBEDDING_LAYERNORM', { file: label });
  hidden.push(stream(before[before.length - 1]));
  for (let l = 0; l < softmaxes.length; l++) {
    const after = lnOutputs.filter((ln) => ln.index > softmaxes[l].index && (l + 1 >= softmaxes.length || ln.index < softmaxes[l + 1].index));
    if (after.length < 2) {
      throw epError('EP_MODEL_LAYER_NORMS', { file: label, layer: l + 1, found: after.length });
    }
    hidden.push(stream(after[1]));
  }
  let wordEmbeddings: string | undefined;
  let wordEmbeddingTable: LayerMap['wordEmbeddingTable'];
  for (const { node } of g.consumersOf(inputIds ?? '')) {
    if (node.opType !== 'Gather') continue;
    const table = g.weightInitializer(node.input[0]);
    wordEmbeddings = table && QUANTIZED_TYPES.has(table.dataType) ? g.dequantizedOutput(node.output[0]) : node.output[0];
    if (table) {
      const [vocab, h] = dimsOf(table);
      wordEmbeddingTable = { name: table.name, vocab, hidden: h };
    }
    break;
  }
  return { layers: softmaxes.length, preNorm: lnOutputs.map((ln) => ln.input).filter(Boolean), attention: softmaxes.map((s) => s.node.output[0]), hidden, wordEmbeddings, wordEmbeddingTable, softmaxNodes: softmaxes.map((s) => s.node.name), architecture };
}

type LnOutput = NormSite;
/** Fused RMSNorm forms: onnxruntime's contrib op and ONNX opset 23's. */
const FUSED_RMS = new Set(['SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'RMSNormalization']);

function findLayerNormOutputs(g: GraphIndex, nodes: NodeProto[]): LnOutput[] {
  const out: LnOutput[] = [];
  nodes.forEach((node, index) => {
    // EmbedLayerNormalization (com.microsoft): the embeddings' sum and LayerNorm in one node, output 0 the normalised state
    if (node.opType === 'LayerNormalization' || node.opType === 'SkipLayerNormalization' || node.opType === 'EmbedLayerNormalization' || FUSED_RMS.has(node.opType)) {
      // EmbedLayerNormalization's inputs are token ids: its un-normalised sum is internal, so no pre-norm tensor
      out.push({ tensor: node.output[0], index, input: node.opType === 'EmbedLayerNormalization' ? '' : node.input[0], rms: FUSED_RMS.has(node.opType) });
      return;
    }
    if (node.opType !== 'ReduceMean') return;
    const x = node.input[0];
    const sub = g.consumersOf(node.output[0]).find(({ node: c }) => c.opType === 'Sub' && c.input[0] === x);
    const rms = sub ? undefined : rmsNormOf(g, node);
    if (!sub && !rms) return; // the variance ReduceMean, or a pooling mean
    const div = sub ? g.consumersOf(sub.node.output[0]).find(({ node: c }) => c.opType === 'Div' || c.opType === 'Mul') : rms!.div;
    if (!div) return;
    // walk through the affine tail (Mul gamma, Add beta) to the LayerNorm's output
    let tensor = div.node.output[0];
    let last = div.index;
    for (;;) {
      // an fp16-compute graph casts the normalised tensor back to fp16 between Div and the affine tail
      const cs = g.consumersThroughConversions(tensor);
      if (cs.length !== 1) break;
      const c = cs[0];
      if (!((c.node.opType === 'Mul' || c.node.opType === 'Add') && c.node.input.some((i) => i !== tensor && g.isConstant(i)))) break;
      tensor = c.node.output[0];
      last = c.index;
    }
    out.push({ tensor, index: last, input: rms ? rms.x : x, rms: rms !== undefined });
  });
  return out.sort((a, b) => a.index - b.index);
}

/**
 * RMSNorm written out (HF Llama): ReduceMean(Pow(x, 2) or Mul(x, x)) -> Add(eps) -> Sqrt -> Div(x, .), or
 * -> Reciprocal / Sqrt -> Mul(x, .). A LayerNorm's variance branch has the same shape on x - mean(x), so a
 * squared tensor that is itself centred (Sub(y, ReduceMean(y))) is left to the LayerNorm rule.
 */
function rmsNormOf(g: GraphIndex, mean: NodeProto): { x: string; div: { node: NodeProto; index: number } } | undefined {
  const sq = g.producer.get(mean.input[0])?.node;
  if (!sq) return undefined;
  const x = sq.input[0];
  const squares = (sq.opType === 'Pow' && g.isConstant(sq.input[1])) || (sq.opType === 'Mul' && sq.input[1] === x);
  if (!squares) return undefined;
  const centred = g.producer.get(x)?.node;
  if (centred?.opType === 'Sub' && g.producer.get(centred.input[1])?.node.opType === 'ReduceMean') return undefined;
  let t = mean.output[0];
  for (let hops = 0; hops < 4; hops++) {
    const cs = g.consumersThroughConversions(t);
    const div = cs.find(({ node: c }) => (c.opType === 'Div' && c.input[0] === x && c.input[1] !== x) || (c.opType === 'Mul' && c.input.includes(x) && !c.input.every((i) => i === x)));
    if (div && hops > 0) return { x, div };
    const next = cs.find(({ node: c }) => ['Add', 'Sqrt', 'Reciprocal'].includes(c.opType));
    if (!next) return undefined;
    t = next.node.output[0];
  }
  return undefined;
}

/**
 * Weight initializers that belong to each layer's block alone (index 0 = layer 1): consumed only
 * by nodes between hidden state l-1 and hidden state l, found through the casts and dequantization
 * variants insert. Constants shared between layers (scale, reshape shapes, the attention mask) and
 * scalars are left out, so rewriting a layer's parameters never touches another layer.
 * `float` are FLOAT/FLOAT16 weights (quantization scales excluded: they are part of an encoding);
 * `quantized` are int8/uint8 weights of quantized ops; `packed` are ones in encodings with several
 * values per byte (MatMulNBits, INT4), which cannot be re-drawn element by element.
 */
export interface LayerWeights { float: string[]; quantized: string[]; packed: string[] }

export function layerParameters(graph: GraphProto, map: LayerMap): string[][] {
  return layerWeights(graph, map).map((w) => w.float);
}

export function layerWeights(graph: GraphProto, map: LayerMap): LayerWeights[] {
  const g = new GraphIndex(graph);
  const owner = new Map<string, number>(); // initializer -> layer, or -1 when used outside one block
  const blocks = Array.from({ length: map.layers }, (_, l) => g.nodesBetween(map.hidden[l], map.hidden[l + 1]));
  graph.node.forEach((node, index) => {
    const layer = blocks.findIndex((b) => b.has(index));
    // a Cast/DequantizeLinear of a weight runs outside any block; its consumer inside the block counts
    if (layer < 0 && node.output.every((o) => g.isConstant(o))) return;
    for (const input of node.input) {
      const init = input ? g.weightInitializer(input) : undefined;
      if (!init) continue;
      const prev = owner.get(init.name);
      owner.set(init.name, prev === undefined || prev === layer ? layer : -1);
    }
  });
  const roles = quantizedRoles(graph);
  const out: LayerWeights[] = blocks.map(() => ({ float: [], quantized: [], packed: [] }));
  for (const [name, layer] of owner) {
    if (layer < 0) continue;
    const t = g.initializers.get(name)!;
    if (dimsOf(t).reduce((a, b) => a * b, 1) <= 1) continue;
    const role = roles.get(name);
    if (role === 'data') out[layer].quantized.push(name);
    else if (role === 'packed') out[layer].packed.push(name);
    else if (role !== 'param' && (t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16)) out[layer].float.push(name);
  }
  return out;
}
