import { DataType, getIntAttr } from '../../core/onnx/graph-builder.ts';
import { dimsOf } from '../../core/onnx/tensor-data.ts';
import type { GraphProto, NodeProto, TensorProto } from '../../core/onnx/proto.ts';

/**
 * The weights a variant rewrites: MatMuls (and plain Gemms) whose B input is a float [K, N] initializer (the dense layers),
 * and Gathers whose data is a float [rows, cols] initializer on axis 0 (the embedding tables).
 * Attention's MatMuls (both inputs computed) and shape arithmetic (Gather on Shape) are not sites.
 */
export interface WeightSite {
  kind: 'matmul' | 'gather';
  node: NodeProto;
  weight: TensorProto;
  /** shape of the matrix the node uses (for a transposed weight, the initializer's shape reversed) */
  rows: number;
  cols: number;
  /** the MatMul reads Transpose(weight), or a Gemm has transB: tied embedding / decoder matrices in masked-LM heads */
  transposed: boolean;
  /** a Gemm's C input, added after the product */
  bias?: string;
}

export function findWeightSites(graph: GraphProto): WeightSite[] {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const graphInputs = new Set(graph.input.map((i) => i.name));
  const sites: WeightSite[] = [];
  const float2d = (name: string): TensorProto | undefined => {
    const t = inits.get(name);
    // an initializer that is also a graph input can be overridden at run time, so it is not a constant
    if (!t || graphInputs.has(name) || t.dataType !== DataType.FLOAT || t.dims.length !== 2) return undefined;
    return t;
  };
  const producers = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  for (const node of graph.node) {
    if (node.opType === 'MatMul' && (node.domain ?? '') === '') {
      const w = float2d(node.input[1]);
      if (w) { const [rows, cols] = dimsOf(w); sites.push({ kind: 'matmul', node, weight: w, rows, cols, transposed: false }); continue; }
      const t = producers.get(node.input[1]);
      const perm = t?.attribute.find((a) => a.name === 'perm')?.ints.map(Number);
      const tw = t?.opType === 'Transpose' && (!perm || (perm[0] === 1 && perm[1] === 0)) ? float2d(t.input[0]) : undefined;
      if (tw) { const [r, c] = dimsOf(tw); sites.push({ kind: 'matmul', node, weight: tw, rows: c, cols: r, transposed: true }); }
    } else if (node.opType === 'Gemm' && (node.domain ?? '') === '') {
      // Gemm(A, B, C) with alpha = beta = 1 and A untransposed is MatMul(A, B or B^T) + C
      const f = (name: string): number => node.attribute.find((a) => a.name === name)?.f ?? 1;
      const w = float2d(node.input[1]);
      if (!w || f('alpha') !== 1 || f('beta') !== 1 || getIntAttr(node, 'transA', 0) !== 0) continue;
      const [r, c] = dimsOf(w);
      const transposed = getIntAttr(node, 'transB', 0) === 1;
      sites.push({ kind: 'matmul', node, weight: w, rows: transposed ? c : r, cols: transposed ? r : c, transposed, bias: node.input[2] || undefined });
    } else if (node.opType === 'Gather' && (node.domain ?? '') === '' && getIntAttr(node, 'axis', 0) === 0) {
      const w = float2d(node.input[0]);
      if (w) { const [rows, cols] = dimsOf(w); sites.push({ kind: 'gather', node, weight: w, rows, cols, transposed: false }); }
    }
  }
  return sites;
}

/**
 * Drops nodes whose outputs nobody reads (a Transpose left behind by a rewritten tied weight), then
 * initializers no node or graph output reads any more (the float originals of rewritten weights).
 */
export function pruneUnused(graph: GraphProto): void {
  const outputs = new Set(graph.output.map((o) => o.name));
  for (let changed = true; changed;) {
    const read = new Set(graph.node.flatMap((n) => n.input));
    const live = graph.node.filter((n) => n.output.some((o) => o && (read.has(o) || outputs.has(o))));
    changed = live.length !== graph.node.length;
    graph.node = live;
  }
  const used = new Set([...graph.node.flatMap((n) => n.input), ...outputs]);
  graph.initializer = graph.initializer.filter((t) => used.has(t.name));
}

/** Row-major [rows, cols] -> [cols, rows]. */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
