/**
 * The `prior` controls: no embedding at all. Every held-out concept is predicted as the mean target
 * vector of the training concepts of its fold. On binarised feature lists that mean is each feature's
 * frequency (the share of training concepts that have it), so F1@10 of the prior = F1 of "the 10 most
 * frequent features" for every concept: what a mapper learns from the targets alone.
 */
export function trainingMean(values: Float64Array, q: number, train: readonly number[], nonzero?: readonly ArrayLike<number>[]): Float64Array {
  const mean = new Float64Array(q);
  // with the rows' nonzero columns (a superset will do), only those are added: a sum that starts at +0
  // is not changed by adding a zero, so the means are the same numbers
  if (nonzero) {
    for (const r of train) { const idx = nonzero[r], o = r * q; for (let x = 0; x < idx.length; x++) mean[idx[x]] += values[o + idx[x]]; }
  } else {
    for (const r of train) for (let b = 0; b < q; b++) mean[b] += values[r * q + b];
  }
  for (let b = 0; b < q; b++) mean[b] /= train.length || 1;
  return mean;
}

/**
 * Each concept's prediction by the training-fold mean of its fold ([n, q]). `nonzero`: each row's nonzero
 * columns (a superset will do: the targets' own, Targets.nonzero), so the means add only those.
 */
export function priorPredictions(values: Float64Array, n: number, q: number, folds: readonly number[][], nonzero?: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(n * q);
  const all = Array.from({ length: n }, (_, i) => i);
  for (const test of folds) {
    const held = new Set(test);
    const mean = trainingMean(values, q, all.filter((i) => !held.has(i)), nonzero);
    for (const r of test) out.set(mean, r * q);
  }
  return out;
}

/**
 * Frequency-weighted form for feature lists: the training share of concepts with value > 0 (binary
 * presence), which differs from the mean of the values when the values are production counts.
 */
export function presence(values: Float64Array): Float64Array {
  return values.map((v) => (v > 0 ? 1 : 0));
}
