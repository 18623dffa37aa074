import { DataType, getIntAttr } from '../../core/onnx/graph-builder.ts';
import { dimsOf } from '../../core/onnx/tensor-data.ts';
import type { GraphProto, NodeProto, TensorProto } from '../../core/onnx/proto.ts';

/**
 * The weights a variant rewrites: MatMuls whose B input is a float [K, N] initializer (the dense layers),
 * and Gathers whose data is a float [rows, cols] initializer on axis 0 (the embedding tables).
 * Attention's MatMuls (both inputs computed) and shape arithmetic (Gather on Shape) are not sites.
 */
export interface WeightSite {
  kind: 'matmul' | 'gather';
  node: NodeProto;
  weight: TensorProto;
  rows: number;
  cols: number;
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
  for (const node of graph.node) {
    if (node.opType === 'MatMul' && (node.domain ?? '') === '') {
      const w = float2d(node.input[1]);
      if (w) { const [rows, cols] = dimsOf(w); sites.push({ kind: 'matmul', node, weight: w, rows, cols }); }
    } else if (node.opType === 'Gather' && (node.domain ?? '') === '' && getIntAttr(node, 'axis', 0) === 0) {
      const w = float2d(node.input[0]);
      if (w) { const [rows, cols] = dimsOf(w); sites.push({ kind: 'gather', node, weight: w, rows, cols }); }
    }
  }
  return sites;
}

/** Drops initializers no node or graph output reads any more (the float originals of rewritten weights). */
export function pruneUnusedInitializers(graph: GraphProto): void {
  const used = new Set<string>();
  for (const n of graph.node) for (const i of n.input) used.add(i);
  for (const o of graph.output) used.add(o.name);
  graph.initializer = graph.initializer.filter((t) => used.has(t.name));
}
