import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { pairedRepeatTest, pairedRepeatTests, repeatMeanCI, repeatMeanCIs, twoWayBootstrapMeans, type RepeatScores } from '../probes/properties/inference.ts';
import { twoWayBootstrapMeansMany } from '../probes/properties/two-way-bootstrap.ts';

/** The two-way bootstrap written out directly: draw R repeats then n concepts, average the finite cells of the gather. */
function gatherMeans(m: RepeatScores, B: number, seed: number): number[] {
  const R = m.length, n = m[0].length;
  const rng = new SeededRandom(seed);
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const reps = Array.from({ length: R }, () => rng.int(R));
    const items = Array.from({ length: n }, () => rng.int(n));
    let s = 0, c = 0;
    for (const r of reps) for (const i of items) if (Number.isFinite(m[r][i])) { s += m[r][i]; c++; }
    out.push(c > 0 ? s / c : NaN);
  }
  return out;
}

const matrix = (rng: SeededRandom, R: number, n: number, cell: () => number, missing: (r: number, i: number) => boolean): RepeatScores =>
  Array.from({ length: R }, (_, r) => Array.from({ length: n }, (_, i) => (missing(r, i) ? NaN : cell())));

test('batched two-way bootstrap means are the per-matrix gather of the same draws', () => {
  const rng = new SeededRandom(11);
  // multiples of 1/8 below 4: every partial sum is exact, so batched and gathered means must agree exactly
  const dyadic = (): number => rng.int(32) / 8;
  const noGold = (_r: number, i: number): boolean => i === 2 || i === 9;
  const ms = [
    matrix(rng, 3, 13, dyadic, () => false),
    matrix(rng, 3, 13, dyadic, noGold),
    matrix(rng, 3, 13, dyadic, noGold), // same missing cells as the one before: shares its list
    matrix(rng, 3, 13, dyadic, (r, i) => (r * 13 + i) % 5 === 0),
    matrix(rng, 2, 7, dyadic, (r, i) => r === 1 && i === 0), // another shape: its own stream, same seed
  ];
  ms[3][1][4] = Infinity; // not finite: skipped like NaN
  const batched = twoWayBootstrapMeansMany(ms, 300, 5);
  ms.forEach((m, k) => assert.deepEqual(batched[k], gatherMeans(m, 300, 5), `matrix ${k}`));
  // the one-matrix form, chunks of two matrices (10 tables of 2 x 13 fit 260 doubles) and no cache at all
  // (tables rebuilt per resample) give the same draws
  ms.forEach((m, k) => assert.deepEqual(twoWayBootstrapMeans(m, 300, 5), batched[k]));
  assert.deepEqual(twoWayBootstrapMeansMany(ms, 300, 5, { cacheDoubles: 260 }), batched);
  assert.deepEqual(twoWayBootstrapMeansMany(ms, 300, 5, { cacheDoubles: 0 }), batched);
  // real values and more repeats: the same up to summation order
  const real = [matrix(rng, 5, 40, () => rng.next(), (r, i) => i === 7 || (r === 2 && i === 30)), matrix(rng, 5, 40, () => rng.normal(), () => false)];
  twoWayBootstrapMeansMany(real, 200, 9).forEach((got, k) => {
    gatherMeans(real[k], 200, 9).forEach((e, b) => assert.ok(Math.abs(got[b] - e) < 1e-12, `${k}/${b}: ${got[b]} vs ${e}`));
  });
});

test('paired tests and CIs in a batch equal the one-at-a-time ones, and meet their closed forms', () => {
  const rng = new SeededRandom(12);
  const sys = matrix(rng, 3, 50, () => rng.int(11) / 10, (_r, i) => i === 3);
  const controls = [matrix(rng, 3, 50, () => rng.int(11) / 10, () => false), sys.map((row) => row.map((v) => v - 0.25)), sys];
  const o = { resamples: 400, seed: 3 };
  const batch = pairedRepeatTests(controls.map((c) => [sys, c] as const), o);
  controls.forEach((c, k) => assert.deepEqual(batch[k], pairedRepeatTest(sys, c, o)));
  // sys = control + 0.25 in every cell: every resampled difference is 0.25, no centred one reaches it,
  // so p = 1 / (1 + B), the CI is [0.25, 0.25] and d_z is infinite
  assert.deepEqual(batch[1], { difference: 0.25, low: 0.25, high: 0.25, effectSize: Infinity, p: 1 / 401 });
  // sys against itself: every centred mean (0) reaches the observed 0, p = 1
  assert.deepEqual(batch[2], { difference: 0, low: 0, high: 0, effectSize: 0, p: 1 });
  const cis = repeatMeanCIs([sys, controls[0], [[0.5, NaN, 0.5], [0.5, 0.5, NaN]]], { resamples: 300, seed: 4 });
  assert.deepEqual(cis[1], repeatMeanCI(controls[0], { resamples: 300, seed: 4 }));
  assert.deepEqual(cis[2], { estimate: 0.5, low: 0.5, high: 0.5, level: 0.95 });
});

test('the observed paired difference is the difference of the cell means, by hand', () => {
  // 2 repeats x 4 concepts; sys - control = [[0.5, 0, 0.25, -0.25], [0.75, 0.5, NaN, 0]]: 7 finite cells summing to 1.75
  const sys = [[1, 0.5, 0.5, 0], [1, 0.75, NaN, 0.25]];
  const control = [[0.5, 0.5, 0.25, 0.25], [0.25, 0.25, 0, 0.25]];
  const t = pairedRepeatTest(sys, control, { resamples: 200, seed: 1 });
  assert.equal(t.difference, 0.25);
  assert.ok(t.low <= 0.25 && 0.25 <= t.high);
});
