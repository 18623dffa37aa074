import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ProbeRecord } from '../core/results/probe-record.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { PropertiesDataSchema, type PropertiesData } from '../probes/properties/schema.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';
import { assertCliError } from './helpers/coded-errors.ts';

const WORDS = ['cat', 'dog', 'bird', 'fish', 'horse', 'cow', 'sheep', 'pig', 'lion', 'tiger', 'bear', 'wolf', 'apple', 'banana', 'orange', 'grape', 'lemon', 'cherry', 'peach', 'pear', 'car', 'bus', 'train', 'plane', 'boat', 'ship', 'bike', 'truck', 'chair', 'table'];

test('probe properties on a custom norm file: JSON records that validate, all controls, a verdict', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edgeprobe-props-cli-'));
  const rng = new SeededRandom(1);
  const lines = ['concept,feature,value,category'];
  WORDS.forEach((w, i) => {
    const cat = ['animal', 'fruit', 'vehicle', 'furniture'][Math.min(3, Math.floor(i / 8))];
    lines.push(`${w},is_${cat},1,${cat}`);
    for (let f = 0; f < 4; f++) lines.push(`${w},f${rng.int(12)}_${f},${(0.2 + rng.next()).toFixed(2)},${cat}`);
  });
  const norms = join(dir, 'norms.csv');
  writeFileSync(norms, `${lines.join('\n')}\n`);
  const model = ensureGeneratedModel('tiny');
  const run = runCli(['probe', 'properties', model, '--norms', norms, '--folds', '3', '--layers', 'static,2', '--no-cache', '--json'], { timeoutMs: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  const records = jsonResult<ProbeRecord[]>(run);
  assert.equal(records.length, 1);
  assert.ok(Value.Check(ProbeRecord, records[0]), JSON.stringify([...Value.Errors(ProbeRecord, records[0])].slice(0, 3)));
  assert.ok(Value.Check(PropertiesDataSchema, records[0].data), JSON.stringify([...Value.Errors(PropertiesDataSchema, records[0].data)].slice(0, 3)));
  const data = records[0].data as PropertiesData;
  assert.equal(records[0].probe, 'properties');
  assert.deepEqual(data.layers.map((l) => l.layer), ['static', 'L2']);
  assert.equal(data.normSet.metric, 'f1');
  assert.match(data.normSet.categories, /norm-set categories \(4\)/);
  assert.ok(['passes-controls', 'fails-controls'].includes(records[0].verdict.status));
  // the rand control predicts random targets: near chance; the geometry oracle beats it
  for (const l of data.layers) assert.ok(l.controls.upper.headline.estimate > l.controls.rand.headline.estimate);
  // progress lines came before the result
  assert.ok(run.stdout.split('\n').some((l) => l.includes('"type":"progress"')));
});

test('probe properties: a missing norm file or bad flag is a clear error with a fix, exit 2', () => {
  const model = ensureGeneratedModel('tiny');
  const run = runCli(['probe', 'properties', model, '--norms', '/nonexistent/norms.csv']);
  assertCliError(run, 'EP_NORMS_SPEC_UNKNOWN', /--norms \/nonexistent\/norms.csv is neither mcrae, buchanan, binder nor an existing file/);
  const layers = runCli(['probe', 'properties', model, '--norms', 'mcrae', '--norms-dir', '/nonexistent']);
  assertCliError(layers, 'EP_NORMS_DIR_MISSING', /\/nonexistent/);
});
