import { jsDivergence } from '../../core/numeric/distributions.ts';
import { mean, spearman } from '../../core/numeric/stats.ts';
import { topKOverlap } from '../../core/numeric/vectors.ts';
import type { Activations, SentenceActivations } from './activations.ts';
import { rollout } from './rollout.ts';

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
  /** mean over sentences of Spearman between the [CLS] rows of the two rollouts R_l (token importance) */
  rolloutSpearman: number;
  /** mean over rows and sentences of JS divergence between the two rollouts R_l */
  rolloutJs: number;
}

export function compareActivations(ref: Activations, other: Activations, topK: number): LayerComparison[] {
  if (ref.sentences.length !== other.sentences.length || ref.layers !== other.layers || ref.heads !== other.heads) {
    throw new Error(`compared runs differ in shape: ${ref.sentences.length}/${ref.layers}/${ref.heads} vs ${other.sentences.length}/${other.layers}/${other.heads}`);
  }
  const { layers, heads } = ref;
  const js = Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  const tk = Array.from({ length: layers }, () => new Array<number>(heads).fill(0));
  const rho: number[][] = Array.from({ length: layers }, () => []);
  const rjs = new Array<number>(layers).fill(0);
  let rows = 0;
  ref.sentences.forEach((a, s) => {
    const b = other.sentences[s];
    const n = a.n;
    if (b.n !== n) throw new Error(`sentence ${s} has ${n} tokens in one run and ${b.n} in the other`);
    for (let l = 0; l < layers; l++) {
      const pa = a.attention[l];
      const pb = b.attention[l];
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < n; i++) {
          const off = (h * n + i) * n;
          js[l][h] += jsDivergence(pa, pb, n, off, off);
          tk[l][h] += topKOverlap(pa, pb, topK, n, off, off);
        }
      }
    }
    const ra = rollout(a.attention, heads, n);
    const rb = rollout(b.attention, heads, n);
    for (let l = 0; l < layers; l++) {
      const r = spearman(Array.from(ra[l].subarray(0, n)), Array.from(rb[l].subarray(0, n)));
      if (Number.isFinite(r)) rho[l].push(r);
      for (let i = 0; i < n; i++) rjs[l] += jsDivergence(ra[l], rb[l], n, i * n, i * n);
    }
    rows += n;
  });
  return js.map((perHead, l) => ({
    layer: l + 1,
    jsPerHead: perHead.map((x) => x / rows),
    topKPerHead: tk[l].map((x) => x / rows),
    rolloutSpearman: rho[l].length > 0 ? mean(rho[l]) : NaN,
    rolloutJs: rjs[l] / rows,
  }));
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
