import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { executeJob } from '../agent/jobs/executor.ts';
import { checkPlan } from '../agent/jobs/plan-check.ts';
import { compressionProvider } from '../agent/jobs/variant-provider.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import { checkPlanPolicy } from '../coordinator/security/plan-policy.ts';
import { createDaemonLog } from '../core/daemon-log.ts';
import { loadModelDir } from '../core/model/model-dir.ts';
import { loadOnnxFile } from '../core/onnx/model-io.ts';
import { JobPlan } from '../core/protocol/plan.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { ensureGeneratedModel } from '../models/generated-models.ts';
import { probeKinds } from '../probes/index.ts';
import { matMulIntegerModel, writeTemp } from './helpers/quantized-models.ts';
import { ingestOutbox } from './helpers/ingest-outbox.ts';

const work = mkdtempSync(join(tmpdir(), 'ep-user-fleet-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tinyDir = ensureGeneratedModel('tiny');
const md = loadModelDir(tinyDir);
const userDir = join(work, 'user-variants');
mkdirSync(userDir);
copyFileSync(writeTemp(matMulIntegerModel(md), 'x.onnx'), join(userDir, 'tiny_quantized.onnx'));
const userSha = loadOnnxFile(join(userDir, 'tiny_quantized.onnx')).sha256;
const plan = {
  models: [{ name: 'tiny', sha256: md.model.sha256 }], variants: ['fp32', 'ort-dynamic'], probes: ['benchmark'],
  userVariants: [{ name: 'ort-dynamic', model: 'tiny', sha256: userSha, file: 'tiny_quantized.onnx' }],
  settings: { benchmark: { runs: 2, batchSizes: [1], seqLen: 8 } },
};
const policy = { models: [{ name: 'tiny', sha256: md.model.sha256 }], probes: probeKinds(), variants: ['fp32' as const], userVariants: [userSha] };

test('plan schema: user variants are pattern-checked names with a pinned file name or URL; built-in names stay exact', () => {
  assert.ok(Value.Check(JobPlan, plan));
  const bad = (p: unknown) => assert.equal(Value.Check(JobPlan, p), false, JSON.stringify(p));
  bad({ ...plan, userVariants: [{ ...plan.userVariants[0], name: 'fp16' }] });
  bad({ ...plan, userVariants: [{ ...plan.userVariants[0], file: '../etc/model.onnx' }] });
  bad({ ...plan, userVariants: [{ ...plan.userVariants[0], file: '/abs/model.onnx' }] });
  bad({ ...plan, userVariants: [{ name: 'ort-dynamic', model: 'tiny', file: 'a.onnx' }] });
  bad({ ...plan, variants: ['fp32', 'Int8 Dynamic'] });
});

test('policy and agent: a user name must be declared (a misspelt built-in is refused), pinned and allowed', () => {
  assert.deepEqual(checkPlanPolicy(policy, plan as JobPlan), { ok: true });
  const refused = (p: unknown, pol = policy) => { const r = checkPlanPolicy(pol, p as JobPlan); assert.ok(!r.ok); return r.reason; };
  assert.match(refused({ ...plan, variants: ['fp32', 'int8-dynamc'], userVariants: [] }), /variant int8-dynamc is not available under policy .* not declared/);
  assert.match(refused(plan, { ...policy, userVariants: [] }), /policy allows no user-supplied variants/);
  assert.match(refused(plan, { ...policy, userVariants: ['b'.repeat(64)] }), /sha256 [0-9a-f]{64}\) is not in policy\.userVariants/);
  assert.match(refused({ ...plan, userVariants: [{ ...plan.userVariants[0], model: 'other' }] }), /variant of model other, which the plan does not name/);
  assert.match(refused({ ...plan, variants: ['fp32'] }), /declared but not listed/);
  const agent = { models: [{ name: 'tiny', generated: 'tiny' as const }], probes: ['benchmark'] };
  const r = checkPlan(plan as JobPlan, agent, compressionProvider);
  assert.ok(!r.ok && /this agent's config allows no user-supplied variants/.test(r.reason));
  assert.deepEqual(checkPlan(plan as JobPlan, { ...agent, userVariantsDir: userDir }, compressionProvider), { ok: true });
});

test('the agent runs a plan\'s user variant (pin checked), its record names it and its quantization, and the coordinator stores it', async () => {
  const log = createDaemonLog('t', false, () => {});
  const db = openStateDb(join(work, 'agent'));
  const jobs = new JobStore(db);
  const outbox = new Outbox(db, 'pi-01');
  const config = { models: [{ name: 'tiny', generated: 'tiny' as const }], probes: ['benchmark'], userVariantsDir: userDir };
  const deps = { deviceId: 'pi-01', config, jobs, outbox, log, variantsDir: join(work, 'variants'), queued: () => {} };
  jobs.insert('j1', 1, plan as JobPlan, 'accepted');
  assert.equal(await executeJob(jobs.get('j1')!, deps, new AbortController().signal), 'completed', jobs.get('j1')!.detail ?? '');
  const { store } = await ingestOutbox(outbox, 'pi-01', work, log);
  const stored = store.results().map((r) => r.record);
  assert.deepEqual(stored.map((r) => r.variant.name).sort(), ['fp32', 'ort-dynamic']);
  const user = stored.find((r) => r.variant.name === 'ort-dynamic')!;
  assert.equal(user.variant.sha256, userSha);
  assert.deepEqual(user.variant.quantization?.forms, ['MatMulInteger']);
  assert.deepEqual(stored.find((r) => r.variant.name === 'fp32')!.variant.quantization?.forms, []);
  store.close();

  // a file that no longer matches the plan's pin fails its items with the coded reason; nothing runs on it
  jobs.insert('j2', 1, { ...plan, userVariants: [{ ...plan.userVariants[0], sha256: 'c'.repeat(64) }] } as JobPlan, 'accepted');
  assert.equal(await executeJob(jobs.get('j2')!, deps, new AbortController().signal), 'failed');
  assert.match(jobs.get('j2')!.detail ?? '', /EP_USER_VARIANT_SHA_MISMATCH|the plan pins c{64}/);
  db.close();
});

test('a plan naming a variant that is neither built-in nor declared is refused by the protocol and the plan loader', async () => {
  const { decodeMessage, makeMessage: mk } = await import('../core/protocol/codec.ts');
  const { loadPlanFile } = await import('../coordinator/submit-job.ts');
  const { writeFileSync } = await import('node:fs');
  const { coded } = await import('./helpers/coded-errors.ts');
  const send = (p: unknown) => decodeMessage(deviceTopic('pi-01', 'jobs'), JSON.stringify(mk('pi-01', 1, 'job', { jobId: 'j9', attempt: 1, plan: p } as never)));
  assert.ok(send(plan).ok);
  const r = send({ ...plan, variants: ['fp32', 'fp8'], userVariants: [] });
  assert.ok(!r.ok && /fp8 is not a built-in variant .* not declared/.test(r.reason));
  const file = join(work, 'plan.json');
  writeFileSync(file, JSON.stringify({ ...plan, variants: ['fp32', 'int8-dynamc'], userVariants: undefined }));
  assert.throws(() => loadPlanFile(file), coded('EP_PLAN_FIELD_INVALID', { field: '/variants' }));
});

test('plan variantSettings: the int4 block size and int8 calibration reach the agent\'s variants; bad values are refused by the protocol and the plan loader', async () => {
  const { decodeMessage, makeMessage: mk } = await import('../core/protocol/codec.ts');
  const { loadPlanFile } = await import('../coordinator/submit-job.ts');
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { coded } = await import('./helpers/coded-errors.ts');
  const own = { models: plan.models, variants: ['fp32', 'int4-weight', 'int8-static'], probes: ['benchmark'], settings: plan.settings, variantSettings: { int4BlockSize: 16, int8Calibration: 'percentile:99.9' } };
  const send = (p: unknown) => decodeMessage(deviceTopic('pi-01', 'jobs'), JSON.stringify(mk('pi-01', 1, 'job', { jobId: 'j8', attempt: 1, plan: p } as never)));
  assert.ok(send(own).ok);
  const r = send({ ...own, variantSettings: { int4BlockSize: 24 } });
  assert.ok(!r.ok && /int4 block size 24 is not a power of two >= 16/.test(r.reason), JSON.stringify(r));
  const file = join(work, 'plan-settings.json');
  writeFileSync(file, JSON.stringify({ ...own, variantSettings: { int8Calibration: 'percentile:200' } }));
  assert.throws(() => loadPlanFile(file), coded('EP_PLAN_FIELD_INVALID', { field: '/variantSettings', problem: /"percentile:200" is not an int8 calibration/ }));

  const log = createDaemonLog('t', false, () => {});
  const db = openStateDb(join(work, 'agent-settings'));
  const jobs = new JobStore(db);
  const deps = { deviceId: 'pi-01', config: { models: [{ name: 'tiny', generated: 'tiny' as const }], probes: ['benchmark'] }, jobs, outbox: new Outbox(db, 'pi-01'), log, variantsDir: join(work, 'variants-settings'), queued: () => {} };
  jobs.insert('j8', 1, own as JobPlan, 'accepted');
  assert.equal(await executeJob(jobs.get('j8')!, deps, new AbortController().signal), 'completed', jobs.get('j8')!.detail ?? '');
  const manifest = (v: string) => JSON.parse(readFileSync(join(deps.variantsDir, md.model.sha256.slice(0, 16), `${v}.manifest.json`), 'utf8')) as { parameters: { blockSize?: number; calibration?: unknown } };
  assert.equal(manifest('int4-weight').parameters.blockSize, 16);
  assert.deepEqual(manifest('int8-static').parameters.calibration, { corpus: 'built-in', seed: 1, sentences: 32, method: 'percentile', percentile: 99.9 });
  db.close();
});
