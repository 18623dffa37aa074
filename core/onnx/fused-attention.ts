import { epError } from '../errors.ts';
import { getAttr, node } from './graph-builder.ts';
import { GraphIndex } from './graph-index.ts';
import { cloneForEdit, DataType, type ModelProto, type NodeProto, type TensorProto } from './proto.ts';
import { dimsOf, floatTensor, int64Tensor } from './tensor-data.ts';

/**
 * Undoes attention fusion: each com.microsoft Attention (packed QKV weight and bias) and MultiHeadAttention
 * (separate Q/K/V inputs) node becomes the MatMul/Add/Reshape/Transpose/MatMul/Softmax/MatMul subgraph that
 * PyTorch exports, so the per-head Softmax output the attention probes read exists again. The arithmetic is
 * the CPU kernel's (onnxruntime attention_cpu_base / attention_helper PrepareMask): scores = scale * Q K^T + mask,
 * mask = 0 for attended keys and mask_filter_value (default -10000) for masked ones, softmax over keys.
 * Written by hand because no library does it: onnxruntime's optimizer only fuses, never unfuses.
 *
 * Forms undone: no mask; a 2-D key padding mask [batch, keys] (1 = attend); a 1-D mask_index of valid lengths
 * [batch] or of ends then starts [2 * batch] (Attention only). Refused with EP_MODEL_ATTENTION_FORM, naming the
 * construct: past/present state, attention bias, causal (unidirectional), rotary, unequal qkv_hidden_sizes,
 * 3-D/4-D masks, packed QKV/KV inputs of MultiHeadAttention, masks whose rank the graph does not show.
 */
export interface DecomposedAttention { op: string; nodes: number }

const MS = 'com.microsoft';
const FUSED_OPS = new Set(['Attention', 'MultiHeadAttention']);

/** Returns the model itself when it has no fused attention, else a copy with every fused node decomposed. */
export function decomposeFusedAttention(model: ModelProto, label = 'model'): { model: ModelProto; decomposed: DecomposedAttention[] } {
  const graph = model.graph;
  if (!graph.node.some((n) => FUSED_OPS.has(n.opType) && n.domain === MS)) return { model, decomposed: [] };
  const g = new GraphIndex(graph);
  const defaultOpset = Number(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  const out: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const counts = new Map<string, number>();
  for (const n of graph.node) {
    if (!(FUSED_OPS.has(n.opType) && n.domain === MS)) { out.push(n); continue; }
    const refuse = (construct: string): never => { throw epError('EP_MODEL_ATTENTION_FORM', { file: label, node: n.name || n.output[0], op: n.opType, construct }); };
    // Reshape/Gather/Range/Where signatures used below are those of opset 11 on
    if (defaultOpset < 11) refuse(`opset ${defaultOpset} (11 or later is needed to write the decomposed graph)`);
    const w = new Writer(`${n.name || n.output[0]}/edgeprobe_unfused`, out, inits);
    const heads = Number(getAttr(n, 'num_heads')?.i ?? 0);
    if (!(heads > 0)) refuse('no num_heads attribute');
    if (Number(getAttr(n, 'unidirectional')?.i ?? 0) !== 0) refuse('causal (unidirectional) attention');
    if (Number(getAttr(n, 'do_rotary')?.i ?? 0) !== 0) refuse('rotary embeddings (do_rotary)');
    if (n.output.slice(1).some(Boolean)) refuse('present key/value outputs');
    const scaleAttr = getAttr(n, 'scale');
    const filter = getAttr(n, 'mask_filter_value')?.f ?? -10000;
    let q: string; let k: string; let v: string; let mask: string;
    if (n.opType === 'Attention') {
      const [x, weight, bias] = n.input;
      mask = n.input[3] ?? '';
      if (n.input[4]) refuse('past state input');
      if (n.input[5]) refuse('attention bias (relative position bias) input');
      if (n.input[6]) refuse('past_sequence_length input');
      const sizes = getAttr(n, 'qkv_hidden_sizes')?.ints.map(Number);
      if (sizes && sizes.length > 0 && !(sizes.length === 3 && sizes[0] === sizes[1] && sizes[1] === sizes[2])) refuse(`unequal qkv_hidden_sizes [${sizes.join(', ')}]`);
      // [B, S, 3H] -> [B, S, 3, N, h] -> [3, B, N, S, h]: Q, K, V are its three slices
      let proj = w.op('MatMul', [x, weight]);
      if (bias) proj = w.op('Add', [proj, bias]);
      const qkv = w.op('Transpose', [w.op('Reshape', [proj, w.ints([0, 0, 3, heads, -1])])], { perm: [2, 0, 3, 1, 4] });
      [q, k, v] = [0, 1, 2].map((i) => w.op('Gather', [qkv, w.scalarInt(i)], { axis: 0 }));
    } else {
      const [query, key, value, bias] = n.input;
      mask = n.input[4] ?? '';
      if (!key || !value) refuse('packed QKV query (no separate key and value inputs)');
      if (n.input[5]) refuse('attention bias input');
      if (n.input.slice(6).some(Boolean)) refuse('past key/value inputs');
      for (const t of [query, key, value]) {
        const rank = staticRank(g, t);
        if (rank !== undefined && rank !== 3) refuse(`${t} of rank ${rank} (packed or per-head [batch, heads, seq, head] inputs)`);
      }
      let qkv = [query, key, value];
      if (bias) {
        // packed bias [3D]: equal thirds, the form BERT exports write
        const len = g.initializers.get(bias) ? dimsOf(g.initializers.get(bias)!)[0] : undefined;
        if (len !== undefined && len % 3 !== 0) refuse(`bias of length ${len} (not three equal parts)`);
        const parts = w.op('Reshape', [bias, w.ints([3, -1])]);
        qkv = qkv.map((t, i) => w.op('Add', [t, w.op('Gather', [parts, w.scalarInt(i)], { axis: 0 })]));
      }
      [q, k, v] = qkv.map((t) => w.op('Transpose', [w.op('Reshape', [t, w.ints([0, 0, heads, -1])])], { perm: [0, 2, 1, 3] }));
    }
    // scores [B, N, S, T] = scale * Q K^T (+ mask); the default scale 1/sqrt(head size) is read from Q's shape
    const kt = w.op('Transpose', [k], { perm: [0, 1, 3, 2] });
    const scale = scaleAttr && scaleAttr.f !== 0 ? w.float(scaleAttr.f) : w.op('Reciprocal', [w.op('Sqrt', [w.op('Cast', [w.op('Gather', [w.op('Shape', [q]), w.scalarInt(3)], { axis: 0 })], { to: DataType.FLOAT })])]);
    let scores = w.op('Mul', [w.op('MatMul', [q, kt]), scale]);
    if (mask) scores = w.op('Add', [scores, maskBias(w, g, mask, n.opType, filter, k, refuse)]);
    const probs = w.op('Softmax', [scores], { axis: -1 });
    const context = w.op('MatMul', [probs, v]);
    out.push(node('Reshape', [w.op('Transpose', [context], { perm: [0, 2, 1, 3] }), w.ints([0, 0, -1])], [n.output[0]], {}, `${w.prefix}/merge`));
    counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  }
  const copy = cloneForEdit(model);
  copy.graph.node = out;
  copy.graph.initializer.push(...inits);
  return { model: copy, decomposed: [...counts].map(([op, nodes]) => ({ op, nodes })) };
}

/** The additive mask [B, 1, 1, T] (0 attended, `filter` masked) from a fused op's mask input. */
function maskBias(w: Writer, g: GraphIndex, mask: string, op: string, filter: number, k: string, refuse: (c: string) => never): string {
  const rank = staticRank(g, mask);
  if (rank === 2) {
    const bias = w.op('Where', [w.op('Greater', [w.op('Cast', [mask], { to: DataType.INT64 }), w.int64([], [0])]), w.float(0), w.float(filter)]);
    return w.op('Reshape', [bias, w.ints([0, 1, 1, -1])]);
  }
  if (rank === 1 && op === 'Attention') {
    // [B] ends or [2B] ends then starts: as rows of [k, B], padded with a zero row so row 1 is the start (0 without one)
    const batch = w.op('Gather', [w.op('Shape', [k]), w.ints([0])], { axis: 0 });
    const rows = w.op('Reshape', [w.op('Cast', [mask], { to: DataType.INT64 }), w.op('Concat', [w.ints([-1]), batch], { axis: 0 })]);
    const zero = w.op('ConstantOfShape', [w.op('Concat', [w.ints([1]), batch], { axis: 0 })], { value: int64Tensor('zero', [1], [0]) });
    const padded = w.op('Concat', [rows, zero], { axis: 0 });
    const column = (i: number): string => w.op('Reshape', [w.op('Gather', [padded, w.scalarInt(i)], { axis: 0 }), w.ints([-1, 1])]);
    const keys = w.op('Gather', [w.op('Shape', [k]), w.scalarInt(2)], { axis: 0 });
    const pos = w.op('Reshape', [w.op('Range', [w.int64([], [0]), keys, w.int64([], [1])]), w.ints([1, -1])]);
    const masked = w.op('Or', [w.op('Not', [w.op('Less', [pos, column(0)])]), w.op('Less', [pos, column(1)])]);
    return w.op('Reshape', [w.op('Where', [masked, w.float(filter), w.float(0)]), w.ints([0, 1, 1, -1])]);
  }
  if (rank === undefined) refuse(`mask ${mask} whose rank the graph does not show`);
  return refuse(rank === 1 ? `1-D mask ${mask} on ${op} (only its 2-D key padding mask is undone)` : `${rank}-D attention mask ${mask}`);
}

/** Rank of a tensor when the graph states or implies it (declared shapes, casts, ReduceSum, EmbedLayerNormalization's mask_index). */
function staticRank(g: GraphIndex, tensor: string, depth = 8): number | undefined {
  const graph = g.graph;
  const declared = [...graph.input, ...graph.valueInfo, ...graph.output].find((v) => v.name === tensor)?.type?.tensorType?.shape?.dim;
  if (declared) return declared.length;
  const init = g.initializers.get(tensor);
  if (init) return dimsOf(init).length;
  const p = g.producer.get(tensor)?.node;
  if (!p || depth === 0) return undefined;
  if (p.opType === 'EmbedLayerNormalization') return p.output[1] === tensor ? 1 : 3;
  if (['Cast', 'Identity', 'LayerNormalization', 'SkipLayerNormalization'].includes(p.opType)) return staticRank(g, p.input[0], depth - 1);
  if (p.opType === 'MatMul' || p.opType === 'Add') {
    const ranks = p.input.map((i) => staticRank(g, i, depth - 1));
    return ranks.some((r) => r === undefined) ? undefined : Math.max(...(ranks as number[]));
  }
  if (p.opType === 'ReduceSum') {
    const inRank = staticRank(g, p.input[0], depth - 1);
    const axesInit = p.input[1] ? g.initializers.get(p.input[1]) : undefined;
    const axes = getAttr(p, 'axes')?.ints.length ?? (axesInit ? dimsOf(axesInit).reduce((a, b) => a * b, 1) : undefined);
    const keep = Number(getAttr(p, 'keepdims')?.i ?? 1);
    if (inRank === undefined || axes === undefined) return undefined;
    return keep ? inRank : inRank - axes;
  }
  return undefined;
}

/** Appends uniquely named nodes and constants under one prefix. */
class Writer {
  private n = 0;
  constructor(readonly prefix: string, private readonly nodes: NodeProto[], private readonly inits: TensorProto[]) {}

  op(opType: string, inputs: string[], attrs: Parameters<typeof node>[3] = {}): string {
    const name = `${this.prefix}/${opType}_${this.n++}`;
    this.nodes.push(node(opType, inputs, [name], attrs, name));
    return name;
  }

  private constant(t: (name: string) => TensorProto): string {
    const name = `${this.prefix}/const_${this.n++}`;
    this.inits.push(t(name));
    return name;
  }

  ints(values: number[]): string { return this.constant((name) => int64Tensor(name, [values.length], values)); }
  int64(dims: number[], values: number[]): string { return this.constant((name) => int64Tensor(name, dims, values)); }
  scalarInt(value: number): string { return this.int64([], [value]); }
  float(value: number): string { return this.constant((name) => floatTensor(name, [], Float32Array.of(value))); }
}
