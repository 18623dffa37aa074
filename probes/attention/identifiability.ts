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
export function identifiedCount(query: ArrayLike<number>, reference: ArrayLike<number>, n: number, d: number, counted?: readonly boolean[]): number {
  const q = unitRows(query, n, d);
  const e = unitRows(reference, n, d);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (counted && !counted[i]) continue;
    const own = dot(q, e, d, i * d, i * d);
    let identified = true;
    for (let j = 0; j < n && identified; j++) {
      if (j !== i && dot(q, e, d, i * d, j * d) >= own) identified = false;
    }
    if (identified) count++;
  }
  return count;
}

/**
 * Positions that can be identified at all: on a decoder, those whose input embedding e_0[i] is no exact copy of
 * another position's. A rotary (or position-free) decoder adds no position to the residual stream, so a token
 * repeated in a sentence has identical references at every occurrence and no hidden state could pick one; those
 * positions are left out rather than counted as lost. Encoders add position embeddings and are read as before
 * (undefined: every position counts).
 */
export function identifiablePositions(acts: Pick<Activations, 'causal' | 'hiddenSize'>, reference: ArrayLike<number>, n: number): boolean[] | undefined {
  if (!acts.causal) return undefined;
  const d = acts.hiddenSize;
  const key = (i: number): string => Array.prototype.join.call(Array.prototype.slice.call(reference, i * d, (i + 1) * d), ',');
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) seen.set(key(i), (seen.get(key(i)) ?? 0) + 1);
  return Array.from({ length: n }, (_, i) => seen.get(key(i)) === 1);
}

/** How many positions identifiablePositions leaves out over all sentences (0 for an encoder). */
export function unidentifiablePositions(acts: Activations): number {
  return acts.sentences.reduce((s, sa) => s + (identifiablePositions(acts, sa.hidden[0], sa.n)?.filter((k) => !k).length ?? 0), 0);
}

/** Share of identified tokens per layer 0..L over the chosen sentences (all by default). */
export function identifiabilityCurve(acts: Activations, sentenceIndices?: readonly number[]): number[] {
  const idx = sentenceIndices ?? acts.sentences.map((_, i) => i);
  const d = acts.hiddenSize;
  const counted = idx.map((s) => identifiablePositions(acts, acts.sentences[s].hidden[0], acts.sentences[s].n));
  const curve: number[] = [];
  for (let l = 0; l <= acts.layers; l++) {
    let hit = 0;
    let total = 0;
    idx.forEach((s, k) => {
      const sa = acts.sentences[s];
      hit += identifiedCount(sa.hidden[l], sa.hidden[0], sa.n, d, counted[k]);
      total += counted[k]?.filter(Boolean).length ?? sa.n;
    });
    curve.push(total === 0 ? NaN : hit / total);
  }
  return curve;
}
