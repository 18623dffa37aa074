import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapMeanCI, pairedPermutationPValue } from '../core/numeric/stats.ts';
import { kMeans } from '../core/numeric/kmeans.ts';
import { topK } from '../core/numeric/vectors.ts';
import { sampleRankCorrelation } from 'simple-statistics';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { attributeSpearman, conceptSpearman, f1AtK, neighbourhoodHits } from '../probes/properties/metrics.ts';
import { denseTargets } from '../probes/properties/targets.ts';
import { goldGram, oraclePredict, randomTargets } from '../probes/properties/controls.ts';
import { kFolds } from '../probes/properties/folds.ts';

test('F1@10 on a hand-made case', () => {
  // 20 features; gold has 5 (0..4); the top 10 predictions are features 0..2 and 10..16 -> 3 hits
  // precision 3/10, recall 3/5, F1 = 2 * 0.3 * 0.6 / 0.9 = 0.4
  const pred = Array.from({ length: 20 }, (_, j) => (j <= 2 ? 10 - j : j >= 10 && j <= 16 ? 5 - (j - 10) * 0.1 : 0));
  const gold = Array.from({ length: 20 }, (_, j) => (j < 5 ? 1 : 0));
  assert.ok(Math.abs(f1AtK(pred, gold, 10) - 0.4) < 1e-12);
  // no overlap -> 0; empty gold -> NaN (cannot be scored)
  assert.equal(f1AtK(pred, Array.from({ length: 20 }, (_, j) => (j === 19 ? 1 : 0)), 10), 0);
  assert.ok(Number.isNaN(f1AtK(pred, new Array(20).fill(0), 10)));
  // all 10 gold features ranked first -> 1
  assert.equal(f1AtK(Array.from({ length: 20 }, (_, j) => 20 - j), Array.from({ length: 20 }, (_, j) => (j < 10 ? 1 : 0)), 10), 1);
});

test('Spearman per concept and per attribute on hand-made cases', () => {
  assert.ok(Math.abs(conceptSpearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-12);
  assert.ok(Math.abs(conceptSpearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  // ranks [1,2,3,4] vs [2,1,4,3]: d^2 = 4, rho = 1 - 6*4/(4*15) = 0.6
  assert.ok(Math.abs(conceptSpearman([1, 2, 3, 4], [2, 1, 4, 3]) - 0.6) < 1e-12);
  // the hand-written midrank Pearson agrees with simple-statistics on tied, random data
  const rng = new SeededRandom(8);
  for (let t = 0; t < 20; t++) {
    const x = Array.from({ length: 30 }, () => Math.round(rng.next() * 5));
    const y = Array.from({ length: 30 }, () => Math.round(rng.next() * 5));
    assert.ok(Math.abs(conceptSpearman(x, y) - sampleRankCorrelation(x, y)) < 1e-12);
  }
  // 3 concepts x 2 attributes: attribute 0 predicted in order (rho 1), attribute 1 reversed (rho -1)
  const pred = Float64Array.from([1, 3, 2, 2, 3, 1]);
  const gold = Float64Array.from([10, 1, 20, 2, 30, 3]);
  assert.deepEqual(attributeSpearman(pred, gold, 3, 2).map((x) => Math.round(x * 1e9) / 1e9), [1, -1]);
});

test('neighbourhood accuracy@k: the true concept among the k nearest gold vectors, ties count against', () => {
  // 4 concepts in 3-d; k = 1
  const gold = denseTargets(Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0]), 4, 3);
  // predictions: concept 0 predicted at [1,0.1,0] (nearest gold: concept 0) -> hit;
  // concept 1 predicted at [1,0,0] (nearest: concept 0) -> miss; concept 3 predicted at [0,0,1] -> miss
  const pred = Float64Array.from([1, 0.1, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual(neighbourhoodHits(pred, [0, 1, 3], gold, 1).all, [1, 0, 0]);
  // with k = 2, concept 1's prediction [1,0,0]: cos to 0 = 1, to 3 = 0.707, to 1 = 0 -> still a miss
  assert.deepEqual(neighbourhoodHits(pred, [0, 1, 3], gold, 2).all, [1, 0, 0]);
  // restricting candidates (other-category only) to {1, 2}: a prediction [1,0.1,0] of concept 1 has
  // cos 0.0995 to it and 0 to concept 2 -> hit at k=1, though concepts 0 and 3 (excluded) are nearer
  assert.deepEqual(neighbourhoodHits(pred.subarray(0, 3), [1], gold, 1, () => [1, 2]), { all: [0], restricted: [1] });
  // a constant prediction scores nothing, whatever the order
  assert.deepEqual(neighbourhoodHits(new Float64Array(6), [0, 1], gold, 1).all, [0, 0]);
});

test('bootstrap CI over concepts brackets the mean and narrows with more concepts', () => {
  const small = [0, 1, 0, 1, 0, 1, 0, 1];
  const big = Array.from({ length: 800 }, (_, i) => i % 2);
  const a = bootstrapMeanCI(small, { resamples: 2000, seed: 1 });
  const b = bootstrapMeanCI(big, { resamples: 2000, seed: 1 });
  assert.equal(a.estimate, 0.5);
  assert.ok(a.low < 0.5 && a.high > 0.5);
  // the binomial standard error sqrt(0.25/n): 0.177 for 8, 0.0177 for 800 -> 95% half-widths ~0.35 and ~0.035
  assert.ok(b.high - b.low < 0.1 && b.high - b.low > 0.04, `${b.low}..${b.high}`);
  assert.ok(a.high - a.low > 0.4);
  const constant = bootstrapMeanCI([0.3, 0.3, 0.3]);
  assert.ok(Math.abs(constant.low - 0.3) < 1e-12 && Math.abs(constant.high - 0.3) < 1e-12);
});

test('paired permutation p-value: tiny for a consistent gain, large for none', () => {
  const a = Array.from({ length: 50 }, (_, i) => 0.5 + (i % 5) * 0.01);
  const b = a.map((x) => x - 0.1);
  assert.ok(pairedPermutationPValue(a, b, { permutations: 2000 }) < 0.001);
  // all differences zero: every sign flip ties the observed sum -> p = 1
  assert.equal(pairedPermutationPValue(a, a, { permutations: 100 }), 1);
  // one-sided: b better than a is not significant
  assert.ok(pairedPermutationPValue(b, a, { permutations: 2000 }) > 0.9);
});

test('topK keeps ties in index order and k-means separates planted clusters', () => {
  assert.deepEqual(topK([3, 5, 5, 1, 5], 3), [1, 2, 4]);
  assert.deepEqual(topK([1, 2], 5), [1, 0]);
  const rows = [[0, 0], [0.1, 0], [0, 0.1], [5, 5], [5.1, 5], [5, 5.2]].map((v) => ({ index: [0, 1], value: v }));
  const km = kMeans(rows, 2, 2, { seed: 3 });
  const a = km.assignment;
  assert.ok(a[0] === a[1] && a[1] === a[2] && a[3] === a[4] && a[4] === a[5] && a[0] !== a[3]);
});

test('controls: oracle uses only neighbours, rand keeps row sparsity, folds partition the concepts', () => {
  // concepts 0 and 1 identical in gold space, 2 orthogonal: the oracle predicts 0 from 1's vector
  const gold = denseTargets(Float64Array.from([1, 1, 0, 1, 1, 0, 0, 0, 1]), 3, 3);
  const pred = oraclePredict(gold, goldGram(gold), [1, 2], [0], 1);
  assert.deepEqual(Array.from(pred), [1, 1, 0]);
  const vals = Float64Array.from([0, 2, 0, 3, 0, 0, 1, 1, 1]);
  const r = randomTargets(vals, 3, 3, 7);
  for (let i = 0; i < 3; i++) assert.deepEqual([...r.subarray(i * 3, i * 3 + 3)].sort(), [...vals.subarray(i * 3, i * 3 + 3)].sort());
  const folds = kFolds(23, 10, 1);
  assert.deepEqual(folds.flat().sort((x, y) => x - y), Array.from({ length: 23 }, (_, i) => i));
  assert.ok(folds.every((f) => f.length === 2 || f.length === 3));
});
