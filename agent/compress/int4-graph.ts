import { checkInt4BlockSize } from '../../core/variants/recipe-settings.ts';
import { node } from '../../core/onnx/graph-builder.ts';
import { cloneForEdit, onnx, type ModelProto, type NodeProto, type TensorProto } from '../../core/onnx/proto.ts';
import { floatTensor, readFloats, uint8Tensor } from '../../core/onnx/tensor-data.ts';
import { findWeightSites, pruneUnused } from './weight-sites.ts';

export interface Int4Stats { matmuls: number; quantizedParameters: number; blockSize: number }

/**
 * Weight-only int4 in onnxruntime's MatMulNBits layout (com.microsoft, what its MatMul4BitsQuantizer
 * and Optimum write): each MatMul weight W [K, N] is cut, per output column, into blocks of `blockSize`
 * rows; a block has one fp32 scale max|w| / 7 and 4-bit values round(w / scale) + 8 (the default zero
 * point 8, so no zero-point tensor), two to a byte, low nibble first, stored as B [N, K / blockSize, blockSize / 2].
 * Only MatMuls whose K is a multiple of the block size are rewritten; the rest stay fp32.
 */
export function quantizeInt4(source: ModelProto, blockSize = 32): { model: ModelProto; stats: Int4Stats } {
  checkInt4BlockSize(blockSize, 'int4-weight');
  const model = cloneForEdit(source);
  const graph = model.graph;
  const sites = new Map(findWeightSites(graph).filter((s) => s.kind === 'matmul' && !s.transposed && !s.bias && s.rows % blockSize === 0).map((s) => [s.node, s]));
  const added: TensorProto[] = [];
  const done = new Map<string, { b: string; scales: string }>();
  const stats: Int4Stats = { matmuls: 0, quantizedParameters: 0, blockSize };
  const out: NodeProto[] = [];
  for (const n of graph.node) {
    const site = sites.get(n);
    if (!site) { out.push(n); continue; }
    const K = site.rows;
    const N = site.cols;
    let t = done.get(site.weight.name);
    if (!t) {
      const w = readFloats(site.weight);
      const blocks = K / blockSize;
      const packed = new Uint8Array(N * blocks * (blockSize / 2));
      const scales = new Float32Array(N * blocks);
      for (let c = 0; c < N; c++) {
        for (let b = 0; b < blocks; b++) {
          let maxAbs = 0;
          for (let r = 0; r < blockSize; r++) maxAbs = Math.max(maxAbs, Math.abs(w[(b * blockSize + r) * N + c]));
          const scale = maxAbs > 0 ? maxAbs / 7 : 1;
          scales[c * blocks + b] = scale;
          for (let r = 0; r < blockSize; r++) {
            const q = Math.max(0, Math.min(15, Math.round(w[(b * blockSize + r) * N + c] / scale) + 8));
            const byte = (c * blocks + b) * (blockSize / 2) + (r >> 1);
            packed[byte] |= r % 2 === 0 ? q : q << 4;
          }
        }
      }
      t = { b: `${site.weight.name}.q4`, scales: `${site.weight.name}.q4.scales` };
      added.push(uint8Tensor(t.b, [N, blocks, blockSize / 2], packed), floatTensor(t.scales, [N * blocks], scales));
      done.set(site.weight.name, t);
      stats.quantizedParameters += K * N;
    }
    out.push(node('MatMulNBits', [n.input[0], t.b, t.scales], n.output, { K, N, bits: 4, block_size: blockSize }, `${n.name || n.output[0]}/edgeprobe_q4`, 'com.microsoft'));
    stats.matmuls++;
  }
  graph.node = out;
  graph.initializer.push(...added);
  pruneUnused(graph);
  if (!model.opsetImport.some((o) => o.domain === 'com.microsoft')) model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 }) as never);
  return { model, stats };
}
