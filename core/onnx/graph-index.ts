import type { GraphProto, NodeProto, TensorProto } from './proto.ts';

/** Producer/consumer lookups over a graph, built once per analysis. */
const CONSTANT_PASS_THROUGH = new Set(['Cast', 'DequantizeLinear', 'Identity']);
/** Ops that change a tensor's encoding, not its meaning (output 0 is the converted tensor). */
const CONVERSIONS = new Set(['Cast', 'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']);

export class GraphIndex {
  readonly producer = new Map<string, { node: NodeProto; index: number }>();
  readonly consumers = new Map<string, Array<{ node: NodeProto; index: number }>>();
  readonly initializers = new Map<string, TensorProto>();

  constructor(readonly graph: GraphProto) {
    graph.initializer.forEach((t) => this.initializers.set(t.name, t));
    graph.node.forEach((node, index) => {
      for (const out of node.output) this.producer.set(out, { node, index });
      for (const inp of node.input) {
        if (!inp) continue;
        const list = this.consumers.get(inp) ?? [];
        list.push({ node, index });
        this.consumers.set(inp, list);
      }
    });
  }

  consumersOf(tensor: string): Array<{ node: NodeProto; index: number }> {
    return this.consumers.get(tensor) ?? [];
  }

  /** A tensor whose value is fixed at load time: an initializer or a Constant node's output. */
  isConstant(tensor: string): boolean {
    if (this.initializers.has(tensor)) return true;
    const p = this.producer.get(tensor)?.node;
    if (!p) return false;
    if (p.opType === 'Constant') return true;
    // variants wrap weights in Cast (fp16) or DequantizeLinear (int8); the result is still load-time data
    return CONSTANT_PASS_THROUGH.has(p.opType) && p.input.every((i) => !i || this.isConstant(i));
  }

  /** Consumers of a tensor, looking through Cast nodes (which fp16-compute graphs put between ops). */
  consumersThroughCasts(tensor: string, depth = 2): Array<{ node: NodeProto; index: number }> {
    return this.consumersOf(tensor).flatMap((c) => (c.node.opType === 'Cast' && depth > 0 ? this.consumersThroughCasts(c.node.output[0], depth - 1) : [c]));
  }

  /**
   * Consumers of a tensor, looking through the conversions quantized graphs put between ops: Cast,
   * QuantizeLinear -> DequantizeLinear pairs (QDQ format) and DynamicQuantizeLinear (whose quantized
   * output feeds MatMulInteger), so the op that computes with the tensor is what is returned.
   */
  consumersThroughConversions(tensor: string, depth = 4): Array<{ node: NodeProto; index: number }> {
    return this.consumersOf(tensor).flatMap((c) => (CONVERSIONS.has(c.node.opType) && c.node.input[0] === tensor && depth > 0
      ? this.consumersThroughConversions(c.node.output[0], depth - 1) : [c]));
  }

  /**
   * The float tensor an int8 Gather's rows become: through DequantizeLinear, or through Cast followed by
   * the per-row scale Mul that int8 embedding tables use. Returns the input when no dequantization follows.
   */
  dequantizedOutput(tensor: string): string {
    const only = (t: string): NodeProto | undefined => {
      const cs = this.consumersOf(t);
      return cs.length === 1 ? cs[0].node : undefined;
    };
    const next = only(tensor);
    if (next?.opType === 'DequantizeLinear') return next.output[0];
    if (next?.opType !== 'Cast') return tensor;
    const scale = only(next.output[0]);
    return scale?.opType === 'Mul' ? scale.output[0] : next.output[0];
  }

  /** Follows a weight through the casts and dequantization that variants insert, back to its initializer. */
  weightInitializer(tensor: string): TensorProto | undefined {
    let name = tensor;
    for (let hops = 0; hops < 4; hops++) {
      const init = this.initializers.get(name);
      if (init) return init;
      const p = this.producer.get(name)?.node;
      if (!p || !['Cast', 'DequantizeLinear', 'Transpose'].includes(p.opType)) return undefined;
      name = p.input[0];
    }
    return undefined;
  }

  /**
   * Indices of the nodes on a path from tensor `from` to tensor `to`: those computed from `from` that
   * `to` depends on. With hidden states as the ends this is exactly one transformer block, whatever
   * order the exporter wrote nodes in and however nodes are named.
   */
  nodesBetween(from: string, to: string): Set<number> {
    const downstream = new Set<number>();
    const stack = [from];
    while (stack.length > 0) {
      for (const { node, index } of this.consumersOf(stack.pop()!)) {
        if (downstream.has(index)) continue;
        downstream.add(index);
        stack.push(...node.output);
      }
    }
    const between = new Set<number>();
    const back = [to];
    const seen = new Set<string>();
    while (back.length > 0) {
      const t = back.pop()!;
      if (seen.has(t) || t === from) continue;
      seen.add(t);
      const p = this.producer.get(t);
      if (!p || !downstream.has(p.index)) continue;
      between.add(p.index);
      back.push(...p.node.input.filter(Boolean));
    }
    return between;
  }
}
