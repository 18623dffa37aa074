import { entropy } from '../../core/numeric/distributions.ts';

/**
 * Attention entropy of a causal model measured against what a causal row can do: the row of position i
 * (0-based) spreads over i + 1 positions, so its entropy is divided by ln(i + 1), not ln(n). Uniform causal
 * attention then scores 1 (no structure), one-hot 0. Rows of one position (i = 0) carry no choice and are
 * left out. The encoder metric (probes/attention/structure.ts divides by ln n) would call uniform causal
 * attention structured: see causalUniformRatioOverLnN.
 */
export function causalEntropyRatio(attention: Float32Array, batch: number, heads: number, n: number): number[] {
  const out = new Array<number>(heads).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 1; i < n; i++) out[h] += entropy(attention, i + 1, ((b * heads + h) * n + i) * n) / Math.log(i + 1);
    }
  }
  return out.map((x) => x / (batch * (n - 1)));
}

/**
 * What the ln(n)-normalised entropy ratio gives for uniform causal attention over n positions: the mean over
 * rows i = 0 .. n-1 of ln(i + 1) / ln n, i.e. ln(n!) / (n ln n) (0.691 at n = 16, 0.75 at n = 32). This is
 * the baseline the issue saw as "0.697 in every layer".
 */
export function causalUniformRatioOverLnN(n: number): number {
  let lnFact = 0;
  for (let k = 2; k <= n; k++) lnFact += Math.log(k);
  return lnFact / (n * Math.log(n));
}
