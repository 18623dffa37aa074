import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { fitFfnn } from '../probes/properties/ffnn.ts';
import { ffnnSessions } from '../probes/properties/ffnn-graphs.ts';
import { denseTargets } from '../probes/properties/targets.ts';

/** R^2 over all outputs of the test rows. */
function r2(pred: Float64Array, Y: Float64Array, rows: number[], q: number): number {
  let ss = 0, st = 0;
  const mean = new Float64Array(q);
  rows.forEach((r) => { for (let b = 0; b < q; b++) mean[b] += Y[r * q + b] / rows.length; });
  rows.forEach((r, i) => { for (let b = 0; b < q; b++) { ss += (pred[i * q + b] - Y[r * q + b]) ** 2; st += (Y[r * q + b] - mean[b]) ** 2; } });
  return 1 - ss / st;
}

test('FFNN learns a planted linear-plus-noise mapping and fails on shuffled pairs', async () => {
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
  const net = await fitFfnn(X, p, denseTargets(Y, n, q), train, opts);
  const good = r2(await net.predict(X, test_), Y, test_, q);
  assert.ok(good > 0.9, `planted mapping R^2 ${good}`);
  // shuffled pairs: the targets of the training rows are permuted, so there is nothing to learn
  const perm = new SeededRandom(4).permutation(400);
  const Ysh = Float64Array.from(Y);
  perm.forEach((src, i) => Ysh.set(Y.subarray(src * q, (src + 1) * q), i * q));
  const bad = r2(await (await fitFfnn(X, p, denseTargets(Ysh, n, q), train, opts)).predict(X, test_), Y, test_, q);
  assert.ok(bad < 0.1, `shuffled R^2 ${bad}`);
  // seeded: the same seed gives the same network
  const again = await (await fitFfnn(X, p, denseTargets(Y, n, q), train, opts)).predict(X, test_);
  assert.deepEqual(Array.from(again), Array.from(await net.predict(X, test_)));
});

test('FFNN graphs: forward pass and batch-MSE gradients equal the per-row formulas (computed here in float64)', async () => {
  const rng = new SeededRandom(5);
  const B = 5, p = 3, h = 4, q = 2;
  const w = { W1: rng.normalArray(h * p, 1), b1: rng.normalArray(h, 0.5), W2: rng.normalArray(q * h, 1), b2: rng.normalArray(q, 0.5), p, h, q };
  const x = Float32Array.from({ length: B * p }, () => rng.normal());
  const y = Float32Array.from({ length: B * q }, () => rng.normal());
  const scale = 2 / (B * q);
  const want = [new Float64Array(h * p), new Float64Array(h), new Float64Array(q * h), new Float64Array(q)];
  const outs = new Float64Array(B * q);
  for (let i = 0; i < B; i++) {
    const z = Array.from({ length: h }, (_, j) => { let s = w.b1[j]; for (let a = 0; a < p; a++) s += w.W1[j * p + a] * x[i * p + a]; return s; });
    const act = z.map((v) => Math.max(0, v));
    for (let b = 0; b < q; b++) {
      let o = w.b2[b];
      for (let j = 0; j < h; j++) o += w.W2[b * h + j] * act[j];
      outs[i * q + b] = o;
      const d = (o - y[i * q + b]) * scale;
      want[3][b] += d;
      for (let j = 0; j < h; j++) {
        want[2][b * h + j] += d * act[j];
        if (z[j] > 0) { want[1][j] += d * w.W2[b * h + j]; for (let a = 0; a < p; a++) want[0][j * p + a] += d * w.W2[b * h + j] * x[i * p + a]; }
      }
    }
  }
  const s = await ffnnSessions();
  const near = (got: ArrayLike<number>, exp: ArrayLike<number>, what: string): void => {
    assert.equal(got.length, exp.length, what);
    for (let i = 0; i < exp.length; i++) assert.ok(Math.abs(got[i] - exp[i]) <= 1e-5 * (1 + Math.abs(exp[i])), `${what}[${i}] ${got[i]} vs ${exp[i]}`);
  };
  near(await s.forward(w, x, B), outs, 'out');
  const g = await s.gradients(w, x, y, B, scale);
  ['gW1', 'gb1', 'gW2', 'gb2'].forEach((name, k) => near(g[k], want[k], name));
  // a smaller last batch reads only its rows
  near(await s.forward(w, x, 2), outs.subarray(0, 2 * q), 'out (2 rows)');
});
