import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentAllowList } from '../agent/config/agent-config.ts';
import { executeJob } from '../agent/jobs/executor.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-jobcodes-'));
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
