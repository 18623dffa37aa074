import { layerParameters, type LayerMap } from '../../core/onnx/layer-detect.ts';
import { cloneForEdit, DataType, type ModelProto, type TensorProto } from '../../core/onnx/proto.ts';
import { dimsOf, float16Tensor, floatTensor, readFloats } from '../../core/onnx/tensor-data.ts';
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
 */
export interface RandomizationStep {
  /** layers randomizedFrom..L carry re-drawn weights */
  randomizedFrom: number;
  parameters: number;
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

export async function cascadingRandomization(
  model: ModelProto, layerMap: LayerMap, sequences: number[][], padId: number, reference: Activations,
  seed: number, thresholds: AttentionThresholds, progress?: Progress,
): Promise<RandomizationStep[]> {
  const params = layerParameters(model.graph, layerMap);
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
      attentionJs,
      rolloutJs: last.rolloutJs,
      rolloutSpearman: last.rolloutSpearman,
      attentionChanged: attentionJs >= thresholds.randomization.minAttentionJs,
      // NaN (a constant rollout row) cannot show a preserved ranking, so it counts as changed
      rolloutChanged: !(last.rolloutSpearman > thresholds.randomization.maxRolloutSpearman),
    });
  }
  return steps;
}
