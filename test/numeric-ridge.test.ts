import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyLinear, fitRidge } from '../core/numeric/ridge.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { topKOverlap } from '../core/numeric/vectors.ts';

test('ridge recovers a planted linear map with bias', () => {
  const rng = new SeededRandom(9);
  const rows = 400;
  const inDim = 5;
  const outDim = 3;
  const w = rng.normalArray(inDim * outDim, 1);
  const b = [0.5, -2, 3];
  const x = rng.normalArray(rows * inDim, 1);
  const y = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) for (let j = 0; j < outDim; j++) {
    let s = b[j];
    for (let i = 0; i < inDim; i++) s += x[r * inDim + i] * w[i * outDim + j];
    y[r * outDim + j] = s;
  }
  const map = fitRidge(x, y, rows, inDim, outDim, { relativeLambda: 1e-8 });
  for (let k = 0; k < w.length; k++) assert.ok(Math.abs(map.weights[k] - w[k]) < 1e-4, `w[${k}] ${map.weights[k]} vs ${w[k]}`);
  b.forEach((v, j) => assert.ok(Math.abs(map.bias[j] - v) < 1e-4));
  const pred = applyLinear(map, x.subarray(0, inDim), 1);
  for (let j = 0; j < outDim; j++) assert.ok(Math.abs(pred[j] - y[j]) < 1e-3);
});

test('ridge penalty shrinks weights toward zero', () => {
  // one feature x = [1, -1, 2, -2], y = 2x: OLS slope 2; with lambda = 1 * mean diag (10) the slope is 20 / (10 + 10) = 1
  const map = fitRidge([1, -1, 2, -2], [2, -2, 4, -4], 4, 1, 1, { relativeLambda: 1 });
  assert.ok(Math.abs(map.weights[0] - 1) < 1e-12);
});

test('top-k overlap counts shared indices regardless of order', () => {
  assert.equal(topKOverlap([0.5, 0.3, 0.2, 0], [0.2, 0.3, 0.5, 0], 3), 1);
  // top-2 of a = {0, 1}, of b = {1, 3}: one shared
  assert.equal(topKOverlap([0.6, 0.3, 0.1, 0], [0.1, 0.4, 0, 0.5], 2), 0.5);
  // offsets select the second row of each
  assert.equal(topKOverlap([9, 9, 1, 0], [9, 9, 0, 1], 1, 2, 2, 2), 0);
});
