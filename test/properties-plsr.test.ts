import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Matrix, solve } from 'ml-matrix';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { fitPls, plsErrorsByComponents, plsPredict, plsPredictByComponents } from '../probes/properties/plsr.ts';
import { denseTargets } from '../probes/properties/targets.ts';

const rows = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('PLS1 with one component: weights = Xs^T ys normalised, prediction = projection on t (closed form)', () => {
  // 5 samples, 2 features, 1 target. With scale=True, Xs and ys are centred and divided by their
  // sample std (ddof 1). One NIPALS component: w = Xs^T ys / |Xs^T ys|, t = Xs w,
  // y_loading c = ys^T t / t^T t, prediction = ymean + ystd * t c.
  const X = [1, 2, 2, 1, 3, 5, 4, 3, 5, 4];
  const y = [1, 2, 4, 3, 6];
  const m = fitPls(Float64Array.from(X), 2, denseTargets(Float64Array.from(y), 5, 1), rows(5), { maxComponents: 1, tol: 1e-14 });
  // by hand: column means 3, 3; stds sqrt(2.5), sqrt(2.5); y mean 3.2, y std sqrt(14.8/4) = sqrt(3.7)
  const sx = Math.sqrt(2.5);
  const Xs = [[-2, -1], [-1, -2], [0, 2], [1, 0], [2, 1]].map(([a, b]) => [a / sx, b / sx]);
  const ys = [-2.2, -1.2, 0.8, -0.2, 2.8].map((v) => v / Math.sqrt(3.7));
  const xy = [0, 1].map((j) => Xs.reduce((s, r, i) => s + r[j] * ys[i], 0));
  const nrm = Math.hypot(...xy);
  const w = xy.map((v) => v / nrm);
  const t = Xs.map((r) => r[0] * w[0] + r[1] * w[1]);
  const c = t.reduce((s, ti, i) => s + ti * ys[i], 0) / t.reduce((s, ti) => s + ti * ti, 0);
  const expected = t.map((ti) => 3.2 + Math.sqrt(3.7) * ti * c);
  const got = plsPredict(m, Float64Array.from(X), rows(5));
  expected.forEach((e, i) => assert.ok(Math.abs(got[i] - e) < 1e-9, `row ${i}: ${got[i]} vs ${e}`));
  // and the rotation (= weight for one component, in standardised units) matches w up to sign
  const sign = Math.sign(m.rotations[0] * w[0]);
  assert.ok(Math.abs(m.rotations[0] - sign * w[0]) < 1e-9 && Math.abs(m.rotations[1] - sign * w[1]) < 1e-9);
});

test('PLS2 with as many components as X has rank equals ordinary least squares (independent solve)', () => {
  const rng = new SeededRandom(5);
  const n = 40, p = 4, q = 3;
  const X = Float64Array.from({ length: n * p }, () => rng.normal());
  const Y = new Float64Array(n * q);
  for (let i = 0; i < n; i++) for (let b = 0; b < q; b++) Y[i * q + b] = (b + 1) * X[i * p] - X[i * p + 2] * b + 0.5 * rng.normal();
  const m = fitPls(X, p, denseTargets(Y, n, q), rows(n), { maxComponents: p, tol: 1e-15, maxIter: 5000 });
  assert.equal(m.components, p);
  const pls = plsPredict(m, X, rows(n));
  // OLS with intercept through ml-matrix's solver: [1 X] beta = Y
  const A = new Matrix(n, p + 1);
  for (let i = 0; i < n; i++) { A.set(i, 0, 1); for (let a = 0; a < p; a++) A.set(i, a + 1, X[i * p + a]); }
  const beta = solve(A, new Matrix(Array.from({ length: n }, (_, i) => Array.from(Y.subarray(i * q, (i + 1) * q)))));
  const ols = A.mmul(beta);
  for (let i = 0; i < n; i++) for (let b = 0; b < q; b++) assert.ok(Math.abs(pls[i * q + b] - ols.get(i, b)) < 1e-6, `(${i},${b}) ${pls[i * q + b]} vs ${ols.get(i, b)}`);
});

test('per-component predictions and held-out errors agree with direct prediction', () => {
  const rng = new SeededRandom(9);
  const n = 60, p = 6, q = 5;
  const X = Float64Array.from({ length: n * p }, () => rng.normal());
  const Y = Float64Array.from({ length: n * q }, (_, k) => (rng.next() < 0.3 ? 1 : 0) + 0.2 * X[Math.floor(k / q) * p]);
  const T = denseTargets(Y, n, q);
  const train = rows(45), held = rows(n).slice(45);
  const m = fitPls(X, p, T, train, { maxComponents: 4 });
  const by = plsPredictByComponents(m, X, held, [1, 2, 4]);
  const errs = plsErrorsByComponents(m, X, T, held);
  for (const k of [1, 2, 4]) {
    const direct = plsPredict(m, X, held, k);
    by.get(k)!.forEach((v, i) => assert.ok(Math.abs(v - direct[i]) < 1e-9));
    let sse = 0;
    held.forEach((r, i) => { for (let b = 0; b < q; b++) sse += ((direct[i * q + b] - Y[r * q + b]) / m.yStd[b]) ** 2; });
    assert.ok(Math.abs(errs[k - 1] - sse) < 1e-6 * sse, `k=${k}: ${errs[k - 1]} vs ${sse}`);
  }
});

test('sparse-plus-centroid targets give the same fit as their dense residuals', () => {
  const rng = new SeededRandom(2);
  const n = 30, p = 5, q = 4;
  const X = Float64Array.from({ length: n * p }, () => rng.normal());
  const sparse = Float64Array.from({ length: n * q }, () => (rng.next() < 0.3 ? 1 : 0));
  const group = Int32Array.from({ length: n }, (_, i) => i % 3);
  const centroids = Float64Array.from({ length: 3 * q }, () => rng.next());
  const dense = Float64Array.from(sparse, (v, k) => v - centroids[group[Math.floor(k / q)] * q + (k % q)]);
  const shifted = { ...denseTargets(sparse, n, q), values: dense, shift: { group, groups: 3, centroids } };
  const a = plsPredict(fitPls(X, p, shifted, rows(n), { maxComponents: 3 }), X, rows(n));
  const b = plsPredict(fitPls(X, p, denseTargets(dense, n, q), rows(n), { maxComponents: 3 }), X, rows(n));
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-8));
});
