import { kMeans } from '../../core/numeric/kmeans.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import { topKInto } from '../../core/numeric/vectors.ts';
import type { Targets } from './targets.ts';

export const CONTROL_NAMES = ['sys', 'prior', 'prior-frequency', 'upper', 'shuffle', 'shuffle-upper', 'rand', 'rand-marginal', 'category-shuffle', 'category-destroyed'] as const;
export type ControlName = (typeof CONTROL_NAMES)[number];

/** Gold-space dot products between all concepts [n, n], through an inverted index over features. */
export function goldGram(gold: Targets): Float32Array {
  const { n, q } = gold;
  const byFeature: number[][] = Array.from({ length: q }, () => []);
  for (let i = 0; i < n; i++) for (const b of gold.nonzero[i]) byFeature[b].push(i);
  const gram = new Float32Array(n * n);
  for (let b = 0; b < q; b++) {
    const list = byFeature[b];
    for (const i of list) { const vi = gold.sparse[i * q + b]; for (const j of list) gram[i * n + j] += vi * gold.sparse[j * q + b]; }
  }
  return gram;
}

/**
 * The geometry oracle (`upper`) and its random-neighbour version (`shuffle-upper`). `upper`: a held-out
 * concept is predicted as the similarity-weighted mean of the gold vectors of the k training concepts
 * most cosine-similar to it in gold-norm space (weights clamped at 0, uniform if all 0): it reads the
 * held-out gold vector to pick and weight neighbours, by design (a ceiling). `shuffle-upper`: the uniform
 * mean of k random training concepts' gold vectors; it never reads the held-out concept's gold vector
 * (the old similarity weights did, which lifted McRae from .048 to .112), so it is what k random
 * neighbours give: a noisy frequency prior.
 */
export function oraclePredict(gold: Targets, gram: Float32Array, train: readonly number[], test: readonly number[], k: number, random?: SeededRandom): Float64Array {
  const { n, q, values } = gold;
  const m = train.length;
  const out = new Float64Array(test.length * q);
  // only the nonzeros of a neighbour add to `out` (adding w * 0 changes no sum that starts at +0); with a
  // shift the values are dense, so every column is added
  const nz = gold.sparse === values ? gold.nonzero : undefined;
  const add = (t: number, j: number, w: number, divide: boolean): void => {
    const o = t * q, r = j * q;
    if (nz) {
      const idx = nz[j];
      for (let x = 0; x < idx.length; x++) { const b = idx[x]; out[o + b] += divide ? values[r + b] / w : w * values[r + b]; }
    } else {
      for (let b = 0; b < q; b++) out[o + b] += divide ? values[r + b] / w : w * values[r + b];
    }
  };
  if (random) {
    // the first k of a shuffle of [0..m): permutationInto makes the same draws into one reused buffer
    const perm = new Int32Array(m);
    const kk = Math.min(k, m);
    for (let t = 0; t < test.length; t++) {
      random.permutationInto(perm);
      for (let x = 0; x < kk; x++) add(t, train[perm[x]], kk, true);
    }
    return out;
  }
  // the diagonal read once (the same float32 values), not once per test concept and neighbour
  const diag = new Float64Array(m);
  for (let x = 0; x < m; x++) diag[x] = gram[train[x] * n + train[x]];
  const sims = new Float64Array(m);
  const best = new Int32Array(Math.max(0, k));
  for (let t = 0; t < test.length; t++) {
    const i = test[t], row = i * n, gii = gram[row + i];
    for (let x = 0; x < m; x++) {
      const d = Math.sqrt(gii * diag[x]);
      sims[x] = d > 0 ? gram[row + train[x]] / d : 0;
    }
    const picks = topKInto(sims, k, best);
    let wsum = 0;
    for (let p = 0; p < picks; p++) wsum += Math.max(0, sims[best[p]]);
    for (let p = 0; p < picks; p++) {
      const w = wsum > 0 ? Math.max(0, sims[best[p]]) / wsum : 1 / picks;
      if (w === 0) continue;
      add(t, train[best[p]], w, false);
    }
  }
  return out;
}

/**
 * `rand` targets: each concept's own values permuted across the features (seeded). Every concept keeps
 * its number of features and its value distribution (the norms' sparsity and row marginals), but which
 * feature carries them is random, so no embedding can predict them: chance level for the metrics.
 */
export function randomTargets(values: Float64Array, n: number, q: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const out = new Float64Array(n * q);
  for (let i = 0; i < n; i++) {
    const perm = rng.permutation(q);
    for (let b = 0; b < q; b++) out[i * q + perm[b]] = values[i * q + b];
  }
  return out;
}

/**
 * `rand-marginal` targets: each feature's column permuted across the concepts (seeded). Every feature
 * keeps its frequency and value distribution (its marginal), but which concepts have it is random: what
 * the frequency prior alone scores, through the mapper. Complements `rand`, which destroys the frequencies.
 */
export function columnPermutedTargets(values: Float64Array, n: number, q: number, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const out = new Float64Array(n * q);
  for (let b = 0; b < q; b++) {
    const perm = rng.permutation(n);
    for (let i = 0; i < n; i++) out[perm[i] * q + b] = values[i * q + b];
  }
  return out;
}

/**
 * Category ids of all concepts: the norm set's own labels, else k-means clusters of the gold vectors (seeded).
 * Only for the descriptive NA@10 other-category metric: the controls fit categories per training fold
 * (fold-categories.ts), so that test concepts never shape them.
 */
export function categoryGroups(gold: Targets, labels: readonly string[] | undefined, clusters: number, seed: number): { group: Int32Array; groups: number; source: string } {
  if (labels) {
    const names = [...new Set(labels)].sort();
    const idx = new Map(names.map((c, i) => [c, i]));
    return { group: Int32Array.from(labels, (l) => idx.get(l)!), groups: names.length, source: `norm-set categories (${names.length})` };
  }
  const rows = gold.nonzero.map((index, i) => ({ index, value: Array.from(index, (b) => gold.values[i * gold.q + b]) }));
  // at least ~5 concepts per cluster on average, so small sets do not get singleton 'categories'
  const km = kMeans(rows, gold.q, Math.max(2, Math.min(clusters, Math.floor(gold.n / 5))), { seed });
  return { group: km.assignment, groups: km.k, source: `k-means on the norms (k=${km.k})` };
}
