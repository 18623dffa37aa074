import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnnxFile, saveOnnxFile } from '../../core/onnx/model-io.ts';
import { cloneForEdit } from '../../core/onnx/proto.ts';
import { floatTensor, readFloats, dimsOf } from '../../core/onnx/tensor-data.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';

/**
 * Writes a copy of a generated model whose weights in one layer (the generator names them
 * `layer.<l-1>.*`) get Gaussian noise of `relStd` times each tensor's own RMS. Returns the file path.
 */
export function plantLayerNoise(modelPath: string, layer: number, relStd: number, seed = 1): string {
  const src = loadOnnxFile(modelPath).proto;
  const model = cloneForEdit(src);
  const rng = new SeededRandom(seed);
  model.graph.initializer = model.graph.initializer.map((t) => {
    if (!t.name.startsWith(`layer.${layer - 1}.`) || !t.name.endsWith('.weight') || dimsOf(t).length !== 2) return t;
    const w = readFloats(t);
    const rms = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    const noisy = w.map((x) => x + relStd * rms * rng.normal());
    return floatTensor(t.name, dimsOf(t), noisy);
  });
  const out = join(mkdtempSync(join(tmpdir(), 'ep-noisy-')), `noisy-layer${layer}.onnx`);
  saveOnnxFile(model, out);
  return out;
}
