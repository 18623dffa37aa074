import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { fitFfnn } from '../probes/properties/ffnn.ts';
import { denseTargets } from '../probes/properties/targets.ts';

/** R^2 over all outputs of the test rows. */
function r2(pred: Float64Array, Y: Float64Array, rows: number[], q: number): number {
  let ss = 0, st = 0;
  const mean = new Float64Array(q);
  rows.forEach((r) => { for (let b = 0; b < q; b++) mean[b] += Y[r * q + b] / rows.length; });
  rows.forEach((r, i) => { for (let b = 0; b < q; b++) { ss += (pred[i * q + b] - Y[r * q + b]) ** 2; st += (Y[r * q + b] - mean[b]) ** 2; } });
  return 1 - ss / st;
}

test('FFNN learns a planted linear-plus-noise mapping and fails on shuffled pairs', () => {
  const rng = new SeededRandom(11);
  const n = 500, p = 8, q = 4;
  const X = Float64Array.from({ length: n * p }, () => rng.normal());
  const B = Float64Array.from({ length: p * q }, () => rng.normal());
  const Y = new Float64Array(n * q);
  // y = x B + noise with noise std 0.3: the best achievable R^2 is about 1 - 0.09 / 8.09 ~ 0.99
  for (let i = 0; i < n; i++) for (let b = 0; b < q; b++) {
    let s = 0;
    for (let a = 0; a < p; a++) s += X[i * p + a] * B[a * q + b];
    Y[i * q + b] = s + 0.3 * rng.normal();
  }
  const train = Array.from({ length: 400 }, (_, i) => i);
  const test_ = Array.from({ length: 100 }, (_, i) => 400 + i);
  const opts = { hidden: 32, maxEpochs: 200, batchSize: 16, learningRate: 0.01, patience: 10, validationFraction: 0.1, seed: 3 };
  const net = fitFfnn(X, p, denseTargets(Y, n, q), train, opts);
  const good = r2(net.predict(X, test_), Y, test_, q);
  assert.ok(good > 0.9, `planted mapping R^2 ${good}`);
  // shuffled pairs: the targets of the training rows are permuted, so there is nothing to learn
  const perm = new SeededRandom(4).permutation(400);
  const Ysh = Float64Array.from(Y);
  perm.forEach((src, i) => Ysh.set(Y.subarray(src * q, (src + 1) * q), i * q));
  const bad = r2(fitFfnn(X, p, denseTargets(Ysh, n, q), train, opts).predict(X, test_), Y, test_, q);
  assert.ok(bad < 0.1, `shuffled R^2 ${bad}`);
  // seeded: the same seed gives the same network
  const again = fitFfnn(X, p, denseTargets(Y, n, q), train, opts).predict(X, test_);
  assert.deepEqual(Array.from(again), Array.from(net.predict(X, test_)));
});
