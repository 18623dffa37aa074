import { entropy } from '../../core/numeric/distributions.ts';
import { causalEntropyRatio } from '../induction/causal-structure.ts';
import type { Activations } from './activations.ts';

/**
 * How structured raw attention looks, the way a reader of attention maps would judge it: rows far from
 * uniform (low entropy relative to ln n) and rows with one dominant target. High structure says nothing
 * about whether position i still stands for token i; that is why it is set beside identifiability.
 * On a decoder (acts.causal) both are measured against causal-uniform rows (probes/attention/causal-rows.ts).
 */
export interface HeadStructure {
  /** mean over rows of entropy / ln(n): 1 = uniform attention, 0 = one-hot */
  entropyRatio: number;
  /** share of rows whose largest weight is at least the dominant-weight threshold */
  dominantShare: number;
}

export interface LayerStructure extends HeadStructure {
  layer: number;
  heads: HeadStructure[];
}

/** Per-row structure of one [n] attention row at `off`. */
function rowStats(a: ArrayLike<number>, n: number, off: number, dominantWeight: number): { ratio: number; dominant: boolean } {
  let max = 0;
  for (let j = 0; j < n; j++) if (a[off + j] > max) max = a[off + j];
  return { ratio: n > 1 ? entropy(a, n, off) / Math.log(n) : 0, dominant: max >= dominantWeight };
}

export function attentionStructure(acts: Activations, dominantWeight: number): LayerStructure[] {
  const out: LayerStructure[] = [];
  for (let l = 1; l <= acts.layers; l++) {
    const ratio = new Array<number>(acts.heads).fill(0);
    const dominant = new Array<number>(acts.heads).fill(0);
    let rows = 0;
    let dominanceRows = 0;
    for (const s of acts.sentences) {
      const a = s.attention[l - 1];
      if (acts.causal) {
        dominanceRows += causalRows(a, s.n, acts.heads, dominantWeight, ratio, dominant);
        rows += Math.max(0, s.n - 1);
        continue;
      }
      for (let h = 0; h < acts.heads; h++) {
        for (let i = 0; i < s.n; i++) {
          const r = rowStats(a, s.n, (h * s.n + i) * s.n, dominantWeight);
          ratio[h] += r.ratio;
          if (r.dominant) dominant[h]++;
        }
      }
      rows += s.n;
      dominanceRows += s.n;
    }
    const heads = ratio.map((x, h) => ({ entropyRatio: rows > 0 ? x / rows : 1, dominantShare: dominanceRows > 0 ? dominant[h] / dominanceRows : 0 }));
    out.push({
      layer: l,
      entropyRatio: heads.reduce((s, h) => s + h.entropyRatio, 0) / heads.length,
      dominantShare: heads.reduce((s, h) => s + h.dominantShare, 0) / heads.length,
      heads,
    });
  }
  return out;
}

/**
 * One causal sentence's rows added into the per-head sums; returns how many rows were judged for dominance: entropy / ln(i + 1) over rows 1..n-1 (the induction
 * probe's causal-uniform helper; row 0 has one position and no choice), and a row counted dominant only where
 * uniform causal attention would not already reach the dominant weight (1/(i + 1) < dominantWeight), so
 * uniform causal attention scores exactly the baseline: ratio 1, no dominant rows.
 */
function causalRows(a: Float32Array, n: number, heads: number, dominantWeight: number, ratio: number[], dominant: number[]): number {
  if (n >= 2) causalEntropyRatio(a, 1, heads, n).forEach((x, h) => { ratio[h] += x * (n - 1); });
  // rows 0..first-1 are at or above the dominant weight by the mask alone
  const first = rowsFixedByMask(dominantWeight, n);
  for (let h = 0; h < heads; h++) {
    for (let i = first; i < n; i++) {
      const off = (h * n + i) * n;
      let max = 0;
      for (let j = 0; j <= i; j++) if (a[off + j] > max) max = a[off + j];
      if (max >= dominantWeight) dominant[h]++;
    }
  }
  return n - first;
}

/** The first row index i < n with 1/(i + 1) < dominantWeight (n if none): the rows before it reach the weight uniformly. */
function rowsFixedByMask(dominantWeight: number, n: number): number {
  let i = 0;
  while (i < n && 1 / (i + 1) >= dominantWeight) i++;
  return i;
}
