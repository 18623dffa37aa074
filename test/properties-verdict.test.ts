import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareToFp32, rankLayers } from '../probes/properties/verdict.ts';
import type { LayerResult, PropertiesData } from '../probes/properties/schema.ts';

const ci = (x: number) => ({ estimate: x, low: x, high: x, level: 0.95 });
const score = (x: number) => ({ headline: ci(x), neighbourhood: ci(0) });
function layer(name: string, sys: number, passes: boolean): LayerResult {
  return {
    layer: name, passes, explainedBy: passes ? [] : ['shuffle'], summary: '',
    controls: {
      sys: score(sys), prior: score(0.09), upper: score(1), shuffle: score(0.1), 'shuffle-upper': score(0.2), rand: score(0),
      'rand-marginal': score(0.09), 'category-shuffle': score(0.1), 'category-destroyed': score(0.05),
    },
    pValues: { shuffle: 0.01, rand: 0.001 }, tests: {},
  };
}
const data = (layers: LayerResult[]): PropertiesData => ({ layers, ranking: rankLayers(layers), bestLayer: rankLayers(layers)[0] } as unknown as PropertiesData);

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
  // the comparison carries the validity of the fp32 verdict it keeps or changes
  assert.deepEqual(same.reference, { layer: 'L3', passes: true });
  const failing = data([{ ...layer('L1', 0.1, false), explanation: 'the frequency prior' }]);
  assert.deepEqual(compareToFp32(failing, failing).reference, { layer: 'L1', passes: false, explanation: 'the frequency prior' });
});
