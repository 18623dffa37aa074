import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EigenvalueDecomposition, Matrix, solve } from 'ml-matrix';
import { tridiagonalEigen } from '../core/numeric/tridiagonal-eigen.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { fitPls, fitPlsOrt, KernelPls } from '../probes/properties/plsr.ts';
import { plsErrorsByComponents, plsPredict, plsPredictByComponents } from '../probes/properties/plsr-predict.ts';
import { denseTargets, type Targets } from '../probes/properties/targets.ts';
import { residualiseTargets, trainCentroids } from '../probes/properties/fold-categories.ts';
import { f1OfTop, RowSpearman, searchComponents } from '../probes/properties/component-search.ts';
import { topKPredictionsOnOrt } from '../probes/properties/ort-topk.ts';
import { kFolds } from '../probes/properties/folds.ts';
import type { PlsrSettings } from '../probes/properties/mappers.ts';
import { conceptSpearman, f1AtK } from '../probes/properties/metrics.ts';

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

/**
 * Textbook NIPALS PLS2 (Wold; sklearn's PLSRegression(scale=True) algorithm): power iteration on u and w
 * with X and Y deflated explicitly, nothing shared with the kernel implementation. Predictions [rows, q].
 */
function referenceNipals(X: Float64Array, p: number, Y: Float64Array, q: number, train: number[], test: number[], K: number): Float64Array[] {
  const n = train.length;
  const stats = (data: Float64Array, w: number): { m: number[]; s: number[] } => {
    const m = Array.from({ length: w }, (_, j) => train.reduce((a, r) => a + data[r * w + j], 0) / n);
    const s = m.map((mj, j) => { const v = Math.sqrt(train.reduce((a, r) => a + (data[r * w + j] - mj) ** 2, 0) / (n - 1)); return v > 1e-12 ? v : 1; });
    return { m, s };
  };
  const xs = stats(X, p), ys = stats(Y, q);
  let Xk = train.map((r) => Array.from({ length: p }, (_, a) => (X[r * p + a] - xs.m[a]) / xs.s[a]));
  let Yk = train.map((r) => Array.from({ length: q }, (_, b) => (Y[r * q + b] - ys.m[b]) / ys.s[b]));
  const W: number[][] = [], P: number[][] = [], C: number[][] = [];
  for (let k = 0; k < K; k++) {
    let bestCol = 0;
    for (let b = 1; b < q; b++) if (Yk.reduce((a, r) => a + r[b] ** 2, 0) > Yk.reduce((a, r) => a + r[bestCol] ** 2, 0)) bestCol = b;
    let u = Yk.map((r) => r[bestCol]);
    let w = new Array<number>(p).fill(0);
    for (let it = 0; it < 20000; it++) {
      const wNew = Array.from({ length: p }, (_, a) => Xk.reduce((s, r, i) => s + r[a] * u[i], 0));
      const nw = Math.hypot(...wNew);
      const wn = wNew.map((v) => v / nw);
      const t = Xk.map((r) => r.reduce((s, v, a) => s + v * wn[a], 0));
      const tt = t.reduce((s, v) => s + v * v, 0);
      const c = Array.from({ length: q }, (_, b) => Yk.reduce((s, r, i) => s + r[b] * t[i], 0) / tt);
      const cc = c.reduce((s, v) => s + v * v, 0);
      u = Yk.map((r) => r.reduce((s, v, b) => s + v * c[b], 0) / cc);
      const diff = wn.reduce((s, v, a) => s + (v - w[a]) ** 2, 0);
      w = wn;
      if (diff < 1e-26) break;
    }
    const t = Xk.map((r) => r.reduce((s, v, a) => s + v * w[a], 0));
    const tt = t.reduce((s, v) => s + v * v, 0);
    const pk = Array.from({ length: p }, (_, a) => Xk.reduce((s, r, i) => s + r[a] * t[i], 0) / tt);
    const ck = Array.from({ length: q }, (_, b) => Yk.reduce((s, r, i) => s + r[b] * t[i], 0) / tt);
    Xk = Xk.map((r, i) => r.map((v, a) => v - t[i] * pk[a]));
    Yk = Yk.map((r, i) => r.map((v, b) => v - t[i] * ck[b]));
    W.push(w); P.push(pk); C.push(ck);
  }
  // R = W (P^T W)^{-1} through ml-matrix, then predictions per k
  const out: Float64Array[] = [];
  for (let k = 1; k <= K; k++) {
    const Wm = new Matrix(W.slice(0, k)).transpose();
    const PtW = new Matrix(P.slice(0, k)).mmul(Wm);
    const R = Wm.mmul(solve(PtW, Matrix.eye(k)));
    const pred = new Float64Array(test.length * q);
    test.forEach((r, i) => {
      const x = Array.from({ length: p }, (_, a) => (X[r * p + a] - xs.m[a]) / xs.s[a]);
      const t = Array.from({ length: k }, (_, j) => x.reduce((s, v, a) => s + v * R.get(a, j), 0));
      for (let b = 0; b < q; b++) pred[i * q + b] = ys.m[b] + ys.s[b] * t.reduce((s, tj, j) => s + tj * C[j][b], 0);
    });
    out.push(pred);
  }
  return out;
}

/** Planted data: X with a low-rank signal that sparse binary targets follow, plus noise. */
function planted(seed: number, n: number, p: number, q: number, dims = 3): { X: Float64Array; Y: Float64Array } {
  const rng = new SeededRandom(seed);
  const Z = Float64Array.from({ length: n * dims }, () => rng.normal());
  const X = Float64Array.from({ length: n * p }, (_, k) => Z[Math.floor(k / p) * dims + (k % dims)] * (1 + (k % p) / p) + 0.7 * rng.normal());
  const Y = Float64Array.from({ length: n * q }, (_, k) => (Z[Math.floor(k / q) * dims + (k % q) % dims] + 0.5 * rng.normal() > 0.9 ? 1 : 0));
  return { X, Y };
}

test('kernel PLS matches textbook NIPALS on both kernel sides (q >= p: p x p kernel; q < p: q x q kernel), with the kernel from JS and from onnxruntime', async () => {
  for (const [p, q] of [[6, 9], [9, 4]]) {
    const n = 50;
    const { X, Y } = planted(p * 31 + q, n, p, q);
    const train = rows(40), held = rows(n).slice(40);
    const ref = referenceNipals(X, p, Y, q, train, held, 4);
    const opts = { maxComponents: 4, tol: 1e-14, maxIter: 5000 };
    const m = fitPls(X, p, denseTargets(Y, n, q), train, opts);
    const mo = await fitPlsOrt(X, p, denseTargets(Y, n, q), train, opts);
    for (let k = 1; k <= 4; k++) {
      const got = plsPredict(m, X, held, k);
      const gotOrt = plsPredict(mo, X, held, k);
      ref[k - 1].forEach((v, i) => {
        assert.ok(Math.abs(got[i] - v) < 1e-7, `p ${p} q ${q} k ${k} [${i}]: ${got[i]} vs ${v}`);
        assert.ok(Math.abs(gotOrt[i] - v) < 1e-7, `onnxruntime kernel: p ${p} q ${q} k ${k} [${i}]: ${gotOrt[i]} vs ${v}`);
      });
    }
  }
});

test('an extended fit equals a fresh fit with as many components (the staged search grows one fit)', () => {
  const n = 70, p = 8, q = 12;
  const { X, Y } = planted(4, n, p, q);
  const T = denseTargets(Y, n, q);
  const fit = new KernelPls(X, p, T, rows(60));
  fit.extendTo(2);
  fit.extendTo(5);
  const fresh = fitPls(X, p, T, rows(60), { maxComponents: 5 });
  assert.deepEqual(Array.from(plsPredict(fit.model(), X, rows(n).slice(60))), Array.from(plsPredict(fresh, X, rows(n).slice(60))));
});

/** The staged search as first written: a fresh fit per inner fold and stage, predictions materialised per count, metrics.ts scores. */
function referenceSearch(s: PlsrSettings, headline: { metric: 'f1' | 'spearman'; k: number }, X: Float64Array, p: number, Y: Targets, train: number[], seed: number): number {
  const grid = [...new Set(s.componentGrid)].sort((a, b) => a - b);
  const top = grid[grid.length - 1];
  const caps = [...(s.stageCaps ?? []).filter((c) => c < top), top];
  let best = grid[0];
  for (const cap of caps) {
    const stage = grid.filter((c) => c <= cap);
    const errors = new Map(stage.map((c) => [c, 0]));
    const inner = kFolds(train.length, s.innerFolds, seed + 7919);
    for (const f of inner) {
      const held = f.map((i) => train[i]);
      const fitRows = train.filter((r) => !held.includes(r));
      const m = fitPls(X, p, Y, fitRows, { maxComponents: stage[stage.length - 1], maxIter: s.maxIter, tol: s.tol });
      const preds = plsPredictByComponents(m, X, held, stage);
      for (const c of stage) {
        const scores = held.map((r, i) => {
          const pr = preds.get(c)!.subarray(i * Y.q, (i + 1) * Y.q), g = Y.values.subarray(r * Y.q, (r + 1) * Y.q);
          return headline.metric === 'f1' ? f1AtK(pr, g, headline.k) : conceptSpearman(pr, g);
        }).filter(Number.isFinite);
        errors.set(c, errors.get(c)! - (scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : 0));
      }
    }
    const loss = (c: number): number => errors.get(c)! / inner.length;
    const min = Math.min(...stage.map(loss));
    best = stage.find((c) => loss(c) <= min + (s.tieTolerance ?? 0.001))!;
    if (best < stage[stage.length - 1]) break;
  }
  return best;
}

test('the component search (one growing fit per inner fold, fused scoring) chooses what the refit-per-stage search chooses', async () => {
  const settings: PlsrSettings = { components: 'auto', componentGrid: [1, 2, 3, 4, 6, 8, 12, 16], stageCaps: [2, 4, 8], tieTolerance: 0.001, innerFolds: 2, criterion: 'headline', maxIter: 500, tol: 1e-6 };
  const picks: number[] = [];
  for (const [metric, seed] of [['f1', 1], ['f1', 2], ['f1', 3], ['spearman', 4], ['spearman', 5]] as const) {
    const n = 90, p = 12, q = metric === 'f1' ? 30 : 8;
    const { X, Y } = planted(seed, n, p, q, [1, 6, 2, 8, 1][seed - 1]);
    // ratings for Spearman: the binary targets plus graded noise (ties left in on purpose: half the values are 0)
    const rng = new SeededRandom(seed);
    const values = metric === 'f1' ? Y : Float64Array.from(Y, (v) => (v > 0 ? v + Math.round(rng.next() * 3) : 0));
    const T = denseTargets(values, n, q);
    const train = rows(n).filter((i) => i % 10 !== 0);
    for (const tie of [0.001, 0]) {
      const s = { ...settings, tieTolerance: tie };
      const want = referenceSearch(s, { metric, k: 5 }, X, p, T, train, seed);
      picks.push(want);
      assert.equal(await searchComponents(s, { metric, k: 5 }, X, p, T, train, seed), want, `${metric} seed ${seed} tie ${tie}`);
    }
  }
  // the planted signals have 1 to 8 directions: the cases must not all pick one count
  assert.ok(new Set(picks).size > 1, `picks ${picks.join(',')}`);
});

test('held-out scorers equal metrics.ts f1AtK and conceptSpearman, ties included', async () => {
  const rng = new SeededRandom(11);
  for (let trial = 0; trial < 200; trial++) {
    const q = 3 + (trial % 25);
    // coarse values make ties common (the top-k boundary and midranks)
    const pred = Float64Array.from({ length: q }, () => Math.round(rng.next() * 4) / 4);
    const gold = Float64Array.from({ length: q }, () => (rng.next() < 0.3 ? Math.round(rng.next() * 3) : 0));
    const rho = new RowSpearman(gold, 1, q).score(pred, 0, 0);
    const wantRho = conceptSpearman(pred, gold);
    assert.ok((Number.isNaN(rho) && Number.isNaN(wantRho)) || Math.abs(rho - wantRho) < 1e-12, `rho trial ${trial}: ${rho} vs ${wantRho}`);
  }
  // the onnxruntime top-k and f1OfTop give f1AtK's score: a prediction row yMean + Xh R C with one
  // component, Xh = [[1]], R = [[1]] and C = row - yMean is the row itself, exactly (quarters and eighths are
  // exact in binary), so ties at the top-k boundary are common and exact
  for (let trial = 0; trial < 240; trial++) {
    const q = 3 + (trial % 25);
    const row = Float64Array.from({ length: q }, () => Math.round(rng.next() * 4) / 4);
    const yMean = Float64Array.from({ length: q }, () => Math.round(rng.next() * 4) / 8);
    const C = Float64Array.from(row, (v, b) => v - yMean[b]);
    const top = await topKPredictionsOnOrt(Float64Array.of(1), Float64Array.of(1), C, yMean, 1, 1, 5);
    const gold = Float64Array.from({ length: q }, () => (rng.next() < 0.3 ? 1 : 0));
    const want = f1AtK(row, gold, 5);
    const got = f1OfTop(top, 0, Math.min(5, q), gold, 0, gold.filter((v) => v > 0).length);
    assert.ok(Object.is(want, got) || Math.abs(want - got) < 1e-15, `trial ${trial}: ${got} vs ${want} (top ${Array.from(top)})`);
  }
});

test('residualised targets: centroids from the nonzeros equal the dense ones; the lazy dense residual and the shift-aware F1 match the dense form', () => {
  // 7 concepts x 5 features, 2 categories, training rows 0-4: category 0 = rows 0, 2, 4; category 1 = rows 1, 3
  // feature 2 of category 0: (1 + 0 + 1) / 3 = 2/3; feature 0 of category 1: (0 + 1) / 2 = 1/2
  const values = Float64Array.from([
    1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 0, 1,
  ]);
  const Y = denseTargets(values, 7, 5);
  const cats = { group: Int32Array.from([0, 1, 0, 1, 0, 1, 0]), groups: 2 };
  const train = [0, 1, 2, 3, 4];
  const cy = trainCentroids(values, 5, cats, train, Y.nonzero);
  assert.deepEqual(cy, trainCentroids(values, 5, cats, train));
  assert.ok(Math.abs(cy[2] - 2 / 3) < 1e-15 && cy[5] === 0.5);
  const R = residualiseTargets(Y, cats, train);
  // read lazily, the same as subtracting by hand: row 5 (category 1) feature 0 = 0 - 1/2
  assert.equal(R.values[5 * 5], -0.5);
  for (let i = 0; i < 7; i++) for (let b = 0; b < 5; b++) assert.equal(R.values[i * 5 + b], values[i * 5 + b] - cy[cats.group[i] * 5 + b]);
  // f1OfTop with the shift = f1OfTop on the dense residual row (top-2 = features 0 and 2 of row 0)
  const top = Int32Array.of(0, 2);
  const size = [0, 1, 2, 3, 4].filter((b) => R.values[b] > 0).length;
  assert.equal(f1OfTop(top, 0, 2, Y.sparse, 0, size, R.shift!.centroids, 0), f1OfTop(top, 0, 2, R.values, 0, size));
});

test('onnxruntime top-k over row blocks: every row of yMean + Xh R C has the top-k a plain sort gives', async () => {
  // 600 rows: three blocks of the scorer, the last one partial; continuous values (no ties), so the
  // expected set is the first k of a sort by value
  const rng = new SeededRandom(5);
  const h = 600, p = 7, q = 30, c = 3, k = 4;
  const Xh = Float64Array.from({ length: h * p }, () => rng.normal());
  const Rt = Float64Array.from({ length: c * p }, () => rng.normal());
  const C = Float64Array.from({ length: c * q }, () => rng.normal());
  const yMean = Float64Array.from({ length: q }, () => rng.next());
  const top = await topKPredictionsOnOrt(Xh, Rt, C, yMean, c, h, k);
  for (let i = 0; i < h; i++) {
    const pred = Array.from(yMean, (m, b) => {
      let v = m;
      for (let j = 0; j < c; j++) { let t = 0; for (let a = 0; a < p; a++) t += Xh[i * p + a] * Rt[j * p + a]; v += t * C[j * q + b]; }
      return v;
    });
    const want = pred.map((v, b) => [v, b]).sort((x, y) => y[0] - x[0]).slice(0, k).map(([, b]) => b);
    assert.deepEqual(Array.from(top.subarray(i * k, (i + 1) * k)), want, `row ${i}`);
  }
});

test('a fit joined from two fits on disjoint halves equals the fit on their union (KernelPls.join)', async () => {
  const rng = new SeededRandom(17);
  const n = 80, p = 6, q = 11;
  // columns with large means (the pairwise update must not cancel) and binary targets, target 0 present only
  // in the second half (its std is clamped to 1 in the first) and an X column constant in the first half
  const X = Float64Array.from({ length: n * p }, (_, i) => 5 * ((i % p) - 2) + rng.normal());
  for (let i = 0; i < n / 2; i++) X[i * p + 3] = 2.5;
  const Y = Float64Array.from({ length: n * q }, () => (rng.next() < 0.3 ? 1 : 0));
  for (let i = 0; i < n / 2; i++) Y[i * q] = 0;
  const A = rows(n / 2), B = rows(n / 2).map((i) => i + n / 2);
  const group = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (const shifted of [false, true]) {
    const T = shifted ? residualiseTargets(denseTargets(Y, n, q), { group, groups: 3 }, rows(n)) : denseTargets(Y, n, q);
    const a = await KernelPls.create(X, p, T, A), b = await KernelPls.create(X, p, T, B);
    const joined = await KernelPls.join(a, b, T, [...B, ...A]);
    const direct = await KernelPls.create(X, p, T, rows(n));
    joined.extendTo(5); direct.extendTo(5);
    const [mj, md] = [joined.model(), direct.model()];
    assert.equal(mj.components, md.components);
    const close = (x: ArrayLike<number>, y: ArrayLike<number>, what: string): void => {
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-9 * Math.max(1, Math.abs(y[i])), `${what} ${i} (shifted ${shifted}): ${x[i]} vs ${y[i]}`);
    };
    close(mj.xMean, md.xMean, 'x mean'); close(mj.xStd, md.xStd, 'x std'); close(mj.yStd, md.yStd, 'y std');
    close(mj.rotations, md.rotations, 'rotation'); close(mj.yLoadings, md.yLoadings, 'y loading');
    close(plsPredict(mj, X, rows(n)), plsPredict(md, X, rows(n)), 'prediction');
    for (const f of [a, b, joined, direct]) f.dispose();
    await assert.rejects(KernelPls.join(a, b, T, rows(n)), /undisposed/);
  }
});

test('tridiagonal QL eigenpairs equal ml-matrix EigenvalueDecomposition (and the last-component form the full one)', () => {
  const rng = new SeededRandom(3);
  for (const k of [1, 2, 5, 17]) {
    const d = Array.from({ length: k }, () => rng.normal());
    const e = Array.from({ length: k - 1 }, () => rng.normal());
    const T = new Matrix(k, k);
    for (let i = 0; i < k; i++) { T.set(i, i, d[i]); if (i + 1 < k) { T.set(i, i + 1, e[i]); T.set(i + 1, i, e[i]); } }
    const ref = new EigenvalueDecomposition(T, { assumeSymmetric: true });
    const got = tridiagonalEigen(d, e, k);
    for (let i = 0; i < k; i++) {
      assert.ok(Math.abs(got.values[i] - ref.realEigenvalues[i]) < 1e-12);
      // eigenvector i (a row of got.vectors) equals column i of ml-matrix's, up to sign
      const sign = Math.sign(got.vectors[i * k] * ref.eigenvectorMatrix.get(0, i)) || 1;
      for (let j = 0; j < k; j++) assert.ok(Math.abs(got.vectors[i * k + j] - sign * ref.eigenvectorMatrix.get(j, i)) < 1e-10, `k ${k} vector ${i}`);
    }
    // the last-component form (the Lanczos convergence test) gives exactly the full run's values and last components
    const last = tridiagonalEigen(d, e, k, 1);
    assert.deepEqual(Array.from(last.values), Array.from(got.values));
    assert.deepEqual(Array.from(last.vectors), Array.from({ length: k }, (_, i) => got.vectors[i * k + k - 1]));
  }
});

/**
 * The fit in its explicit form, as KernelPls computed it before the covariance form: standardised X and Y
 * materialised, X deflated row by row, scores t = X_k w formed, p = X_k^T t / tt, c = Ys^T t / tt, and the
 * weight w the exact top eigenvector of S_k S_k^T (ml-matrix), S_k = X_k^T Ys. Rotations and y loadings per component.
 */
function explicitFit(X: Float64Array, p: number, Y: Float64Array, q: number, train: number[], K: number): { R: number[][]; C: number[][] } {
  const n = train.length;
  const standardised = (data: Float64Array, w: number): number[][] => {
    const m = Array.from({ length: w }, (_, j) => train.reduce((a, r) => a + data[r * w + j], 0) / n);
    const s = m.map((mj, j) => { const v = Math.sqrt(train.reduce((a, r) => a + (data[r * w + j] - mj) ** 2, 0) / (n - 1)); return v > 1e-12 ? v : 1; });
    return train.map((r) => Array.from({ length: w }, (_, j) => (data[r * w + j] - m[j]) / s[j]));
  };
  const Xk = new Matrix(standardised(X, p));
  const Ys = new Matrix(standardised(Y, q));
  const R: number[][] = [], P: number[][] = [], C: number[][] = [];
  for (let k = 0; k < Math.min(K, p, n - 1); k++) {
    const S = Xk.transpose().mmul(Ys);
    const eig = new EigenvalueDecomposition(S.mmul(S.transpose()), { assumeSymmetric: true });
    const w = eig.eigenvectorMatrix.getColumn(p - 1);
    const t = Xk.mmul(Matrix.columnVector(w));
    const tt = t.transpose().mmul(t).get(0, 0);
    if (tt < 1e-12 * n) break;
    const pk = Xk.transpose().mmul(t).div(tt).getColumn(0);
    C.push(Ys.transpose().mmul(t).div(tt).getColumn(0));
    const r = Array.from(w);
    for (let j = 0; j < k; j++) { const pw = P[j].reduce((s, v, a) => s + v * w[a], 0); for (let a = 0; a < p; a++) r[a] -= R[j][a] * pw; }
    R.push(r); P.push(pk);
    Xk.sub(t.mmul(Matrix.rowVector(pk)));
  }
  return { R, C };
}

test('covariance-form KernelPls equals the explicit-score fit (rotations, y loadings, predictions; both kernel sides, shifted targets, rank-deficient X)', async () => {
  const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>, sign = 1): number => {
    let d = 0, s = 0;
    for (let i = 0; i < a.length; i++) { d += (a[i] - sign * b[i]) ** 2; s += b[i] ** 2; }
    return Math.sqrt(d / s);
  };
  // [p, q, rank of X]: q >= p (p x p kernel), q < p (q x q kernel), each full rank and rank-deficient
  for (const [p, q, rank] of [[6, 9, 6], [9, 4, 9], [8, 12, 5], [10, 4, 6]]) {
    const n = 70;
    const { X: X0, Y } = planted(p * 7 + q + rank, n, p, q);
    // rank-deficient: the columns from `rank` on are combinations of the first ones
    const X = Float64Array.from(X0, (v, i) => { const a = i % p, o = i - a; return a < rank ? v : X0[o + (a % rank)] - 0.5 * X0[o + ((a + 1) % rank)]; });
    const train = rows(n).filter((i) => i % 6 !== 0), held = rows(n).filter((i) => i % 6 === 0);
    const group = Int32Array.from({ length: n }, (_, i) => (i * 7) % 4);
    for (const shifted of [false, true]) {
      const T = shifted ? residualiseTargets(denseTargets(Y, n, q), { group, groups: 4 }, train) : denseTargets(Y, n, q);
      const ref = explicitFit(X, p, T.values, q, train, p);
      assert.equal(ref.R.length, rank, `reference components p ${p} q ${q} rank ${rank}`);
      const fits = [new KernelPls(X, p, T, train, { tol: 1e-14, maxIter: 5000 }), await KernelPls.create(X, p, T, train, { tol: 1e-14, maxIter: 5000 })];
      for (const fit of fits) {
        const label = `p ${p} q ${q} rank ${rank} shifted ${shifted}`;
        assert.equal(fit.extendTo(p), rank, label);
        assert.equal(fit.exhausted, rank < p, label);
        for (let j = 0; j < rank; j++) {
          const sign = Math.sign(ref.R[j].reduce((s, v, a) => s + v * fit.R[j][a], 0));
          assert.ok(relDiff(fit.R[j], ref.R[j], sign) < 1e-9, `${label} rotation ${j}: ${relDiff(fit.R[j], ref.R[j], sign)}`);
          assert.ok(relDiff(fit.C[j], ref.C[j], sign) < 1e-9, `${label} y loading ${j}: ${relDiff(fit.C[j], ref.C[j], sign)}`);
        }
        // predictions of the held rows with every component count, against the reference's R and C
        const m = fit.model();
        for (let k = 1; k <= rank; k++) {
          const got = plsPredict(m, X, held, k);
          const want = new Float64Array(got.length);
          held.forEach((r, i) => {
            const t = ref.R.slice(0, k).map((rj) => rj.reduce((s, v, a) => s + v * (X[r * p + a] - m.xMean[a]) / m.xStd[a], 0));
            for (let b = 0; b < q; b++) want[i * q + b] = m.yMean[b] + m.yStd[b] * t.reduce((s, tj, j) => s + tj * ref.C[j][b], 0);
          });
          assert.ok(relDiff(got, want) < 1e-9, `${label} predictions k ${k}: ${relDiff(got, want)}`);
        }
      }
    }
  }
});
