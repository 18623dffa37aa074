import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareToFp32, layerVerdict, rankLayers } from '../probes/properties/verdict.ts';
import type { LayerResult, PropertiesData } from '../probes/properties/schema.ts';

const ci = (x: number) => ({ estimate: x, low: x, high: x, level: 0.95 });
const score = (x: number) => ({ headline: ci(x), neighbourhood: ci(0) });
function layer(name: string, sys: number, passes: boolean): LayerResult {
  return {
    layer: name, passes, explainedBy: passes ? [] : ['shuffle'], summary: '',
    controls: { sys: score(sys), upper: score(1), shuffle: score(0.1), 'shuffle-upper': score(0.2), rand: score(0), 'category-destroyed': score(0.05) },
    pValues: { shuffle: 0.01, rand: 0.001, 'category-destroyed': 0.01 },
  };
}
const data = (layers: LayerResult[]): PropertiesData => ({ layers, ranking: rankLayers(layers), bestLayer: rankLayers(layers)[0] } as unknown as PropertiesData);

test('verdict passes only when sys beats shuffle, rand and category-destroyed significantly, else names them', () => {
  const ok = layerVerdict('L3', 'f1', 0.2, { shuffle: { mean: 0.1, p: 0.001 }, rand: { mean: 0.01, p: 0.001 }, 'category-destroyed': { mean: 0.05, p: 0.01 } }, 0.05);
  assert.equal(ok.passes, true);
  const bad = layerVerdict('L3', 'f1', 0.2, { shuffle: { mean: 0.19, p: 0.3 }, rand: { mean: 0.01, p: 0.001 }, 'category-destroyed': { mean: 0.25, p: 0.9 } }, 0.05);
  assert.equal(bad.passes, false);
  assert.deepEqual(bad.explainedBy, ['shuffle', 'category-destroyed']);
  assert.match(bad.summary, /feature-frequency prior/);
  // significant but lower mean is not a win
  assert.equal(layerVerdict('L1', 'spearman', 0.2, { shuffle: { mean: 0.3, p: 0.001 }, rand: { mean: 0, p: 0.001 }, 'category-destroyed': { mean: 0, p: 0.001 } }, 0.05).passes, false);
});

test('variant comparison reports verdict changes and layer-ranking changes against fp32', () => {
  const fp32 = data([layer('L1', 0.1, false), layer('L2', 0.2, true), layer('L3', 0.3, true)]);
  const same = compareToFp32(fp32, data([layer('L1', 0.11, false), layer('L2', 0.19, true), layer('L3', 0.29, true)]));
  assert.deepEqual(same.verdictChangedLayers, []);
  assert.equal(same.rankingChanged, false);
  assert.equal(same.rankCorrelation, 1);
  const changed = compareToFp32(fp32, data([layer('L1', 0.35, false), layer('L2', 0.2, false), layer('L3', 0.3, true)]));
  assert.deepEqual(changed.verdictChangedLayers, ['L2']);
  assert.equal(changed.rankingChanged, true);
  assert.deepEqual(changed.fp32Ranking, ['L3', 'L2', 'L1']);
  // fp32 ranks L3,L2,L1 -> positions 2,1,0 by layer; variant L1,L3,L2 -> 0,2,1: rho = 1 - 6*(4+1+1)/(3*8) = -0.5
  assert.ok(Math.abs(changed.rankCorrelation + 0.5) < 1e-12);
  assert.ok(Math.abs(changed.sysDelta.L1 - 0.25) < 1e-12);
});
