import { dot, norm } from '../../core/numeric/vectors.ts';
import type { Activations } from './activations.ts';

/**
 * Token identifiability (Brunner et al. 2020, "On Identifiability in Transformers", section 4): position
 * i of layer l is identified when, among the sentence's own input embeddings e_0[0..n), the one nearest
 * to h_l[i] by cosine is e_0[i]. The input embeddings are hidden state 0 (word + position + type
 * embedding after LayerNorm), so repeated words still have distinct references.
 */

/** Rows of a row-major [n, d] matrix scaled to unit length (zero rows stay zero). */
export function unitRows(x: ArrayLike<number>, n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const len = norm(x, d, r * d);
    if (len === 0) continue;
    for (let k = 0; k < d; k++) out[r * d + k] = x[r * d + k] / len;
  }
  return out;
}

/**
 * How many of the n query rows have their own reference row as the strict cosine nearest neighbour
 * (a tie with another position counts as not identified: the evidence cannot tell them apart).
 */
export function identifiedCount(query: ArrayLike<number>, reference: ArrayLike<number>, n: number, d: number): number {
  const q = unitRows(query, n, d);
  const e = unitRows(reference, n, d);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const own = dot(q, e, d, i * d, i * d);
    let identified = true;
    for (let j = 0; j < n && identified; j++) {
      if (j !== i && dot(q, e, d, i * d, j * d) >= own) identified = false;
    }
    if (identified) count++;
  }
  return count;
}

/** Share of identified tokens per layer 0..L over the chosen sentences (all by default). */
export function identifiabilityCurve(acts: Activations, sentenceIndices?: readonly number[]): number[] {
  const idx = sentenceIndices ?? acts.sentences.map((_, i) => i);
  const d = acts.hiddenSize;
  const curve: number[] = [];
  for (let l = 0; l <= acts.layers; l++) {
    let hit = 0;
    let total = 0;
    for (const s of idx) {
      const sa = acts.sentences[s];
      hit += identifiedCount(sa.hidden[l], sa.hidden[0], sa.n, d);
      total += sa.n;
    }
    curve.push(total === 0 ? NaN : hit / total);
  }
  return curve;
}
