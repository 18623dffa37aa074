import type { Activations } from './activations.ts';
import { rollout } from './rollout.ts';

/**
 * What attention rows are judged against. An encoder row spreads over all n positions, so "no structure" is
 * 1/n. A decoder's causal mask lets row i (0-based) reach positions 0..i only, so its no-structure baseline is
 * 1/(i + 1), and some rows are fixed by the mask alone: row 0 attends only to itself (weight 1, whatever the
 * weights), row 1 splits between two positions (a rank statistic over two values is +-1 by construction).
 * Statistics over a decoder's rows therefore read each row's causal prefix only (the zeros above the diagonal
 * are the mask's, equal in every run, and would inflate any agreement) and leave out the rows the mask determines.
 */

/** Fewest positions a row needs for a rank statistic to say anything: rows 0 and 1 of a causal map have fewer. */
export const RANK_MIN_POSITIONS = 3;

/** Positions row i of an n-position map can attend to. */
export function rowLength(i: number, n: number, causal: boolean | undefined): number {
  return causal ? i + 1 : n;
}

export interface AttentionBaseline {
  kind: 'uniform' | 'causal-uniform';
  rule: string;
  /** entropy ratio and dominant-row share that attention with no structure gives: the values a verdict compares against */
  entropyRatio: number;
  dominantShare: number;
  /** rollout's mean self-contribution per layer 0..L on the same sentences if every head attended uniformly (closed form) */
  selfContribution: number[];
  /** rows left out of the statistics, in words (none for an encoder) */
  excludedRows: string;
}

/**
 * Rollout of uniform attention, mean diagonal after `layers` layers, closed form (residual weight 0.5).
 * Encoder: A = U = 11'/n is idempotent, so (U/2 + I/2)^l = I/2^l + (1 - 1/2^l) U, diagonal 1/2^l + (1 - 1/2^l)/n.
 * Decoder: A is lower triangular with diagonal 1/(i+1), so the diagonal of (A/2 + I/2)^l is the power of the
 * diagonal, ((i + 2) / (2i + 2))^l, averaged over rows 1..n-1 (row 0 is 1 by the mask and left out).
 */
export function uniformSelfContribution(n: number, layers: number, causal: boolean | undefined): number {
  if (!causal) return 2 ** -layers + (1 - 2 ** -layers) / n;
  if (n < 2) return 1;
  let s = 0;
  for (let i = 1; i < n; i++) s += ((i + 2) / (2 * i + 2)) ** layers;
  return s / (n - 1);
}

/** Uniform causal attention [n, n]: row i spreads 1/(i + 1) over positions 0..i. */
export function uniformCausalAttention(n: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = 1 / (i + 1);
  return a;
}

const uniformRollouts = new Map<string, Float64Array[]>();

/** Rollout R_1..R_L of uniform causal attention over n positions (cached: sentences share lengths). */
export function uniformCausalRollout(n: number, layers: number): Float64Array[] {
  const key = `${n}/${layers}`;
  let r = uniformRollouts.get(key);
  if (!r) {
    const a = uniformCausalAttention(n);
    r = rollout(Array.from({ length: layers }, () => a), 1, n);
    if (uniformRollouts.size > 512) uniformRollouts.clear();
    uniformRollouts.set(key, r);
  }
  return r;
}

/** The baseline the probe judged `acts` against, per layer 0..L averaged over sentences as mixingCurve averages. */
export function attentionBaseline(acts: Pick<Activations, 'causal' | 'layers' | 'sentences'>): AttentionBaseline {
  const counted = acts.sentences.filter((x) => x.n > (acts.causal ? 1 : 0)); // as mixingCurve counts them
  const selfContribution = Array.from({ length: acts.layers + 1 }, (_, l) => counted.reduce((s, x) => s + uniformSelfContribution(x.n, l, acts.causal), 0) / counted.length);
  return acts.causal
    ? {
      kind: 'causal-uniform', rule: 'row i spreads 1/(i+1) over positions 0..i (causal mask); entropy divided by ln(i+1)', entropyRatio: 1, dominantShare: 0, selfContribution,
      excludedRows: `row 0 (one position) from entropy, JS divergence and rollout mixing; rows with fewer than ${RANK_MIN_POSITIONS} positions from rank statistics (rollout Spearman, ranked on each row divided by the causal-uniform rollout); rows whose uniform weight 1/(i+1) already reaches the dominant weight from the dominant-row share, rows of at most top-k positions from top-k overlap; each row read on its causal prefix`,
    }
    : { kind: 'uniform', rule: 'every row spreads 1/n over all n positions; entropy divided by ln n', entropyRatio: 1, dominantShare: 0, selfContribution, excludedRows: 'none' };
}
