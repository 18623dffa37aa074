import { GraphIndex } from './graph-index.ts';
import { DataType, type GraphProto } from './proto.ts';

/**
 * The roles initializers play in quantized ops, by input position (ONNX and com.microsoft signatures):
 * `data` is a weight stored in an integer encoding (re-drawable in that encoding), `packed` is one whose
 * elements are not one value per byte (MatMulNBits' 4-bit blocks, INT4 tensors), and `param` is a scale or
 * zero point, which must keep its value for the encoded weight to mean anything.
 */
export type QuantizedRole = 'data' | 'packed' | 'param';

const ROLES: Record<string, Record<number, QuantizedRole>> = {
  DequantizeLinear: { 0: 'data', 1: 'param', 2: 'param' },
  QuantizeLinear: { 1: 'param', 2: 'param' },
  MatMulInteger: { 0: 'data', 1: 'data', 2: 'param', 3: 'param' },
  QLinearMatMul: { 0: 'data', 1: 'param', 2: 'param', 3: 'data', 4: 'param', 5: 'param', 6: 'param', 7: 'param' },
  DynamicQuantizeMatMul: { 1: 'data', 2: 'param', 3: 'param' },
  MatMulIntegerToFloat: { 0: 'data', 1: 'data', 2: 'param', 3: 'param', 4: 'param', 5: 'param' },
  MatMulNBits: { 1: 'packed', 2: 'param', 3: 'param' },
  GatherBlockQuantized: { 0: 'packed', 2: 'param', 3: 'param' },
};
const INT4_TYPES = new Set<number>([21, 22]);
const BYTE_TYPES = new Set<number>([DataType.INT8, DataType.UINT8]);

export function quantizedRoles(graph: GraphProto): Map<string, QuantizedRole> {
  const g = new GraphIndex(graph);
  const roles = new Map<string, QuantizedRole>();
  const set = (name: string, role: QuantizedRole): void => {
    const prev = roles.get(name);
    // a tensor that is a scale anywhere stays a scale; packed beats data
    if (prev === 'param' || (prev === 'packed' && role === 'data')) return;
    roles.set(name, role);
  };
  for (const n of graph.node) {
    const table = ROLES[n.opType];
    if (table) n.input.forEach((i, k) => { if (i && g.initializers.has(i) && table[k]) set(i, table[k]); });
    // quantize_dynamic's rescale: Mul(x_scale from DynamicQuantizeLinear, W_scale) -> the weight's scale
    if (n.opType === 'Mul' && n.input.some((i) => g.producer.get(i)?.node.opType === 'DynamicQuantizeLinear')) {
      n.input.forEach((i) => { if (g.initializers.has(i)) set(i, 'param'); });
    }
  }
  for (const t of graph.initializer) {
    if (INT4_TYPES.has(t.dataType)) roles.set(t.name, 'packed');
    else if (roles.get(t.name) === 'data' && !BYTE_TYPES.has(t.dataType)) roles.delete(t.name);
  }
  return roles;
}
