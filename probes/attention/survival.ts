import { jsDivergence } from '../../core/numeric/distributions.ts';
import { mean, spearman } from '../../core/numeric/stats.ts';
import { topKOverlap } from '../../core/numeric/vectors.ts';
import type { Activations, SentenceActivations } from './activations.ts';
import { rollout } from './rollout.ts';
import { RANK_MIN_POSITIONS, rowLength, uniformCausalRollout } from './causal-rows.ts';

/**
 * Per-layer comparison of two runs over the same sentences (fp32 against a variant, or against a
 * randomized model): how far the attention rows moved, whether the top attended tokens are the same,
 * and whether rollout ranks the input tokens the same way.
 */
export interface LayerComparison {
  layer: number;
  /** mean over rows of JS divergence (nats), per head */
  jsPerHead: number[];
  /** mean over rows of top-k attended-token overlap, per head */
  topKPerHead: number[];
  /**
   * mean over sentences of Spearman between the [CLS] rows of the two rollouts R_l (token importance); on a
   * decoder, of each row's causal prefix averaged over rows of at least RANK_MIN_POSITIONS positions
   */
  rolloutSpearman: number;
  /** mean over rows and sentences of JS divergence between the two rollouts R_l */
  rolloutJs: number;
}

/**
 * Under a causal mask (probes/attention/causal-rows.ts) row i is read on its prefix 0..i; row 0 (one position,
 * weight 1 in every run) is left out of JS divergence, rows of at most k positions out of top-k overlap (they
 * share all their positions by construction), and rollout token importance is the Spearman of each row's
 * prefix (relative to causal-uniform rollout, see prefixSpearman) averaged over rows of at least RANK_MIN_POSITIONS positions. An encoder reads its [CLS] row; a decoder
 * has none, and its row 0 is [1, 0, ..] in every model, which made a decoder's ranking "kept" (Spearman 1) at
 * every randomization step.
 */
export function compareActivations(ref: Activations, other: Activations, topK: number): LayerComparison[] {
  if (ref.sentences.length !== other.sentences.length || ref.layers !== other.layers || ref.heads !== other.heads) {
    throw new Error(`compared runs differ in shape: ${ref.sentences.length}/${ref.layers}/${ref.heads} vs ${other.sentences.length}/${other.layers}/${other.heads}`);
  }
  const { layers, heads } = ref;
  const causal = ref.causal || other.causal;
  const first = causal ? 1 : 0;
  const js = Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  const tk = Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  const rho: number[][] = Array.from({ length: layers }, () => []);
  const rjs = new Array<number>(layers).fill(0);
  let rows = 0;
  let tkRows = 0;
  ref.sentences.forEach((a, s) => {
    const b = other.sentences[s];
    const n = a.n;
    if (b.n !== n) throw new Error(`sentence ${s} has ${n} tokens in one run and ${b.n} in the other`);
    for (let l = 0; l < layers; l++) {
      const pa = a.attention[l];
      const pb = b.attention[l];
      for (let h = 0; h < heads; h++) {
        for (let i = first; i < n; i++) {
          const off = (h * n + i) * n;
          const len = rowLength(i, n, causal);
          js[l][h] += jsDivergence(pa, pb, len, off, off);
          if (!causal || len > topK) tk[l][h] += topKOverlap(pa, pb, topK, len, off, off);
        }
      }
    }
    const ra = rollout(a.attention, heads, n);
    const rb = rollout(b.attention, heads, n);
    const base = causal ? uniformCausalRollout(n, layers) : [];
    for (let l = 0; l < layers; l++) {
      const r = causal ? prefixSpearman(ra[l], rb[l], base[l], n) : spearman(Array.from(ra[l].subarray(0, n)), Array.from(rb[l].subarray(0, n)));
      if (Number.isFinite(r)) rho[l].push(r);
      for (let i = first; i < n; i++) rjs[l] += jsDivergence(ra[l], rb[l], rowLength(i, n, causal), i * n, i * n);
    }
    rows += Math.max(0, n - first);
    tkRows += causal ? Math.max(0, n - topK) : n;
  });
  return js.map((perHead, l) => ({
    layer: l + 1,
    jsPerHead: perHead.map((x) => (rows > 0 ? x / rows : 0)),
    // no row longer than k (short causal sentences only): nothing to rank, so nothing lost
    topKPerHead: tk[l].map((x) => (tkRows > 0 ? x / tkRows : 1)),
    rolloutSpearman: rho[l].length > 0 ? mean(rho[l]) : NaN,
    rolloutJs: rows > 0 ? rjs[l] / rows : 0,
  }));
}

/**
 * Mean over rows of at least RANK_MIN_POSITIONS positions of the Spearman between two causal rollouts' row
 * prefixes, each divided by the causal-uniform rollout of the same length (`base`, layer by layer). Any causal
 * rollout gives early positions more weight (they reach every later row through every path), so raw prefixes
 * rank alike whatever the weights; the ratio ranks only what a model adds over uniform causal attention.
 */
function prefixSpearman(ra: Float64Array, rb: Float64Array, base: Float64Array, n: number): number {
  const rhos: number[] = [];
  const row = (r: Float64Array, i: number): number[] => Array.from({ length: i + 1 }, (_, j) => r[i * n + j] / base[i * n + j]);
  for (let i = RANK_MIN_POSITIONS - 1; i < n; i++) {
    const r = spearman(row(ra, i), row(rb, i));
    if (Number.isFinite(r)) rhos.push(r);
  }
  return rhos.length > 0 ? mean(rhos) : NaN;
}

/**
 * The sentence's activations re-indexed by a token permutation: position p of the result holds what
 * position perm[p] held. Used to line fp32 maps up with the run on shuffled tokens.
 */
export function permuteSentence(s: SentenceActivations, perm: readonly number[], heads: number, hiddenSize: number): SentenceActivations {
  const n = s.n;
  const hidden = s.hidden.map((h) => {
    const out = new Float32Array(n * hiddenSize);
    for (let p = 0; p < n; p++) out.set(h.subarray(perm[p] * hiddenSize, (perm[p] + 1) * hiddenSize), p * hiddenSize);
    return out;
  });
  const attention = s.attention.map((a) => {
    const out = new Float32Array(heads * n * n);
    for (let h = 0; h < heads; h++) for (let p = 0; p < n; p++) for (let q = 0; q < n; q++) out[(h * n + p) * n + q] = a[(h * n + perm[p]) * n + perm[q]];
    return out;
  });
  return { n, hidden, attention };
}
