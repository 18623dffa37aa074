import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Activations } from '../probes/attention/activations.ts';
import { compareActivations, permuteSentence } from '../probes/attention/survival.ts';
import { identifiedCount } from '../probes/attention/identifiability.ts';
import { effectiveSources, mixingCurve, rollout, selfContribution } from '../probes/attention/rollout.ts';
import { attentionStructure } from '../probes/attention/structure.ts';
import { loadAttentionThresholds } from '../probes/attention/thresholds.ts';
import { survivalVerdict, tokenRelationVerdict } from '../probes/attention/verdicts.ts';

const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const eye = (n: number): number[] => Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0));
const uniform = (n: number): number[] => new Array<number>(n * n).fill(1 / n);
/** [heads, n, n] from one [n, n] map repeated per head */
const perHeads = (m: number[], heads: number): Float32Array => Float32Array.from(Array.from({ length: heads }, () => m).flat());

test('identity attention: rollout is I at every layer, self-contribution 1, one effective source', () => {
  const n = 5;
  const rs = rollout([perHeads(eye(n), 2), perHeads(eye(n), 2), perHeads(eye(n), 2)], 2, n);
  for (const r of rs) {
    eye(n).forEach((v, k) => close(r[k], v));
    close(selfContribution(r, n), 1);
    close(effectiveSources(r, n), 1);
  }
});

test('uniform attention: plain rollout rows are 1/n; residual rollout is 0.5^L I + (1 - 0.5^L) / n', () => {
  const n = 4;
  const layers = [perHeads(uniform(n), 3), perHeads(uniform(n), 3)];
  for (const r of rollout(layers, 3, n, 0)) for (let k = 0; k < n * n; k++) close(r[k], 1 / n);
  // (0.5 U + 0.5 I)^2 = 0.25 I + 0.75 U since U^2 = U: diagonal 0.25 + 0.75/4, off-diagonal 0.75/4
  const r2 = rollout(layers, 3, n)[1];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) close(r2[i * n + j], (i === j ? 0.25 : 0) + 0.75 / n);
});

test('two-layer rollout matches the hand computation', () => {
  // layer 1, both heads A1 = [[.8,.2],[.4,.6]]            -> Â1 = .5 A1 + .5 I = [[.9,.1],[.2,.8]]
  // layer 2, heads [[1,0],[.5,.5]] and [[0,1],[.5,.5]]    -> mean [[.5,.5],[.5,.5]] -> Â2 = [[.75,.25],[.25,.75]]
  // R2 = Â2 Â1 = [[.75*.9+.25*.2, .75*.1+.25*.8], [.25*.9+.75*.2, .25*.1+.75*.8]] = [[.725,.275],[.375,.625]]
  const l1 = Float32Array.from([0.8, 0.2, 0.4, 0.6, 0.8, 0.2, 0.4, 0.6]);
  const l2 = Float32Array.from([1, 0, 0.5, 0.5, 0, 1, 0.5, 0.5]);
  const [r1, r2] = rollout([l1, l2], 2, 2);
  [0.9, 0.1, 0.2, 0.8].forEach((v, k) => close(r1[k], v, 1e-7));
  [0.725, 0.275, 0.375, 0.625].forEach((v, k) => close(r2[k], v, 1e-7));
  close(selfContribution(r2, 2), (0.725 + 0.625) / 2, 1e-7);
});

test('nearest-neighbour identity: planted mixing breaks it exactly where expected', () => {
  // references e0 = e1 = unit axes in 3-d; query 0 stays on axis 0, query 1 moved onto axis 2 (token 2), query 2 on axis 2
  const e = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  assert.equal(identifiedCount(e, e, 3, 3), 3);
  assert.equal(identifiedCount([1, 0, 0, 0, 0.2, 1, 0, 0, 1], e, 3, 3), 2);
  // an exact tie between two positions is not an identification
  assert.equal(identifiedCount([1, 1, 0, 0, 1, 0, 0, 0, 1], e, 3, 3), 2);
});

function acts(attention: Float32Array[][], heads: number, n: number[]): Activations {
  return { layers: attention[0].length, heads, hiddenSize: 1, gate: { ok: true, reasons: [] }, sentences: attention.map((a, s) => ({ n: n[s], attention: a, hidden: [] })) };
}

test('structure: uniform rows have entropy ratio 1 and no dominant rows; one-hot rows 0 and all dominant', () => {
  const a = acts([[perHeads(uniform(4), 2), perHeads(eye(4), 2)]], 2, [4]);
  const [s1, s2] = attentionStructure(a, 0.5);
  close(s1.entropyRatio, 1, 1e-6);
  assert.equal(s1.dominantShare, 0);
  close(s2.entropyRatio, 0);
  assert.equal(s2.dominantShare, 1);
  const mix = mixingCurve(a);
  assert.deepEqual(mix.selfContribution.map((x) => Math.round(x * 1e6) / 1e6), [1, 0.625, 0.625]); // 0.5 + 0.5/4, then I keeps it
});

test('comparison: identical runs give JS 0, top-k overlap 1, rollout Spearman 1; a permuted copy lines up again', () => {
  const m = [0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6];
  const a = acts([[perHeads(m, 1)]], 1, [3]);
  const [c] = compareActivations(a, a, 2);
  close(c.jsPerHead[0], 0);
  assert.equal(c.topKPerHead[0], 1);
  close(c.rolloutSpearman, 1, 1e-9);
  const perm = [0, 2, 1];
  const p = permuteSentence(a.sentences[0], perm, 1, 1);
  // position 1 of the permuted map is old position 2: row [m[8], m[7], m[6]] with columns permuted the same way
  assert.deepEqual(Array.from(p.attention[0].subarray(3, 6)), [0.2, 0.6, 0.2].map(Math.fround));
  const back = permuteSentence(p, perm, 1, 1);
  assert.deepEqual(Array.from(back.attention[0]), Array.from(a.sentences[0].attention[0]));
});

test('survival verdict bands: no change survives, small change degrades in that layer, large change fails', () => {
  const t = loadAttentionThresholds();
  const layer = (l: number, js: number, tk: number) => ({ layer: l, jsPerHead: [js, js / 2], topKPerHead: [tk, 1], rolloutSpearman: 1, rolloutJs: 0 });
  const ident = [1, 1, 1];
  assert.equal(survivalVerdict('x', [layer(1, 0, 1), layer(2, 0, 1)], ident, ident, t).status, 'survives');
  const mid = (t.survival.survives.maxJs + t.survival.fails.maxJs) / 2;
  const d = survivalVerdict('x', [layer(1, 0, 1), layer(2, mid, 1)], ident, ident, t);
  assert.equal(d.status, 'degrades');
  assert.deepEqual(d.degradedLayers, [2]);
  const f = survivalVerdict('x', [layer(1, t.survival.fails.maxJs * 2, 1), layer(2, 0, 1)], ident, ident, t);
  assert.equal(f.status, 'fails');
  assert.deepEqual(f.failedLayers, [1]);
  // an identifiability drop alone degrades
  assert.equal(survivalVerdict('x', [layer(1, 0, 1), layer(2, 0, 1)], ident, [1, 1, 1 - (t.survival.survives.maxIdentifiabilityDrop + 0.01)], t).status, 'degrades');
});

test('token-relation verdict: supported up to the last layer above threshold, structured layers past it flagged', () => {
  const t = loadAttentionThresholds();
  const s = (layer: number, entropyRatio: number) => ({ layer, entropyRatio, dominantShare: 0, heads: [] });
  const v = tokenRelationVerdict([1, 0.9, 0.6, 0.3, 0.2], [s(1, 0.5), s(2, 0.9), s(3, 0.5), s(4, 0.95)], undefined, undefined, t);
  assert.equal(v.supportedUpToLayer, 2);
  assert.deepEqual(v.unsupportedLayers, [3, 4]);
  assert.deepEqual(v.structuredButUnidentifiable, [3]);
  assert.equal(v.status, 'degrades');
  assert.equal(v.sanityPassed, null);
  const step = { randomizedFrom: 4, parameters: 1, attentionJs: 0.3, rolloutJs: 0.1, rolloutSpearman: 0.99, attentionChanged: true, rolloutChanged: false };
  const w = tokenRelationVerdict([1, 1, 1, 1, 1], [s(1, 0.5), s(2, 0.9), s(3, 0.5), s(4, 0.95)], [step], undefined, t);
  assert.equal(w.status, 'fails');
  assert.match(w.summary, /rollout FAILS the randomization check/);
});
