import { SeededRandom } from '../../core/numeric/seeded-random.ts';

/**
 * Induction heads (Olsson et al. 2022, "In-context learning and induction heads"): on a sequence
 * [bos, t_1 .. t_n, t_1 .. t_n] of distinct random tokens repeated once, an induction head attends from the
 * second occurrence of t_i (position n + i) to the token that followed its first occurrence (position i + 1),
 * and the model then predicts t_{i+1}. Scored for i = 1 .. n-1, the positions where that next token exists.
 */
export interface RepeatedBatch {
  /** each [bos, t_1 .. t_n, t_1 .. t_n] */
  sequences: number[][];
  half: number;
}

/** `count` sequences of `half` distinct tokens drawn from `candidates`, each repeated once after `bos`. */
export function repeatedSequences(seed: number, count: number, half: number, candidates: readonly number[], bos: number): RepeatedBatch {
  if (candidates.length < half) throw new Error(`${half} distinct tokens asked from ${candidates.length} candidates`);
  const rng = new SeededRandom(seed);
  const sequences = Array.from({ length: count }, () => {
    const tokens = rng.shuffle(candidates).slice(0, half);
    return [bos, ...tokens, ...tokens];
  });
  return { sequences, half };
}

/**
 * Mean attention from position n + i to position i + 1 (i = 1 .. n-1) of one layer, per head.
 * `attention` is [batch, heads, seq, seq] row-major with seq = 2n + 1 (no padding).
 */
export function inductionScores(attention: Float32Array, batch: number, heads: number, half: number): number[] {
  const S = 2 * half + 1;
  const out = new Array<number>(heads).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const base = (b * heads + h) * S * S;
      for (let i = 1; i < half; i++) out[h] += attention[base + (half + i) * S + (i + 1)];
    }
  }
  return out.map((x) => x / (batch * (half - 1)));
}

/**
 * The score of attention spread evenly over the causal prefix: the row of position q has q + 1 positions, so
 * the target gets 1 / (n + i + 1). A head at this value does nothing token-specific.
 */
export function causalUniformInductionScore(half: number): number {
  let s = 0;
  for (let i = 1; i < half; i++) s += 1 / (half + i + 1);
  return s / (half - 1);
}

/**
 * Share of positions n + i (i = 1 .. n-1) whose top-1 next-token prediction is t_{i+1} (in-context copying).
 * `logits` is [batch, seq, vocab] row-major.
 */
export function copyingAccuracy(logits: Float32Array, batch: RepeatedBatch, vocab: number): number {
  const n = batch.half;
  const S = 2 * n + 1;
  let hits = 0;
  batch.sequences.forEach((seq, b) => {
    for (let i = 1; i < n; i++) {
      const off = (b * S + n + i) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++) if (logits[off + v] > logits[off + best]) best = v;
      if (best === seq[i + 1]) hits++;
    }
  });
  return hits / (batch.sequences.length * (n - 1));
}
