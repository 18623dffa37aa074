import { DataType, type NodeProto, type TensorProto } from './proto.ts';
import type { GraphIndex } from './graph-index.ts';
import { dimsOf, elementCount, readFloats } from './tensor-data.ts';

/**
 * What kind of transformer a graph is, read from its structure (names differ between exporters):
 * - decoder when the scores of the first attention Softmax are masked by something triangular: a Trilu
 *   node, a constant lower- or upper-triangular buffer (HF GPT-2's sliced `attn.bias`), or a comparison of
 *   two Range-derived position tensors (what torch exports of recent HF models write); else encoder;
 * - pre-LayerNorm when the norm that feeds the first attention block normalises a tensor the block's
 *   residual Add also reads (x + attn(ln(x))), post-LayerNorm when the norm's output is that residual
 *   (ln(x + attn(x)), BERT);
 * - RMSNorm when the norms are mean-free (x / sqrt(mean(x^2) + eps)), LayerNorm otherwise;
 * - rotary positions when the query path holds rotate_half's Neg, learned ones when a second embedding
 *   table is gathered by positions, and whether K/V heads are repeated to the query heads (grouped-query).
 */
export interface Architecture {
  kind: 'encoder' | 'decoder';
  /** the construct that makes attention causal, in words; null for an encoder */
  causalMask: string | null;
  norm: 'pre-norm' | 'post-norm';
  normOp: 'LayerNorm' | 'RMSNorm';
  positions: 'learned' | 'rotary' | 'none';
  /** K/V heads repeated to the query heads (grouped-query or multi-query attention) */
  groupedQuery: boolean;
}

const MATMULS = new Set(['MatMul', 'MatMulInteger', 'QLinearMatMul', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'MatMulNBits', 'Gemm']);
const COMPARISONS = new Set(['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);

/** Nodes upstream of `tensor`, nearest first, without crossing a matrix product (the scores' own inputs). */
function upstream(g: GraphIndex, tensor: string, limit = 60): NodeProto[] {
  const out: NodeProto[] = [];
  const seen = new Set<string>();
  const queue = [tensor];
  while (queue.length > 0 && out.length < limit) {
    const t = queue.shift()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = g.producer.get(t)?.node;
    if (!p) continue;
    out.push(p);
    if (!MATMULS.has(p.opType)) queue.push(...p.input.filter(Boolean));
  }
  return out;
}

function dependsOnRange(g: GraphIndex, tensor: string): boolean {
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (seen.has(t) || seen.size > 40) continue;
    seen.add(t);
    const p = g.producer.get(t)?.node;
    if (!p) continue;
    if (p.opType === 'Range') return true;
    stack.push(...p.input.filter(Boolean));
  }
  return false;
}

/** A constant whose last two dims are one square matrix with one value on and below the diagonal and another above. */
function triangular(t: TensorProto): boolean {
  const dims = dimsOf(t);
  const n = dims[dims.length - 1];
  if (dims.length < 2 || n < 2 || dims[dims.length - 2] !== n || elementCount(dims) > 1 << 24) return false;
  let values: ArrayLike<number>;
  if (t.dataType === DataType.BOOL || t.dataType === DataType.UINT8) values = t.rawData;
  else if (t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16) values = readFloats(t);
  else return false;
  const below = values[n]; // [1, 0]
  const above = values[1]; // [0, 1]
  if (below === above) return false;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) if (values[i * n + j] !== (j > i ? above : below)) return false;
  }
  return true;
}

/** The causal construct masking the scores that feed `softmaxInput`, in words, or null. */
export function causalMaskOf(g: GraphIndex, softmaxInput: string): string | null {
  for (const n of upstream(g, softmaxInput)) {
    if (n.opType === 'Trilu') return `Trilu node ${n.name || n.output[0]}`;
    if (COMPARISONS.has(n.opType) && n.input.length === 2 && n.input.every((i) => dependsOnRange(g, i))) {
      return `${n.opType} of two position ranges (${n.name || n.output[0]})`;
    }
    for (const i of n.input) {
      const init = i ? g.initializers.get(i) : undefined;
      if (init && triangular(init)) return `triangular constant ${init.name} [${dimsOf(init).join(', ')}] (${n.opType})`;
    }
  }
  return null;
}

export interface NormSite { tensor: string; index: number; input: string; rms: boolean }

export function detectArchitecture(g: GraphIndex, firstSoftmax: { node: NodeProto; index: number }, norms: readonly NormSite[], inputIds: string | undefined): Architecture {
  const causalMask = causalMaskOf(g, firstSoftmax.node.input[0]);
  const before = norms.filter((n) => n.index < firstSoftmax.index);
  const first = before[before.length - 1];
  // an fp16-compute variant casts between the residual and the norm (the norm stays fp32): look through the Casts
  const uncast = (t: string): string => {
    let x = t;
    for (let p = g.producer.get(x)?.node; p?.opType === 'Cast'; p = g.producer.get(x)?.node) x = p.input[0];
    return x;
  };
  const residualAfter = (t: string): boolean => g.consumersThroughConversions(uncast(t)).some(({ node, index }) => node.opType === 'Add' && index > firstSoftmax.index);
  const norm = first && residualAfter(first.input) && !residualAfter(first.tensor) ? 'pre-norm' : 'post-norm';
  // the scores MatMul: query and key paths from the projections to the product
  const scores = upstream(g, firstSoftmax.node.input[0]).find((n) => MATMULS.has(n.opType));
  const paths = scores ? scores.input.map((i) => upstream(g, i, 30)) : [];
  const rotary = paths.some((p) => p.some((n) => n.opType === 'Neg'));
  const groupedQuery = paths.some((p) => p.some((n) => n.opType === 'Expand' || n.opType === 'Tile' || (n.opType === 'Concat' && n.input.length > 1 && new Set(n.input).size === 1)));
  const learned = g.graph.node.some((n) => n.opType === 'Gather' && n.input[1] !== inputIds && (() => {
    const t = g.weightInitializer(n.input[0]);
    return t !== undefined && dimsOf(t).length === 2 && dimsOf(t)[0] > 2 && (t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16 || t.dataType === DataType.INT8) && (dependsOnRange(g, n.input[1]) || g.graph.input.some((x) => x.name === n.input[1] && x.name === 'position_ids'));
  })());
  return {
    kind: causalMask ? 'decoder' : 'encoder',
    causalMask,
    norm,
    normOp: first?.rms ? 'RMSNorm' : 'LayerNorm',
    positions: rotary ? 'rotary' : learned ? 'learned' : 'none',
    groupedQuery,
  };
}

/** One line for `models inspect`. */
export function describeArchitecture(a: Architecture): string {
  if (a.kind === 'encoder') return `encoder (no causal mask; ${a.norm} ${a.normOp}, ${a.positions} positions)`;
  return `decoder-only causal LM (causal mask: ${a.causalMask}; ${a.norm} ${a.normOp}, ${a.positions} positions${a.groupedQuery ? ', grouped-query attention (K/V heads repeated)' : ''})`;
}
