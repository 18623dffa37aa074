// onnx-proto ships the protobufjs classes generated from onnx.proto (ONNX 1.10, IR version 8).
// It is CommonJS, so it is imported whole and re-exported with its types.
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
type P = typeof onnxProto.onnx;

// The generated classes type nested messages as optional interfaces (INodeProto...), but decode()
// and create() always produce class instances with every repeated field present. These aliases say
// so once, instead of a null check at every use.
export type TensorProto = onnxProto.onnx.TensorProto;
export type AttributeProto = Omit<onnxProto.onnx.AttributeProto, 't'> & { t?: TensorProto | null };
export type NodeProto = Omit<onnxProto.onnx.NodeProto, 'attribute'> & { attribute: AttributeProto[] };
export type ValueInfoProto = onnxProto.onnx.ValueInfoProto;
export type GraphProto = Omit<onnxProto.onnx.GraphProto, 'node' | 'initializer' | 'input' | 'output' | 'valueInfo'> & {
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
};
export type ModelProto = Omit<onnxProto.onnx.ModelProto, 'graph'> & { graph: GraphProto };

export const DataType: P['TensorProto']['DataType'] = onnxProto.onnx.TensorProto.DataType;
export const AttributeType: P['AttributeProto']['AttributeType'] = onnxProto.onnx.AttributeProto.AttributeType;
/** Highest IR version whose fields onnx-proto knows; newer fields would be dropped on re-encode. */
export const MAX_KNOWN_IR_VERSION = 8;

/** Shallow copy of a model whose graph lists (nodes, initializers, outputs) can be edited freely; tensors are shared. */
export function cloneForEdit(model: ModelProto): ModelProto {
  const g = model.graph;
  const graph = onnx.GraphProto.create({ ...g, node: [...g.node], initializer: [...g.initializer], input: [...g.input], output: [...g.output], valueInfo: [...g.valueInfo] }) as unknown as GraphProto;
  return onnx.ModelProto.create({ ...model, graph, opsetImport: [...model.opsetImport] }) as unknown as ModelProto;
}
