import { floatTensor, int64Tensor } from './tensor-data.ts';
import { AttributeType, DataType, onnx, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

export type AttrValue = number | string | number[] | { float: number } | TensorProto;

/** Builds an attribute, choosing INT/FLOAT/INTS/STRING/TENSOR from the JS value. `{float: x}` forces FLOAT. */
export function attr(name: string, value: AttrValue): AttributeProto {
  return attrProto(name, value) as unknown as AttributeProto;
}

function attrProto(name: string, value: AttrValue): unknown {
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value })
      : onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
  }
  if ('float' in value) return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: AttributeType.TENSOR, t: value });
}

export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name?: string, domain?: string): NodeProto {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name: name ?? `${opType}_${outputs[0]}`,
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    ...(domain ? { domain } : {}),
  }) as unknown as NodeProto;
}

/** A tensor value-info; `dims` entries may be symbolic names ("batch", "sequence") or omitted entirely. */
export function tensorValueInfo(name: string, elemType: number, dims?: Array<number | string>): ValueInfoProto {
  const shape = dims === undefined ? undefined : onnx.TensorShapeProto.create({
    dim: dims.map((d) => (typeof d === 'number' ? onnx.TensorShapeProto.Dimension.create({ dimValue: d }) : onnx.TensorShapeProto.Dimension.create({ dimParam: d }))),
  });
  return onnx.ValueInfoProto.create({ name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType, ...(shape ? { shape } : {}) }) }) });
}

export interface GraphParts {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  opset?: number;
  producer?: string;
}

/** Appends a scalar float initializer to `inits` and returns its name (the generators' constants). */
export function scalarInitializer(inits: TensorProto[], name: string, value: number): string {
  inits.push(floatTensor(name, [], Float32Array.of(value)));
  return name;
}

/** Appends a 1-D int64 initializer to `inits` and returns its name (shapes, axes, split sizes). */
export function intsInitializer(inits: TensorProto[], name: string, values: number[]): string {
  inits.push(int64Tensor(name, [values.length], values));
  return name;
}

export function makeModel(parts: GraphParts): ModelProto {
  return onnx.ModelProto.create({
    irVersion: 8,
    producerName: parts.producer ?? 'edgeprobe',
    producerVersion: '0.1.0',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: parts.opset ?? 17 })],
    graph: onnx.GraphProto.create({ name: parts.name, node: parts.nodes as never, initializer: parts.initializers, input: parts.inputs, output: parts.outputs }),
  }) as unknown as ModelProto;
}

export function getAttr(n: NodeProto, name: string): AttributeProto | undefined {
  return n.attribute.find((a) => a.name === name);
}

export function getIntAttr(n: NodeProto, name: string, fallback: number): number {
  const a = getAttr(n, name);
  return a ? Number(a.i) : fallback;
}

export { DataType };
