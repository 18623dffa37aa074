import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Variant } from '../../core/variants/variant-types.ts';
import type { ModelDir } from '../../core/model/model-dir.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import { DataType, makeModel, node, tensorValueInfo } from '../../core/onnx/graph-builder.ts';
import { saveOnnxFile } from '../../core/onnx/model-io.ts';
import { cloneForEdit, type ModelProto } from '../../core/onnx/proto.ts';
import { dimsOf, floatTensor, int64Tensor, readFloats } from '../../core/onnx/tensor-data.ts';
import { ensureGeneratedModel } from '../../models/generated-models.ts';

/** A fresh temp directory holding the generated tiny model's tokenizer and config, plus `model`. */
export function modelDirWith(model: ModelProto, hidden = 16): string {
  const src = ensureGeneratedModel('tiny');
  const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-attn-'));
  for (const f of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json']) copyFileSync(join(src, f), join(dir, f));
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, hidden_size: hidden }));
  saveOnnxFile(model, join(dir, 'model.onnx'));
  return dir;
}

/**
 * A hand-built encoder whose attention does not depend on the input: in every layer the Softmax input
 * is `diagonal` x I (one value, or one per layer; built with EyeLike at run time so any sequence length
 * works). diagonal 50 gives
 * identity attention (off-diagonal weight e^-50), 0 gives exactly uniform attention. Each block is
 * h_l = LN(LN(h_{l-1} + A h_{l-1})), so the layer detector sees BERT structure.
 */
export function constantAttentionGraph(opts: { layers: number; diagonal: number | number[]; vocab: number; hidden?: number; maxPositions?: number }): ModelProto {
  const diagonals = Array.isArray(opts.diagonal) ? opts.diagonal : new Array<number>(opts.layers).fill(opts.diagonal);
  const H = opts.hidden ?? 16;
  const rng = new SeededRandom(5);
  const nodes = [];
  const inits = [
    floatTensor('word', [opts.vocab, H], rng.normalArray(opts.vocab * H, 1)),
    floatTensor('pos', [opts.maxPositions ?? 32, H], rng.normalArray((opts.maxPositions ?? 32) * H, 1)),
    floatTensor('gamma', [H], new Float32Array(H).fill(1)),
    floatTensor('beta', [H], new Float32Array(H)),
    ...diagonals.map((d, l) => floatTensor(`diag${l + 1}`, [], Float32Array.of(d))),
    int64Tensor('idx1', [1], [1]), int64Tensor('ax0', [1], [0]), int64Tensor('ax1', [1], [1]), int64Tensor('ax01', [2], [0, 1]),
    int64Tensor('zero', [], [0]), int64Tensor('one', [], [1]),
  ];
  const ln = (x: string, out: string): void => { nodes.push(node('LayerNormalization', [x, 'gamma', 'beta'], [out], { axis: -1, epsilon: { float: 1e-12 } })); };
  nodes.push(node('Gather', ['word', 'input_ids'], ['emb_word'], { axis: 0 }));
  nodes.push(node('Shape', ['input_ids'], ['shape']));
  nodes.push(node('Gather', ['shape', 'idx1'], ['s1'], { axis: 0 }));
  nodes.push(node('Squeeze', ['s1', 'ax0'], ['s']));
  nodes.push(node('Range', ['zero', 's', 'one'], ['positions']));
  nodes.push(node('Gather', ['pos', 'positions'], ['emb_pos'], { axis: 0 }));
  nodes.push(node('Add', ['emb_word', 'emb_pos'], ['emb_sum']));
  ln('emb_sum', 'h0');
  nodes.push(node('Concat', ['s1', 's1'], ['ss'], { axis: 0 }));
  nodes.push(node('ConstantOfShape', ['ss'], ['zeros'], { value: floatTensor('v', [1], Float32Array.of(0)) }));
  nodes.push(node('EyeLike', ['zeros'], ['eye']));
  let h = 'h0';
  for (let l = 1; l <= opts.layers; l++) {
    nodes.push(node('Mul', ['eye', `diag${l}`], [`scores2d_${l}`]));
    nodes.push(node('Unsqueeze', [`scores2d_${l}`, 'ax01'], [`scores${l}`]));
    nodes.push(node('Softmax', [`scores${l}`], [`probs${l}`], { axis: -1 }));
    nodes.push(node('Unsqueeze', [h, 'ax1'], [`v${l}`]));
    nodes.push(node('MatMul', [`probs${l}`, `v${l}`], [`ctx4_${l}`]));
    nodes.push(node('Squeeze', [`ctx4_${l}`, 'ax1'], [`ctx${l}`]));
    nodes.push(node('Add', [`ctx${l}`, h], [`res${l}`]));
    ln(`res${l}`, `a${l}`);
    ln(`a${l}`, `h${l}`);
    h = `h${l}`;
  }
  nodes.push(node('Identity', [h], ['last_hidden_state']));
  return makeModel({
    name: 'constant-attention', nodes, initializers: inits,
    inputs: [tensorValueInfo('input_ids', DataType.INT64, ['batch', 'sequence'])],
    outputs: [tensorValueInfo('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', H])],
    opset: 17,
  });
}

/**
 * Stand-in for a compressed variant until the compression module is merged: the fp32 model with
 * every float weight of 2+ dimensions perturbed by seeded Gaussian noise of `relStd` x the tensor's
 * RMS, saved beside nothing (a temp dir). relStd 0 gives an exact copy.
 */
export function noisyVariant(md: ModelDir, relStd: number, seed = 1): Variant {
  const model = cloneForEdit(md.model.proto);
  const rng = new SeededRandom(seed);
  model.graph.initializer = model.graph.initializer.map((t) => {
    if (t.dataType !== DataType.FLOAT || t.dims.length < 2 || relStd === 0) return t;
    const v = Float32Array.from(readFloats(t));
    const rms = Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    for (let i = 0; i < v.length; i++) v[i] += relStd * rms * rng.normal();
    return floatTensor(t.name, dimsOf(t), v);
  });
  const path = join(mkdtempSync(join(tmpdir(), 'edgeprobe-variant-')), 'model.noisy.onnx');
  const { sha256, bytes } = saveOnnxFile(model, path);
  return {
    name: 'int8-weight', onnxPath: path,
    manifest: { variant: 'int8-weight', method: `test stand-in: gaussian noise ${relStd} x RMS`, parameters: { relStd, seed }, source: { path: md.onnxPath, sha256: md.model.sha256, bytes: md.model.bytes.byteLength }, sha256, bytes, compute: 'fp32', createdAt: new Date().toISOString(), edgeprobeVersion: 'test' },
  };
}
