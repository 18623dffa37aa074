import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './helpers/run-cli.ts';

test('`edgeprobe demo` (npm start) runs the fleet on the demo model, says it is a demo and what it waits for, and exits by itself', () => {
  // no deadline of ours: the demo itself gives up only when its job stops advancing (a slow device is fine);
  // the runner's limit only catches a hang
  const run = runCli(['demo'], { timeoutMs: 1_800_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /DEMO: a generated random-weight BERT model/);
  assert.match(run.stderr, /waiting for the demo job on both devices as long as its items advance \(gives up after 300 s without progress\)/);
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

test('`edgeprobe demo --stall-timeout` takes positive seconds only, with one clear error', () => {
  const run = runCli(['demo', '--stall-timeout', '0']);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /--stall-timeout must be a positive number of seconds, got 0/);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
});
