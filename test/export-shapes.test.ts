import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModelDir } from '../core/model/model-dir.ts';
import { InstrumentedRunner } from '../core/runtime/instrumented-runner.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { assertCliError } from './helpers/coded-errors.ts';
import { asOwnModelDir, fixedShapeModel, positionIdsModel, writeTemp } from './helpers/quantized-models.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

const md = loadModelDir(ensureGeneratedModel('tiny'));
const seqs = ['the cat sat on the mat', 'a dog'].map((t) => md.tokenizer.encode(t).ids);

test('position_ids export: edgeprobe feeds 0..n-1, so hidden states equal the model that computes them itself', async () => {
  const m = positionIdsModel(md);
  assert.ok(m.graph.input.some((i) => i.name === 'position_ids'));
  assert.ok(!m.graph.node.some((n) => n.opType === 'Range'), 'the fixture really takes positions from its input');
  const run = async (proto: typeof m) => { const r = await InstrumentedRunner.fromProto(proto, 'x', md.tokenizer.padId); try { return await r.run(seqs); } finally { await r.release(); } };
  const [a, b] = [await run(md.model.proto), await run(m)];
  // equal up to float rounding (onnxruntime fuses the two graphs differently); wrong positions would move
  // the normalised states by far more (position embeddings have std 0.1 against word embeddings' 0.1)
  const [x, y] = [a.hidden[a.hidden.length - 1], b.hidden[b.hidden.length - 1]];
  let maxDiff = 0;
  for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
  assert.ok(maxDiff < 1e-4, `max |dh| ${maxDiff}`);
  // and a CLI command runs on it end to end (no stack trace about unknown inputs)
  const dir = asOwnModelDir(md, m);
  const div = runCli(['--json', 'divergence', dir, '--variants', 'fp16', '--sentences', '4']);
  assert.equal(div.status, 0, div.stderr);
  assert.equal(jsonResult<{ records: unknown[] }>(div).records.length, 1);
});

test('fixed-shape export: inspect reports the shapes; bench, attention, properties and divergence refuse with one coded error', () => {
  const dir = asOwnModelDir(md, fixedShapeModel(md, [1, 16]));
  const inspect = runCli(['models', 'inspect', dir]);
  assert.equal(inspect.status, 0, inspect.stderr);
  assert.match(inspect.stdout, /input_ids \[1, 16\]/);
  assert.match(inspect.stdout, /fixed input shape.*max length 16/);
  for (const cmd of [['bench', dir], ['probe', 'attention', dir], ['probe', 'properties', dir, '--norms', 'x.csv'], ['divergence', dir]]) {
    assertCliError(runCli(cmd), 'EP_MODEL_FIXED_SHAPE', /input_ids has the fixed shape \[1, 16\]/);
  }
  // as a user variant of a dynamic source, too
  assertCliError(runCli(['bench', ensureGeneratedModel('tiny'), '--variant', `fixed=${writeTemp(fixedShapeModel(md, [1, 16]), 'fixed.onnx')}`]), 'EP_MODEL_FIXED_SHAPE');
});
