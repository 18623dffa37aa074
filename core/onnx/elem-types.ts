import { getAttr, getIntAttr } from './graph-builder.ts';
import { DataType, type GraphProto, type NodeProto } from './proto.ts';

/**
 * Element type of every tensor in a graph, propagated in node order from inputs, initializers and
 * per-op rules. Covers the ops BERT-family exports use; an op it does not know takes its first input's
 * type, which is right for the elementwise and data-movement ops that make up the rest.
 * (onnx's shape inference is Python/C++ only; this is the small part edgeprobe needs.)
 */
export function inferElemTypes(graph: GraphProto): Map<string, number> {
  const types = new Map<string, number>();
  for (const i of graph.input) { const t = i.type?.tensorType?.elemType; if (t) types.set(i.name, t); }
  for (const t of graph.initializer) types.set(t.name, t.dataType);
  for (const n of graph.node) {
    const outs = outputTypes(n, (name) => types.get(name));
    n.output.forEach((o, k) => { if (o && outs[k] !== undefined) types.set(o, outs[k]!); });
  }
  return types;
}

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'NonZero', 'ArgMax', 'ArgMin']);

function outputTypes(n: NodeProto, typeOf: (name: string) => number | undefined): Array<number | undefined> {
  const first = typeOf(n.input[0]);
  switch (n.opType) {
    case 'Cast': return [getIntAttr(n, 'to', DataType.FLOAT)];
    case 'Constant': return [getAttr(n, 'value')?.t?.dataType ?? (getAttr(n, 'value_float') ? DataType.FLOAT : DataType.INT64)];
    case 'ConstantOfShape': return [getAttr(n, 'value')?.t?.dataType ?? DataType.FLOAT];
    case 'Where': return [typeOf(n.input[1])];
    case 'Gather': case 'GatherElements': case 'GatherND': return [first];
    case 'MatMulInteger': case 'ConvInteger': return [DataType.INT32];
    case 'DynamicQuantizeLinear': return [DataType.UINT8, DataType.FLOAT, DataType.UINT8];
    case 'QuantizeLinear': return [typeOf(n.input[2]) ?? DataType.UINT8];
    case 'DequantizeLinear': return [typeOf(n.input[1]) ?? DataType.FLOAT];
    case 'TopK': return [first, DataType.INT64];
    default:
      if (BOOL_OPS.has(n.opType)) return [DataType.BOOL];
      if (INT64_OPS.has(n.opType)) return [DataType.INT64];
      return n.output.map(() => first);
  }
}
