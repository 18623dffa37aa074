import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveCount, entropy, jsDivergence } from '../core/numeric/distributions.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { bootstrapMeanCI, percentiles, spearman } from '../core/numeric/stats.ts';
import { cosine, meanRows, relativeL2, topK } from '../core/numeric/vectors.ts';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('cosine, relative L2 and row means on hand-computed vectors', () => {
  close(cosine([1, 0], [0, 1]), 0);
  close(cosine([1, 2, 2], [2, 4, 4]), 1);
  // [3,4] vs [4,3]: dot 24, norms 5*5 -> 0.96
  close(cosine([3, 4], [4, 3]), 0.96);
  assert.equal(cosine([0, 0], [1, 1]), 0);
  // reference [3,4] (norm 5), b = [3,5]: error norm 1 -> 0.2
  close(relativeL2([3, 4], [3, 5]), 0.2);
  assert.deepEqual(Array.from(meanRows([1, 2, 3, 4, 5, 6], 2, 0, 3)), [3, 4]);
  assert.deepEqual(topK([0.1, 0.5, 0.3, 0.5], 2), [1, 3]);
});

test('entropy and Jensen-Shannon divergence match closed forms', () => {
  close(entropy([0.25, 0.25, 0.25, 0.25]), Math.log(4));
  close(entropy([1, 0, 0]), 0);
  close(effectiveCount([0.5, 0.5]), 2);
  close(jsDivergence([0.2, 0.8], [0.2, 0.8]), 0);
  // disjoint supports reach the bound ln 2
  close(jsDivergence([1, 0], [0, 1]), Math.log(2));
  // p=[1,0], q=[.5,.5]: m=[.75,.25]; JS = .5*ln(1/.75) + .5*(.5 ln(.5/.75) + .5 ln(.5/.25))
  close(jsDivergence([1, 0], [0.5, 0.5]), 0.5 * Math.log(4 / 3) + 0.25 * Math.log(2 / 3) + 0.25 * Math.log(2));
});

test('spearman uses average ranks for ties; percentiles interpolate', () => {
  close(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  close(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ranks [1, 2.5, 2.5, 4] vs [1,2,3,4]: cov 4.5 / sqrt(4.5 * 5) = 0.94868...
  close(spearman([1, 2, 2, 3], [1, 2, 3, 4]), 4.5 / Math.sqrt(22.5));
  const [p50] = percentiles([5, 1, 4, 2, 3], [50]);
  close(p50, 3);
});

test('bootstrap CI covers the mean and narrows with more items', () => {
  const rng = new SeededRandom(3);
  const small = Array.from({ length: 20 }, () => rng.normal());
  const large = Array.from({ length: 2000 }, () => rng.normal());
  const a = bootstrapMeanCI(small, { seed: 1 });
  const b = bootstrapMeanCI(large, { seed: 1 });
  assert.ok(a.low <= a.estimate && a.estimate <= a.high);
  assert.ok(b.high - b.low < (a.high - a.low) / 5, 'width shrinks about as 1/sqrt(n)');
  // standard error of a mean of 2000 N(0,1) draws is 0.022; the 95% interval spans about 4 of them
  assert.ok(Math.abs(b.high - b.low - 4 * 0.0224) < 0.03);
});

test('seeded random is reproducible and shuffles are permutations', () => {
  const a = new SeededRandom(42).permutation(10);
  const b = new SeededRandom(42).permutation(10);
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 10 }, (_, i) => i));
  const xs = new SeededRandom(5).normalArray(20000, 2, 1);
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length;
  assert.ok(Math.abs(m - 1) < 0.05 && Math.abs(v - 4) < 0.15, `mean ${m} var ${v}`);
});
