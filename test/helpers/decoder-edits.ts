import type { ModelDir } from '../../core/model/model-dir.ts';
import { loadOnnxFile, saveOnnxFile } from '../../core/onnx/model-io.ts';
import { cloneForEdit } from '../../core/onnx/proto.ts';
import { dimsOf, floatTensor, readFloats } from '../../core/onnx/tensor-data.ts';

/** A copy of a generated GPT-2-shape model whose head `head` of layer `layer` (1-based) has its query weights zeroed. */
export function zeroQuery(md: ModelDir, layer: number, head: number, out: string): string {
  const model = cloneForEdit(loadOnnxFile(md.onnxPath).proto);
  const name = `h.${layer - 1}.attn.c_attn.weight`;
  model.graph.initializer = model.graph.initializer.map((t) => {
    if (t.name !== name) return t;
    const [H, H3] = dimsOf(t);
    const w = readFloats(t).slice();
    const d = H / 4;
    for (let r = 0; r < H; r++) for (let c = head * d; c < (head + 1) * d; c++) w[r * H3 + c] = 0;
    return floatTensor(t.name, dimsOf(t), w);
  });
  saveOnnxFile(model, out);
  return out;
}
