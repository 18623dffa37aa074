import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/run-cli.ts';

test('`edgeprobe demo` (npm start) runs the fleet on the demo model, says it is a demo, and exits by itself in under a minute', () => {
  const started = Date.now();
  const run = runCli(['demo'], { timeoutMs: 60_000 });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(run.status, 0, run.stderr);
  assert.ok(seconds < 60, `took ${seconds} s`);
  assert.match(run.stderr, /DEMO: a generated random-weight BERT model/);
  assert.match(run.stdout, /demo-device-a\s+demo\s+fp32/);
  assert.match(run.stdout, /demo-device-b\s+demo\s+fp32/);
  assert.match(run.stdout, /demo-device-a completed, demo-device-b completed/);
  // the product, not just a benchmark: compressed variants with attention verdicts and compare's layer
  for (const d of ['demo-device-a', 'demo-device-b']) {
    assert.match(run.stdout, new RegExp(`${d}\\s+demo\\s+int8-dynamic\\s.*(survives-invalid-reference|survives|degrades|fails|invalid).*(jump L\\d|even \\(worst L\\d\\)|invalid)`));
    assert.match(run.stdout, new RegExp(`${d}\\s+demo\\s+fp16\\s`));
  }
  assert.match(run.stdout, /invalid: records whose numeric gate failed .* \d+ in total/);
  assert.match(run.stdout, /demo\/int8-dynamic on 2 devices/);
  assert.match(run.stdout, /edgeprobe agent --broker .* --config configs\/agent\.example\.json/, 'tells how to run on a real model');
});
