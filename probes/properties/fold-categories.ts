import { kMeans } from '../../core/numeric/kmeans.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import type { Targets } from './targets.ts';

/** Category ids for all concepts, defined from one outer fold's training concepts only. */
export interface FoldCategories { group: Int32Array; groups: number }

/**
 * Categories for one outer fold. With the norm set's own labels, the labels (given, not learned). Else
 * k-means fitted on the training concepts' gold vectors only; a held-out concept is then assigned to the
 * nearest training centroid, as a label would assign it (it names the category, never a prediction).
 * Before, clustering ran over all concepts, so the test folds shaped the categories and centroids.
 */
export function foldCategories(gold: Targets, labels: readonly string[] | undefined, clusters: number, seed: number, train: readonly number[]): FoldCategories {
  const { n, q } = gold;
  if (labels) {
    const names = [...new Set(labels)].sort();
    const idx = new Map(names.map((c, i) => [c, i]));
    return { group: Int32Array.from(labels, (l) => idx.get(l)!), groups: names.length };
  }
  const rowOf = (i: number): { index: Int32Array; value: number[] } => ({ index: gold.nonzero[i], value: Array.from(gold.nonzero[i], (b) => gold.values[i * q + b]) });
  const k = Math.max(2, Math.min(clusters, Math.floor(train.length / 5)));
  const km = kMeans(train.map(rowOf), q, k, { seed });
  const group = new Int32Array(n).fill(-1);
  train.forEach((r, x) => { group[r] = km.assignment[x]; });
  const cNorm = new Float64Array(km.k);
  for (let c = 0; c < km.k; c++) for (let b = 0; b < q; b++) cNorm[c] += km.centroids[c * q + b] ** 2;
  for (let i = 0; i < n; i++) {
    if (group[i] >= 0) continue;
    const row = rowOf(i);
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < km.k; c++) {
      let dot = 0;
      for (let x = 0; x < row.index.length; x++) dot += row.value[x] * km.centroids[c * q + row.index[x]];
      const d = cNorm[c] - 2 * dot;
      if (d < bestD) { bestD = d; best = c; }
    }
    group[i] = best;
  }
  return { group, groups: km.k };
}

/**
 * Row means per group over the training rows only ([groups, width]); a group without training rows gets the
 * training mean. With the rows' nonzero columns (sparse targets), only those are added: a sum that starts at
 * +0 is not changed by a zero, so the means are the same numbers (~20x fewer additions on Buchanan).
 */
export function trainCentroids(data: Float64Array, width: number, cats: FoldCategories, train: readonly number[], nonzero?: readonly Int32Array[]): Float64Array {
  const sums = new Float64Array(cats.groups * width);
  const counts = new Float64Array(cats.groups);
  const all = new Float64Array(width);
  for (const r of train) {
    const g = cats.group[r], o = r * width, go = g * width;
    counts[g]++;
    if (nonzero) { const idx = nonzero[r]; for (let x = 0; x < idx.length; x++) { const j = idx[x]; sums[go + j] += data[o + j]; all[j] += data[o + j]; } }
    else for (let j = 0; j < width; j++) { sums[go + j] += data[o + j]; all[j] += data[o + j]; }
  }
  for (let g = 0; g < cats.groups; g++) for (let j = 0; j < width; j++) sums[g * width + j] = counts[g] > 0 ? sums[g * width + j] / counts[g] : all[j] / train.length;
  return sums;
}

/**
 * `category-destroyed` for one fold: embeddings and targets minus their category centroid, the centroids
 * taken over the fold's training concepts only, so only within-category variation is left to map.
 * Targets keep their sparse part and record the shift (see Targets).
 */
export function residualiseFold(X: Float64Array, p: number, Y: Targets, cats: FoldCategories, train: readonly number[]): { X: Float64Array; Y: Targets } {
  return { X: residualiseRows(X, p, cats, train), Y: residualiseTargets(Y, cats, train) };
}

/** Rows minus their category's training centroid (index loops: this runs once per fold and control). */
export function residualiseRows(data: Float64Array, width: number, cats: FoldCategories, train: readonly number[]): Float64Array {
  return residualiseRowsWith(data, width, cats, trainCentroids(data, width, cats, train));
}

/**
 * Targets minus their category's training centroid, keeping the sparse part and recording the shift (see
 * Targets). The dense residual `values` [n, q] is formed on first read only: the PLSR fit and its F1 search
 * work from the sparse part and the shift (a 31 MB array per fold on Buchanan, most of it never read).
 */
export function residualiseTargets(Y: Targets, cats: FoldCategories, train: readonly number[]): Targets {
  if (Y.shift) throw new Error('residualiseTargets: the targets are residualised already');
  const cy = trainCentroids(Y.values, Y.q, cats, train, Y.nonzero);
  let dense: Float64Array | undefined;
  const out = { ...Y, shift: { group: cats.group, groups: cats.groups, centroids: cy } };
  return Object.defineProperty(out, 'values', { get: () => (dense ??= residualiseRowsWith(Y.values, Y.q, cats, cy)), enumerable: true });
}

function residualiseRowsWith(data: Float64Array, width: number, cats: FoldCategories, c: Float64Array): Float64Array {
  const out = new Float64Array(data.length);
  const rows = data.length / width;
  for (let i = 0; i < rows; i++) residualRowInto(data, width, cats, c, i, out.subarray(i * width, (i + 1) * width));
  return out;
}

/** Row `row` of `data` minus its category's centroid (centroids `c` from trainCentroids), into `out` [width]. */
export function residualRowInto(data: Float64Array, width: number, cats: FoldCategories, c: Float64Array, row: number, out: Float64Array = new Float64Array(width)): Float64Array {
  const o = row * width, g = cats.group[row] * width;
  for (let j = 0; j < width; j++) out[j] = data[o + j] - c[g + j];
  return out;
}

/**
 * `category-shuffle` embeddings: rows permuted within each category (seeded). A concept keeps an embedding
 * of its own category but not its own, so only what the embedding says about the category is left: sys must
 * beat this, or its score is explained by category structure.
 */
export function shuffleWithinCategories(X: Float64Array, p: number, cats: FoldCategories, seed: number): Float64Array {
  const rng = new SeededRandom(seed);
  const members: number[][] = Array.from({ length: cats.groups }, () => []);
  cats.group.forEach((g, i) => members[g].push(i));
  const out = new Float64Array(X.length);
  for (const list of members) {
    const perm = rng.shuffle(list);
    list.forEach((dst, x) => out.set(X.subarray(perm[x] * p, (perm[x] + 1) * p), dst * p));
  }
  return out;
}
