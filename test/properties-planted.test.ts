import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { loadPropertiesConfig, type PropertiesConfig } from '../probes/properties/config.ts';
import type { NormSet } from '../probes/properties/norm-set.ts';
import { evaluateLayers } from '../probes/properties/run-properties.ts';
import { priorPredictions, presence } from '../probes/properties/priors.ts';
import { holmAdjust } from '../probes/properties/inference.ts';
import { oraclePredict, goldGram, columnPermutedTargets } from '../probes/properties/controls.ts';
import { denseTargets } from '../probes/properties/targets.ts';
import { foldCategories, residualiseFold } from '../probes/properties/fold-categories.ts';

// small and fast: 150 concepts, 40 binary features, 8-dim embeddings, 5 folds x 2 repeats, one worker
function smallConfig(): PropertiesConfig {
  const cfg = loadPropertiesConfig();
  return {
    ...cfg, folds: 5, repeats: 2, workers: 1,
    plsr: { ...cfg.plsr, componentGrid: [1, 2, 3, 4, 6, 8], stageCaps: [4] },
    controls: { ...cfg.controls, shuffleSeeds: 1, bootstrapResamples: 400, permutations: 400, categoryClusters: 6 },
  };
}

const N = 150, Q = 40, P = 8, CATS = 5;
function normSet(values: Float64Array, categories?: string[]): NormSet {
  return {
    name: 'planted', path: 'planted', concepts: Array.from({ length: N }, (_, i) => `c${i}`), words: Array.from({ length: N }, (_, i) => `c${i}`),
    features: Array.from({ length: Q }, (_, j) => `f${j}`), values, categories, metric: 'f1', notes: [],
  };
}
/** features whose frequency falls from ~60% to ~3% (a strong prior to beat) */
const baseRate = (j: number): number => 0.6 * Math.exp(-j / 10) + 0.03;
const run = (values: Float64Array, X: Float64Array, categories?: string[]) =>
  evaluateLayers({ norms: normSet(values, categories), layers: [{ layer: 'L0', X }], p: P, cfg: smallConfig(), mapper: 'plsr', binarizeForPlsr: true });

test('embeddings carrying a linear signal pass every control', async () => {
  const rng = new SeededRandom(1);
  const Z = Float64Array.from({ length: N * 4 }, () => rng.normal());
  const W = Float64Array.from({ length: 4 * Q }, () => rng.normal());
  const values = new Float64Array(N * Q);
  // a feature is present when its linear score beats the threshold of its base rate
  for (let i = 0; i < N; i++) for (let j = 0; j < Q; j++) {
    let s = 0;
    for (let a = 0; a < 4; a++) s += Z[i * 4 + a] * W[a * Q + j];
    values[i * Q + j] = s / 2 + 2 * baseRate(j) + 0.3 * rng.normal() > 1 ? 1 : 0;
  }
  const X = new Float64Array(N * P);
  for (let i = 0; i < N; i++) for (let a = 0; a < P; a++) X[i * P + a] = (a < 4 ? Z[i * 4 + a] : 0) + 0.1 * rng.normal();
  const { results } = await run(values, X);
  const l = results[0];
  assert.equal(l.passes, true, l.summary);
  for (const t of Object.values(l.tests)) assert.ok(t.beaten && t.pHolm < 0.05 && t.difference >= 0.02);
});

test('embeddings that carry only the feature frequencies fail, explained by the frequency prior', async () => {
  const rng = new SeededRandom(2);
  const values = Float64Array.from({ length: N * Q }, (_, k) => (rng.next() < baseRate(k % Q) ? 1 : 0));
  // the embedding knows nothing about the concept: noise
  const X = Float64Array.from({ length: N * P }, () => rng.normal());
  const { results } = await run(values, X);
  const l = results[0];
  assert.equal(l.passes, false);
  assert.equal(l.explanation, 'the frequency prior', l.summary);
  assert.ok(l.explainedBy.includes('prior') && l.explainedBy.includes('shuffle'));
  assert.match(l.summary, /explained by the frequency prior/);
});

test('embeddings that carry only category structure fail, explained by category structure', async () => {
  const rng = new SeededRandom(3);
  const cat = Array.from({ length: N }, (_, i) => i % CATS);
  // each category has its own frequent features; concepts vary at random within the category
  const protoRate = Array.from({ length: CATS * Q }, () => (rng.next() < 0.25 ? 0.85 : 0.05));
  const values = Float64Array.from({ length: N * Q }, (_, k) => (rng.next() < protoRate[cat[Math.floor(k / Q)] * Q + (k % Q)] ? 1 : 0));
  const centre = Float64Array.from({ length: CATS * P }, () => 2 * rng.normal());
  const X = Float64Array.from({ length: N * P }, (_, k) => centre[cat[Math.floor(k / P)] * P + (k % P)] + 0.05 * rng.normal());
  const { results } = await run(values, X, cat.map((c) => `k${c}`));
  const l = results[0];
  assert.equal(l.passes, false);
  assert.equal(l.explanation, 'category structure', l.summary);
  assert.ok(l.explainedBy.includes('category-shuffle'));
  // it does beat the frequency prior: categories are real information, just not concept-level
  assert.ok(l.tests.prior.beaten, l.summary);
});

test('the prior control is the training-fold mean, computed by hand', () => {
  // 4 concepts x 2 features, folds {0,1} and {2,3}
  const values = Float64Array.from([1, 0, 3, 2, 0, 4, 2, 6]);
  const pred = priorPredictions(values, 4, 2, [[0, 1], [2, 3]]);
  // rows 0,1 get the mean of rows 2,3: (0+2)/2, (4+6)/2; rows 2,3 the mean of rows 0,1: (1+3)/2, (0+2)/2
  assert.deepEqual(Array.from(pred), [1, 5, 1, 5, 2, 1, 2, 1]);
  // frequency form: share of training concepts with value > 0: rows 0,1 <- (0+1)/2, (1+1)/2; rows 2,3 <- (1+1)/2, (0+1)/2
  assert.deepEqual(Array.from(priorPredictions(presence(values), 4, 2, [[0, 1], [2, 3]])), [0.5, 1, 0.5, 1, 1, 0.5, 1, 0.5]);
  // with the rows' nonzero columns (how the probe calls it), the same numbers from the nonzeros only
  const nonzero = denseTargets(values, 4, 2).nonzero;
  assert.deepEqual(Array.from(priorPredictions(values, 4, 2, [[0, 1], [2, 3]], nonzero)), [1, 5, 1, 5, 2, 1, 2, 1]);
  assert.deepEqual(Array.from(priorPredictions(presence(values), 4, 2, [[0, 1], [2, 3]], nonzero)), [0.5, 1, 0.5, 1, 1, 0.5, 1, 0.5]);
});

test('shuffle-upper never reads the held-out gold vector; column-permuted rand keeps every feature marginal', () => {
  const rng = new SeededRandom(4);
  const n = 30, q = 6;
  const values = Float64Array.from({ length: n * q }, () => (rng.next() < 0.3 ? 1 : 0));
  const gold = denseTargets(values, n, q);
  const train = Array.from({ length: 25 }, (_, i) => i);
  const a = oraclePredict(gold, goldGram(gold), train, [27], 5, new SeededRandom(9));
  // change the held-out concept's own gold vector: the prediction must not move
  const v2 = Float64Array.from(values);
  for (let b = 0; b < q; b++) v2[27 * q + b] = 1 - v2[27 * q + b];
  const g2 = denseTargets(v2, n, q);
  assert.deepEqual(Array.from(oraclePredict(g2, goldGram(g2), train, [27], 5, new SeededRandom(9))), Array.from(a));
  const perm = columnPermutedTargets(values, n, q, 3);
  for (let b = 0; b < q; b++) {
    const col = (m: Float64Array): number[] => Array.from({ length: n }, (_, i) => m[i * q + b]).sort();
    assert.deepEqual(col(perm), col(values));
  }
});

test('categories and centroids come from the training fold only', () => {
  const rng = new SeededRandom(5);
  const n = 40, q = 5;
  const values = Float64Array.from({ length: n * q }, () => (rng.next() < 0.4 ? 1 : 0));
  const gold = denseTargets(values, n, q);
  const train = Array.from({ length: 30 }, (_, i) => i);
  const cats = foldCategories(gold, undefined, 3, 1, train);
  // changing a test concept's values must change neither the clustering of training concepts nor any centroid
  const v2 = Float64Array.from(values);
  v2.fill(1, 35 * q, 36 * q);
  const cats2 = foldCategories(denseTargets(v2, n, q), undefined, 3, 1, train);
  assert.deepEqual(Array.from(cats2.group.subarray(0, 30)), Array.from(cats.group.subarray(0, 30)));
  const X = Float64Array.from({ length: n * 2 }, () => rng.normal());
  const X2 = Float64Array.from(X);
  X2[35 * 2] += 100;
  const r1 = residualiseFold(X, 2, gold, cats, train);
  const r2 = residualiseFold(X2, 2, gold, cats, train);
  assert.deepEqual(Array.from(r1.X.subarray(0, 60)), Array.from(r2.X.subarray(0, 60)));
});

test('Holm adjustment matches the step-down by hand', () => {
  // sorted 0.01, 0.02, 0.03, 0.5 with m = 4: 0.04, 0.06, max(0.06, 0.06) = 0.06, max(0.06, 0.5) = 0.5
  const adj = holmAdjust([0.03, 0.5, 0.01, 0.02, NaN]);
  [0.06, 0.5, 0.04, 0.06].forEach((e, i) => assert.ok(Math.abs(adj[i] - e) < 1e-12, `${i}: ${adj[i]}`));
  assert.ok(Number.isNaN(adj[4]));
});

test('worker threads (one job per layer and control) give exactly the in-thread results', async () => {
  const rng = new SeededRandom(6);
  const values = Float64Array.from({ length: N * Q }, (_, k) => (rng.next() < baseRate(k % Q) ? 1 : 0));
  const X = Float64Array.from({ length: N * P }, () => rng.normal());
  const layers = [{ layer: 'L0', X }, { layer: 'L1', X: X.map((v) => v * 2 + 1) }];
  const cfg = smallConfig();
  const one = await evaluateLayers({ norms: normSet(values), layers, p: P, cfg, mapper: 'plsr', binarizeForPlsr: true });
  const two = await evaluateLayers({ norms: normSet(values), layers, p: P, cfg: { ...cfg, workers: 2 }, mapper: 'plsr', binarizeForPlsr: true });
  assert.equal(two.workers, 2);
  assert.deepEqual(two.results, one.results);
});
