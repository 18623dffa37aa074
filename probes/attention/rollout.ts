import { effectiveCount } from '../../core/numeric/distributions.ts';
import type { Activations } from './activations.ts';

/**
 * Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): per layer the
 * head-averaged attention A is adjusted for the residual connection as 0.5 A + 0.5 I, rows are
 * re-normalised, and the layers are multiplied: R_l = Â_l R_{l-1}, R_0 = I. Row i of R_l says how much
 * each input token contributes to position i after l layers. Matrices are [n, n] row-major.
 */

/** Mean over heads of one layer's [heads, n, n] attention. */
export function headMean(attention: ArrayLike<number>, heads: number, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let h = 0; h < heads; h++) for (let k = 0; k < n * n; k++) out[k] += attention[h * n * n + k];
  for (let k = 0; k < n * n; k++) out[k] /= heads;
  return out;
}

/** (1 - w) A + w I with each row re-normalised to sum 1; w = 0.5 in Abnar & Zuidema. */
export function residualAdjusted(a: ArrayLike<number>, n: number, residualWeight = 0.5): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const v = (1 - residualWeight) * a[i * n + j] + (i === j ? residualWeight : 0);
      out[i * n + j] = v;
      sum += v;
    }
    if (sum > 0) for (let j = 0; j < n; j++) out[i * n + j] /= sum;
  }
  return out;
}

/** c = a b for [n, n] matrices. */
function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const x = a[i * n + k];
      if (x === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += x * b[k * n + j];
    }
  }
  return c;
}

/**
 * Rollout after each layer: result[l - 1] = R_l for l = 1..L, from each layer's [heads, n, n] attention.
 * residualWeight 0 gives the plain product of attention matrices (no residual adjustment).
 */
export function rollout(layers: ReadonlyArray<ArrayLike<number>>, heads: number, n: number, residualWeight = 0.5): Float64Array[] {
  const out: Float64Array[] = [];
  let r: Float64Array | undefined;
  for (const att of layers) {
    const adj = residualAdjusted(headMean(att, heads, n), n, residualWeight);
    r = r ? matMul(adj, r, n) : adj;
    out.push(r);
  }
  return out;
}

/** Mean of the diagonal over rows `from`..n-1: how much of position i still comes from token i. */
export function selfContribution(r: ArrayLike<number>, n: number, from = 0): number {
  let s = 0;
  for (let i = from; i < n; i++) s += r[i * n + i];
  return s / (n - from);
}

/** Mean over rows `from`..n-1 of exp(entropy): the effective number of input tokens each position draws on. */
export function effectiveSources(r: ArrayLike<number>, n: number, from = 0): number {
  let s = 0;
  for (let i = from; i < n; i++) s += effectiveCount(r, n, i * n);
  return s / (n - from);
}

export interface MixingCurve {
  /** per layer 0..L (layer 0 is the identity: 1) */
  selfContribution: number[];
  effectiveSources: number[];
}

/**
 * Sentence-averaged mixing per layer. On a decoder row 0 attends only to itself in every layer (self-contribution
 * 1 by the mask), so it is left out; a one-token sentence has nothing else and is left out too.
 */
export function mixingCurve(acts: Activations): MixingCurve {
  const self = new Array<number>(acts.layers + 1).fill(0);
  const eff = new Array<number>(acts.layers + 1).fill(0);
  const from = acts.causal ? 1 : 0;
  let m = 0;
  for (const s of acts.sentences) {
    if (s.n <= from) continue;
    m++;
    self[0] += 1;
    eff[0] += 1;
    rollout(s.attention, acts.heads, s.n).forEach((r, k) => {
      self[k + 1] += selfContribution(r, s.n, from);
      eff[k + 1] += effectiveSources(r, s.n, from);
    });
  }
  return { selfContribution: self.map((x) => x / m), effectiveSources: eff.map((x) => x / m) };
}
