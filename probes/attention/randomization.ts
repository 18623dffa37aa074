import { epError } from '../../core/errors.ts';
import { GraphIndex } from '../../core/onnx/graph-index.ts';
import { layerWeights, type LayerMap } from '../../core/onnx/layer-detect.ts';
import { cloneForEdit, DataType, type ModelProto, type TensorProto } from '../../core/onnx/proto.ts';
import { dimsOf, elementCount, float16Tensor, floatTensor, int8Tensor, readFloats, uint8Tensor } from '../../core/onnx/tensor-data.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { Progress } from '../../core/progress.ts';
import { collectActivations, type Activations } from './activations.ts';
import { compareActivations } from './survival.ts';
import type { AttentionThresholds } from './thresholds.ts';

/**
 * Cascading parameter randomization (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): the
 * weights of the top layer are re-drawn, then also the layer below, down to layer 1, and the
 * explanation is recomputed each time. An explanation that barely changes when the weights that
 * produce it are destroyed is not explaining the model. Re-drawing is done by rewriting initializers
 * (no retraining): each tensor gets seeded Gaussian values with its own mean and standard deviation,
 * so activations keep their scale and only the learned structure is gone. Raw attention maps and
 * rollout are judged separately: they are two explanations and can fail the check independently.
 * On a decoder the re-drawn weights are each layer's matrix-product weights (matrixWeights), and rollout's
 * ranking is read on causal row prefixes (compareActivations), never on row 0, which the mask fixes.
 */
export interface RandomizationStep {
  /** layers randomizedFrom..L carry re-drawn weights */
  randomizedFrom: number;
  parameters: number;
  /** elements re-drawn, by encoding: float (fp32/fp16) and integer (int8/uint8 weights of quantized ops, scales kept) */
  redrawn?: { floatElements: number; integerElements: number };
  /** mean JS divergence of attention rows over the randomized layers and their heads */
  attentionJs: number;
  /** JS divergence of the last layer's rollout rows */
  rolloutJs: number;
  /** Spearman of last-layer rollout token importance ([CLS] row) against the trained model */
  rolloutSpearman: number;
  /** raw attention maps of the randomized layers moved by at least minAttentionJs */
  attentionChanged: boolean;
  /** rollout token importance lost its ranking (Spearman at most maxRolloutSpearman) */
  rolloutChanged: boolean;
}

export function redrawTensor(t: TensorProto, rng: SeededRandom): TensorProto {
  if (t.dataType === DataType.INT8 || t.dataType === DataType.UINT8) return redrawIntegerTensor(t, rng);
  const values = readFloats(t);
  let m = 0;
  for (const v of values) m += v;
  m /= values.length;
  let v2 = 0;
  for (const v of values) v2 += (v - m) * (v - m);
  const std = Math.sqrt(v2 / values.length);
  const fresh = rng.normalArray(values.length, std, m);
  return t.dataType === DataType.FLOAT16 ? float16Tensor(t.name, dimsOf(t), fresh) : floatTensor(t.name, dimsOf(t), fresh);
}

/**
 * A quantized weight re-drawn in its own encoding: seeded Gaussian integers with the stored values' own
 * mean and standard deviation, rounded and clamped to the type's range. Its scales and zero points are
 * untouched, so the dequantized weight has the original's scale but none of its learned structure.
 */
export function redrawIntegerTensor(t: TensorProto, rng: SeededRandom): TensorProto {
  const signed = t.dataType === DataType.INT8;
  const n = elementCount(dimsOf(t));
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : undefined;
  const values = Float64Array.from({ length: n }, (_, i) => (raw ? (signed ? (raw[i] << 24) >> 24 : raw[i]) : t.int32Data[i]));
  let m = 0;
  for (const v of values) m += v;
  m /= n;
  let v2 = 0;
  for (const v of values) v2 += (v - m) * (v - m);
  const fresh = rng.normalArray(n, Math.sqrt(v2 / n), m);
  const [lo, hi] = signed ? [-128, 127] : [0, 255];
  const q = fresh.map((x) => Math.max(lo, Math.min(hi, Math.round(x))));
  return signed ? int8Tensor(t.name, dimsOf(t), Int8Array.from(q)) : uint8Tensor(t.name, dimsOf(t), Uint8Array.from(q));
}

/** A copy of `model` whose parameters in layers `from..L` are re-drawn (seeded per layer, so steps nest). */
export function randomizeFromLayer(model: ModelProto, params: string[][], from: number, seed: number): ModelProto {
  const copy = cloneForEdit(model);
  const replaced = new Map<string, TensorProto>();
  for (let l = from; l <= params.length; l++) {
    const rng = new SeededRandom(seed * 1000 + l);
    for (const name of params[l - 1]) {
      const t = copy.graph.initializer.find((i) => i.name === name)!;
      replaced.set(name, redrawTensor(t, rng));
    }
  }
  copy.graph.initializer = copy.graph.initializer.map((t) => replaced.get(t.name) ?? t);
  return copy;
}

/** What a cascade re-draws, in words, for the record. */
export function redrawnWeightsRule(kind: 'encoder' | 'decoder'): string {
  return kind === 'decoder'
    ? 'each layer\'s attention and MLP matrix-product weights (Q/K/V/output and MLP projections); norm gains, biases and any per-layer mask or rotary table kept'
    : 'every weight of each layer (matrices, biases, LayerNorm gains)';
}

const PRODUCT_OPS = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QLinearMatMul']);

/**
 * A decoder's weights that feed a matrix product (through casts and dequantization). Decoder exports keep per-layer
 * constants inside blocks that are not learned weights (HF GPT-2 writes a causal-mask buffer per layer, rotary
 * models cos/sin tables): re-drawing those would break the mask or the positions rather than the learned
 * structure, so the cascade re-draws the attention and MLP matrices only.
 */
function matrixWeights(g: GraphIndex, names: string[]): string[] {
  return names.filter((n) => g.consumersThroughConversions(n).some(({ node }) => PRODUCT_OPS.has(node.opType)));
}

/**
 * Whether rollout lost its ranking. On an encoder a NaN Spearman (a constant [CLS] row) cannot show a preserved
 * ranking, so it counts as changed. On a decoder NaN means both rollouts equal causal-uniform rollout on every
 * row (nothing to rank relative to the baseline): then only a rollout that moved (JS) counts as changed, so
 * attention that stays uniform under re-drawing fails the check instead of passing on nothing.
 */
function rolloutChanged(rho: number, js: number, decoder: boolean, t: AttentionThresholds): boolean {
  if (decoder && Number.isNaN(rho)) return js >= t.randomization.minAttentionJs;
  return !(rho > t.randomization.maxRolloutSpearman);
}

export async function cascadingRandomization(
  model: ModelProto, layerMap: LayerMap, sequences: number[][], padId: number, reference: Activations,
  seed: number, thresholds: AttentionThresholds, progress?: Progress,
): Promise<RandomizationStep[]> {
  const weights = layerWeights(model.graph, layerMap);
  // never a verdict from weights it did not touch: packed encodings cannot be re-drawn element-wise
  const packed = weights.flatMap((w, l) => w.packed.map((name) => `${name} (layer ${l + 1})`));
  if (packed.length > 0) throw epError('EP_RANDOMIZATION_PACKED_WEIGHTS', { tensors: packed.slice(0, 3).join(', '), count: packed.length });
  const decoder = layerMap.architecture.kind === 'decoder';
  if (decoder) {
    const g = new GraphIndex(model.graph);
    for (const w of weights) [w.float, w.quantized] = [matrixWeights(g, w.float), matrixWeights(g, w.quantized)];
  }
  const params = weights.map((w) => [...w.float, ...w.quantized]);
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const elements = (names: string[]): number => names.reduce((s, n) => s + elementCount(dimsOf(inits.get(n)!)), 0);
  const steps: RandomizationStep[] = [];
  for (let from = layerMap.layers; from >= 1; from--) {
    const randomized = randomizeFromLayer(model, params, from, seed);
    const acts = await collectActivations(randomized, `randomized layers ${from}-${layerMap.layers}`, sequences, padId, { keepHidden: false, progress, stage: `randomization ${layerMap.layers - from + 1}/${layerMap.layers}` });
    const cmp = compareActivations(reference, acts, thresholds.survival.topK);
    const affected = cmp.filter((c) => c.layer >= from);
    const attentionJs = affected.reduce((s, c) => s + c.jsPerHead.reduce((a, b) => a + b, 0) / c.jsPerHead.length, 0) / affected.length;
    const last = cmp[cmp.length - 1];
    steps.push({
      randomizedFrom: from,
      parameters: params.slice(from - 1).reduce((s, p) => s + p.length, 0),
      redrawn: {
        floatElements: weights.slice(from - 1).reduce((s, w) => s + elements(w.float), 0),
        integerElements: weights.slice(from - 1).reduce((s, w) => s + elements(w.quantized), 0),
      },
      attentionJs,
      rolloutJs: last.rolloutJs,
      rolloutSpearman: last.rolloutSpearman,
      attentionChanged: attentionJs >= thresholds.randomization.minAttentionJs,
      rolloutChanged: rolloutChanged(last.rolloutSpearman, last.rolloutJs, decoder, thresholds),
    });
  }
  return steps;
}
