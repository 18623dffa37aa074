import { elementCount, dimsOf } from '../onnx/tensor-data.ts';
import { detectQuantization, type QuantizationReport } from '../onnx/quantization-detect.ts';
import { describeArchitecture, type Architecture } from '../onnx/architecture-detect.ts';
import { inputShapes } from './input-shapes.ts';
import type { ModelDir } from './model-dir.ts';

export interface ModelDescription {
  name: string;
  onnxPath: string;
  sha256: string;
  /** graph file plus external data files */
  bytes: number;
  /** external data files the graph reads its weights from, resolved from the model's directory */
  dataFiles: string[];
  demo: boolean;
  irVersion: number;
  opset: number;
  nodeCount: number;
  parameters: number;
  opCounts: Record<string, number>;
  inputs: string[];
  /** declared dimensions per input: numbers are fixed sizes, names dynamic axes */
  inputShapes: Record<string, Array<number | string>>;
  outputs: string[];
  layers: number;
  /** encoder or decoder, and how (causal mask, norm placement, positions): core/onnx/architecture-detect.ts */
  architecture: Architecture & { summary: string };
  attentionTensors: string[];
  hiddenTensors: string[];
  tokenizer: { source: string; vocabSize: number; maxLength: number };
  /** fused attention nodes edgeprobe decomposed to expose the Softmax (empty when the file has none) */
  decomposedAttention: Array<{ op: string; nodes: number }>;
  /** quantization found in the graph: a quantized file is never described as fp32 */
  quantization: QuantizationReport;
}

export function describeModel(md: ModelDir): ModelDescription {
  const g = md.model.proto.graph;
  const opCounts: Record<string, number> = {};
  for (const n of g.node) opCounts[n.opType] = (opCounts[n.opType] ?? 0) + 1;
  return {
    name: md.name,
    onnxPath: md.onnxPath,
    sha256: md.model.sha256,
    bytes: md.model.totalBytes,
    dataFiles: md.model.dataFiles,
    demo: md.config.demo,
    irVersion: Number(md.model.proto.irVersion),
    opset: Number(md.model.proto.opsetImport.find((o) => !o.domain)?.version ?? 0),
    nodeCount: g.node.length,
    parameters: g.initializer.reduce((s, t) => s + elementCount(dimsOf(t)), 0),
    opCounts,
    inputs: g.input.map((i) => i.name),
    inputShapes: inputShapes(g),
    outputs: g.output.map((o) => o.name),
    layers: md.layers.layers,
    architecture: { ...md.layers.architecture, summary: describeArchitecture(md.layers.architecture) },
    attentionTensors: md.layers.attention,
    hiddenTensors: md.layers.hidden,
    tokenizer: { source: md.tokenizer.source, vocabSize: md.tokenizer.vocabSize, maxLength: md.tokenizer.maxLength },
    quantization: detectQuantization(g),
    decomposedAttention: md.model.decomposedAttention,
  };
}
