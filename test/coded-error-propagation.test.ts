import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentAllowList } from '../agent/config/agent-config.ts';
import { executeJob } from '../agent/jobs/executor.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import { EdgeprobeError } from '../core/errors.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import { measureInChild } from '../probes/benchmark/measure-in-child.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

// Coded errors keep their code where they cross a boundary: the benchmark worker process, and the agent's
// job failure reason that travels to the coordinator.
const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-codes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('a job item that fails on a coded error reports the code in its failure reason and progress message', async () => {
  const db = openStateDb(join(tmp, 'state'));
  const jobs = new JobStore(db);
  const outbox = new Outbox(db, 'pi-01');
  // the local file no longer has the pinned bytes: resolving the model throws EP_MODEL_SHA256_CHANGED
  const config: AgentAllowList = { models: [{ name: 'tiny-local', path: ensureGeneratedModel('tiny'), sha256: 'f'.repeat(64) }], probes: ['benchmark'] };
  const plan: JobPlan = { models: [{ name: 'tiny-local' }], variants: ['fp32'], probes: ['benchmark'] };
  jobs.insert('j1', 1, plan, 'accepted');
  const silent = { info: () => {}, warn: () => {}, error: () => {} };
  const state = await executeJob(jobs.get('j1')!, { deviceId: 'pi-01', config, jobs, outbox, log: silent, variantsDir: join(tmp, 'variants'), queued: () => {} }, new AbortController().signal);
  assert.equal(state, 'failed');
  assert.match(jobs.get('j1')!.detail ?? '', /^tiny-local: \[EP_MODEL_SHA256_CHANGED\] model tiny-local: .* the agent config pins f{64} \(fix: /);
  const progress = outbox.pending(0, 100).map((r) => JSON.parse(r.body) as { payload?: { state?: string; detail?: string } });
  const final = progress.map((m) => m.payload).filter((p) => p?.state === 'failed');
  assert.equal(final.length, 1, JSON.stringify(progress));
  assert.match(final[0]!.detail ?? '', /\[EP_MODEL_SHA256_CHANGED\]/, 'the coordinator receives the code');
  db.close();
});

test('a coded error in the benchmark worker process arrives in the parent with its code and parameters', async () => {
  const empty = join(tmp, 'empty.onnx');
  writeFileSync(empty, '');
  const req = { modelDir: ensureGeneratedModel('tiny'), onnxPath: empty, settings: {} as never, timeInstrumented: false, driftSentences: [] };
  await assert.rejects(measureInChild(req), (e: unknown) => {
    assert.ok(e instanceof EdgeprobeError, String(e));
    assert.equal(e.code, 'EP_ONNX_EMPTY');
    assert.deepEqual(e.params, { file: empty });
    return true;
  });
});
