import { epError } from '../../core/errors.ts';
import { DataType, node } from '../../core/onnx/graph-builder.ts';
import { cloneForEdit, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { floatTensor, int8Tensor, readFloats } from '../../core/onnx/tensor-data.ts';
import { quantizePerColumn, quantizePerRow, quantizePerTensor, type QuantizedTensor } from './int8-quantize.ts';
import { findWeightSites, pruneUnused, transpose2d, type WeightSite } from './weight-sites.ts';

export type Int8Mode = 'dynamic' | 'weight-only';

export interface Int8Options {
  mode: Int8Mode;
  /** per-output-channel scales for MatMul weights (default true); per-tensor otherwise */
  perChannel?: boolean;
  /** quantize embedding tables too (default true): the word-embedding table is most of a small BERT's bytes */
  embeddings?: boolean;
}

export interface Int8Stats { matmuls: number; gathers: number; quantizedParameters: number }

/**
 * int8 variants, written as standard ONNX ops so any onnxruntime build runs them:
 *
 * dynamic (as onnxruntime.quantization.quantize_dynamic writes it):
 *   x -> DynamicQuantizeLinear -> (x_q uint8, x_scale, x_zp)
 *   MatMulInteger(x_q, W_q int8, x_zp, W_zp=0) -> Cast(float) -> Mul(x_scale * W_scale)
 *   onnxruntime fuses this chain into its DynamicQuantizeMatMul kernel at load (u8 x s8, VNNI where present).
 * weight-only:
 *   DequantizeLinear(W_q, W_scale, 0, axis=1) -> MatMul(x, W)   (weights dequantized once, compute fp32)
 * embeddings (both modes), as onnxruntime's GatherBlockQuantized does with one block per row:
 *   Gather(T_q int8, ids) -> Cast(float) -> Mul(Gather(row_scale [V,1], ids))
 *   so only the gathered rows are dequantized and the table stays int8 in memory.
 */
export function quantizeInt8(source: ModelProto, opts: Int8Options, label = 'model'): { model: ModelProto; stats: Int8Stats } {
  requireOpset(source, 13, label);
  const model = cloneForEdit(source);
  const graph = model.graph;
  const perChannel = opts.perChannel ?? true;
  const sites = findWeightSites(graph).filter((s) => s.kind === 'matmul' || (opts.embeddings ?? true));
  const bySite = new Map(sites.map((s) => [s.node, s]));
  const added: TensorProto[] = [];
  const quantized = new Map<string, QNames>();
  const dynamicInputs = new Map<string, { xq: string; xs: string; xzp: string }>();
  const stats: Int8Stats = { matmuls: 0, gathers: 0, quantizedParameters: 0 };

  const gatherTables = new Set(sites.filter((s) => s.kind === 'gather').map((s) => s.weight.name));
  const out: NodeProto[] = [];

  /** quantized initializers for a weight, made once even when several nodes share it */
  const weightTensors = (site: WeightSite): QNames => {
    // a masked-LM decoder tied to the word embeddings reads the table transposed: reuse the table's int8
    // rows (per-row scales of [V, H] are per-column scales of its transpose), so the file holds one copy
    if (site.kind === 'matmul' && site.transposed && gatherTables.has(site.weight.name)) return tiedDecoderTensors(site);
    const key = `${site.weight.name}|${site.kind}|${site.transposed}`;
    const done = quantized.get(key);
    if (done) return done;
    // a transposed weight is stored pre-transposed, so the Transpose node and its float input go away
    const w = site.transposed ? transpose2d(readFloats(site.weight), site.cols, site.rows) : readFloats(site.weight);
    const qt: QuantizedTensor = site.kind === 'gather' ? quantizePerRow(w, site.rows, site.cols)
      : perChannel ? quantizePerColumn(w, site.rows, site.cols) : quantizePerTensor(w);
    const base = `${site.weight.name}.${site.kind === 'gather' ? 'rowq8' : site.transposed ? 'tq8' : 'q8'}`;
    const names = { q: base, scale: `${base}.scale`, zp: `${base}.zero_point` };
    added.push(int8Tensor(names.q, [site.rows, site.cols], qt.values));
    const scaleDims = site.kind === 'gather' ? [site.rows, 1] : qt.axis === null ? [] : [site.cols];
    added.push(floatTensor(names.scale, scaleDims, qt.scales));
    if (site.kind === 'matmul') added.push(int8Tensor(names.zp, qt.axis === null ? [] : [site.cols], new Int8Array(qt.scales.length)));
    stats.quantizedParameters += qt.values.length;
    quantized.set(key, names);
    return names;
  };

  function tiedDecoderTensors(site: WeightSite): QNames {
    const key = `${site.weight.name}|tied-decoder`;
    const done = quantized.get(key);
    if (done) return done;
    const table = weightTensors({ ...site, kind: 'gather', transposed: false, rows: site.cols, cols: site.rows, bias: undefined });
    const names = { q: `${table.q}.T`, scale: `${table.q}.col_scale`, zp: `${table.q}.col_zero_point` };
    // the Transpose of a constant is folded by onnxruntime at load; the file keeps the single int8 table
    out.push(node('Transpose', [table.q], [names.q], { perm: [1, 0] }, `${names.q}/Transpose`));
    const rowScales = added.find((t) => t.name === table.scale)!;
    added.push(floatTensor(names.scale, [site.cols], readFloats(rowScales)));
    added.push(int8Tensor(names.zp, [site.cols], new Int8Array(site.cols)));
    quantized.set(key, names);
    return names;
  }

  for (const n of graph.node) {
    const site = bySite.get(n);
    if (!site) { out.push(n); continue; }
    const t = weightTensors(site);
    const p = `${n.name || n.output[0]}/edgeprobe_q8`;
    if (site.kind === 'gather') {
      const y = n.output[0];
      const ids = n.input[1];
      out.push(node('Gather', [t.q, ids], [`${p}/rows_q`], { axis: 0 }, `${p}/Gather`));
      out.push(node('Cast', [`${p}/rows_q`], [`${p}/rows_f`], { to: DataType.FLOAT }, `${p}/Cast`));
      out.push(node('Gather', [t.scale, ids], [`${p}/row_scale`], { axis: 0 }, `${p}/GatherScale`));
      out.push(node('Mul', [`${p}/rows_f`, `${p}/row_scale`], [y], {}, `${p}/Dequantize`));
      stats.gathers++;
      continue;
    }
    stats.matmuls++;
    // a Gemm's bias is added after the product, as the Gemm did
    const y = site.bias ? `${p}/product` : n.output[0];
    out.push(...(opts.mode === 'weight-only' ? weightOnlyMatMul(n.input[0], t, y, p, perChannel) : dynamicMatMul(n.input[0], t, y, p)));
    if (site.bias) out.push(node('Add', [y, site.bias], [n.output[0]], {}, `${p}/Bias`));
  }
  graph.node = out;
  graph.initializer.push(...added);
  pruneUnused(graph);
  return { model, stats };

  function dynamicMatMul(x: string, t: QNames, y: string, p: string): NodeProto[] {
    const nodes: NodeProto[] = [];
    let dq = dynamicInputs.get(x);
    if (!dq) {
      // one activation quantization per input tensor, shared by e.g. the Q, K and V projections
      const xp = `${x}/edgeprobe_dql`;
      dq = { xq: `${xp}/q`, xs: `${xp}/scale`, xzp: `${xp}/zero_point` };
      nodes.push(node('DynamicQuantizeLinear', [x], [dq.xq, dq.xs, dq.xzp], {}, `${xp}/DynamicQuantizeLinear`));
      dynamicInputs.set(x, dq);
    }
    nodes.push(node('MatMulInteger', [dq.xq, t.q, dq.xzp, t.zp], [`${p}/int32`], {}, `${p}/MatMulInteger`));
    nodes.push(node('Cast', [`${p}/int32`], [`${p}/float`], { to: DataType.FLOAT }, `${p}/Cast`));
    nodes.push(node('Mul', [dq.xs, t.scale], [`${p}/scale`], {}, `${p}/ScaleProduct`));
    nodes.push(node('Mul', [`${p}/float`, `${p}/scale`], [y], {}, `${p}/Rescale`));
    return nodes;
  }
}

interface QNames { q: string; scale: string; zp: string }

function weightOnlyMatMul(x: string, t: QNames, y: string, p: string, perChannel: boolean): NodeProto[] {
  const axis: Record<string, number> = perChannel ? { axis: 1 } : {};
  return [
    node('DequantizeLinear', [t.q, t.scale, t.zp], [`${p}/W`], axis, `${p}/DequantizeLinear`),
    node('MatMul', [x, `${p}/W`], [y], {}, `${p}/MatMul`),
  ];
}

/** Per-axis DequantizeLinear needs opset 13; raising a model's opset could change other ops' semantics. */
function requireOpset(model: ModelProto, min: number, label: string): void {
  const def = model.opsetImport.find((o) => !o.domain);
  if (def && Number(def.version) < min) {
    throw epError('EP_ONNX_OPSET_TOO_OLD', { file: label, opset: Number(def.version), min });
  }
}
