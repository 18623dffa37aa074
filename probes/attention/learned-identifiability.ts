import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import { applyLinear, fitRidge } from '../../core/numeric/ridge.ts';
import type { Activations } from './activations.ts';
import { identifiablePositions, identifiedCount } from './identifiability.ts';

/**
 * The learned variant of identifiability (Brunner et al. 2020, section 4.2): a linear map g_l: h_l -> e_0
 * is fitted (ridge) on the tokens of training sentences, then position i of a held-out sentence is
 * identified when g_l(h_l[i]) is nearest (cosine) to e_0[i] among that sentence's embeddings. The split
 * is by sentence, so no token of a held-out sentence is seen in fitting.
 */
export interface LearnedIdentifiability {
  /** share identified per layer 0..L on held-out sentences */
  curve: number[];
  trainSentences: number;
  heldOutSentences: number;
}

export function splitSentences(count: number, seed: number, trainShare = 0.7): { train: number[]; heldOut: number[] } {
  const order = new SeededRandom(seed).permutation(count);
  const nTrain = Math.min(count - 1, Math.max(1, Math.round(count * trainShare)));
  return { train: order.slice(0, nTrain).sort((a, b) => a - b), heldOut: order.slice(nTrain).sort((a, b) => a - b) };
}

function stackRows(acts: Activations, indices: readonly number[], layer: number): { data: Float32Array; rows: number } {
  const d = acts.hiddenSize;
  const rows = indices.reduce((s, i) => s + acts.sentences[i].n, 0);
  const data = new Float32Array(rows * d);
  let off = 0;
  for (const i of indices) {
    data.set(acts.sentences[i].hidden[layer], off);
    off += acts.sentences[i].n * d;
  }
  return { data, rows };
}

export function learnedIdentifiability(acts: Activations, seed: number, trainShare = 0.7): LearnedIdentifiability {
  const { train, heldOut } = splitSentences(acts.sentences.length, seed, trainShare);
  const d = acts.hiddenSize;
  const target = stackRows(acts, train, 0);
  const counted = heldOut.map((s) => identifiablePositions(acts, acts.sentences[s].hidden[0], acts.sentences[s].n));
  const curve: number[] = [];
  for (let l = 0; l <= acts.layers; l++) {
    const x = stackRows(acts, train, l);
    const map = fitRidge(x.data, target.data, x.rows, d, d);
    let hit = 0;
    let total = 0;
    heldOut.forEach((s, k) => {
      const sa = acts.sentences[s];
      hit += identifiedCount(applyLinear(map, sa.hidden[l], sa.n), sa.hidden[0], sa.n, d, counted[k]);
      total += counted[k]?.filter(Boolean).length ?? sa.n;
    });
    curve.push(hit / total);
  }
  return { curve, trainSentences: train.length, heldOutSentences: heldOut.length };
}
