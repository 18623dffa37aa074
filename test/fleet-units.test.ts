import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadAgentConfig, type AgentAllowList } from '../agent/config/agent-config.ts';
import { checkPlan } from '../agent/jobs/plan-check.ts';
import { attentionContract } from '../probes/attention/contract.ts';
import { benchmarkContract } from '../probes/benchmark/contract.ts';
import { divergenceContract } from '../probes/divergence/contract.ts';
import { checkPlanProbes, probeKinds, probeSettings } from '../probes/index.ts';
import type { JobPlan } from '../core/protocol/plan.ts';
import { compressionProvider } from '../agent/jobs/variant-provider.ts';
import { JobStore } from '../agent/state/job-store.ts';
import { Outbox } from '../agent/state/outbox.ts';
import { openStateDb } from '../agent/state/state-db.ts';
import { RandomProjection } from '../core/numeric/random-projection.ts';
import { elementwiseMedian } from '../core/numeric/vectors.ts';
import { decodeMessage, encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { MAX_MESSAGE_BYTES } from '../core/protocol/messages.ts';
import { deviceTopic, parseTopic } from '../core/protocol/topics.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { crossDeviceConsistency } from '../coordinator/report/consistency.ts';
import type { ErrorCode } from '../core/errors.ts';
import { assertCliError, coded } from './helpers/coded-errors.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-fleet-units-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const SHA = 'a'.repeat(64);
const record = (): ProbeRecord => ({
  recordVersion: 2, probe: 'benchmark', model: { name: 'm', sha256: SHA }, variant: { name: 'fp32', sha256: SHA },
  verdict: { status: 'measured', summary: 's' }, durationS: 0.1, createdAt: new Date().toISOString(), data: {},
});

// what the agent does with a job message: the protocol's schema, then the probes' own settings schemas
const decoded = (plan: unknown): JobPlan | null => {
  const d = decodeMessage(deviceTopic('pi-01', 'jobs'), JSON.stringify(makeMessage('pi-01', 1, 'job', { jobId: 'j1', attempt: 1, plan } as never)));
  if (!d.ok) return null;
  const c = checkPlanProbes((d.message.payload as { plan: JobPlan }).plan);
  return c.ok ? c.value : null;
};
const job = (plan: unknown): boolean => decoded(plan) !== null;

describe('protocol', () => {
  test('topics round-trip and refuse ids that could escape a device subtree', () => {
    assert.equal(deviceTopic('pi-01', 'results'), 'edgeprobe/v1/devices/pi-01/results');
    assert.deepEqual(parseTopic('edgeprobe/v1/devices/pi-01/jobs'), { deviceId: 'pi-01', kind: 'jobs' });
    assert.equal(parseTopic('edgeprobe/v1/devices/pi-01/other'), undefined);
    assert.equal(parseTopic('edgeprobe/v2/devices/pi-01/results'), undefined);
    assert.throws(() => deviceTopic('a/+', 'results'));
    assert.throws(() => deviceTopic('x'.repeat(65), 'results'));
  });

  test('a valid message decodes to its typed payload', () => {
    const msg = makeMessage('pi-01', 7, 'results', { jobId: 'job-1', recordKey: 'm/fp32/benchmark/0', record: record() });
    const r = decodeMessage(deviceTopic('pi-01', 'results'), Buffer.from(encodeMessage(msg)));
    assert.ok(r.ok);
    assert.equal(r.message.seq, 7);
    assert.equal(r.message.type, 'results');
  });

  test('each kind of bad message is refused with its reason', () => {
    const topic = deviceTopic('pi-01', 'status');
    const ok = makeMessage('pi-01', 1, 'status', { state: 'online' });
    const reason = (t: string, raw: string): string => { const r = decodeMessage(t, raw); assert.ok(!r.ok); return r.reason; };
    assert.match(reason(topic, '{nope'), /malformed JSON/);
    assert.match(reason(topic, JSON.stringify({ ...ok, schemaVersion: 3 })), /unsupported schemaVersion 3/);
    assert.match(reason(topic, 'x'.repeat(MAX_MESSAGE_BYTES + 1)), /oversized/);
    assert.match(reason(topic, JSON.stringify({ ...ok, messageId: 'not-a-uuid' })), /envelope\/messageId/);
    assert.match(reason(deviceTopic('pi-02', 'status'), JSON.stringify(ok)), /does not match topic device pi-02/);
    assert.match(reason(deviceTopic('pi-01', 'results'), JSON.stringify(ok)), /status message is not allowed on the results topic/);
    assert.match(reason(topic, JSON.stringify({ ...ok, payload: { state: 'asleep' } })), /bad status payload/);
    assert.match(reason('other/topic', JSON.stringify(ok)), /not a protocol v1 topic/);
  });

  test('a job plan cannot smuggle a command or a path', () => {
    assert.ok(job({ models: [{ name: 'demo' }], variants: ['fp32'], probes: ['benchmark'] }));
    assert.ok(!job({ models: [{ name: 'demo' }], variants: ['fp32'], probes: ['benchmark'], command: 'sh -c x' }));
    assert.ok(!job({ models: [{ name: '../../etc/passwd' }], variants: ['fp32'], probes: ['benchmark'] }));
    assert.ok(!job({ models: [{ name: 'demo' }], variants: ['fp8'], probes: ['benchmark'] }));
  });

  test('plan probe blocks are validated; a first-version plan stays valid and keeps its meaning', () => {
    const base = { models: [{ name: 'demo' }], variants: ['fp32', 'int8-dynamic'], probes: ['benchmark', 'attention', 'compare'] };
    const old = { ...base, benchmark: { runs: 5, warmup: 1, batchSizes: [1, 2], cooldownMs: 10, sentences: ['a b c'] } };
    assert.ok(job(old));
    assert.ok(job({ ...base, seed: 3, benchmark: { seqLen: 64, minQueries: 10, minDurationS: 0.5 }, attention: { sentences: 20, seed: 2, sanityChecks: false }, compare: { sentences: 8, fillMaskItems: 0 } }));
    assert.ok(!job({ ...base, attention: { sentences: 1 } }), 'the attention probe needs two sentences');
    assert.ok(!job({ ...base, attention: { layers: 3 } }), 'unknown fields are refused');
    assert.ok(!job({ ...base, benchmark: { minDurationS: -1 } }));
    assert.ok(!job({ ...base, compare: { sentences: 0 } }), 'the old name of the divergence probe is checked as divergence');
    assert.ok(!job({ ...base, settings: { nosuchprobe: {} } }), 'a settings block of no probe');
    assert.ok(!job({ ...base, probes: ['nosuchprobe'] }), 'a probe nobody registered');
    assert.deepEqual(decoded(old)!.probes, ['benchmark', 'attention', 'divergence'], 'old probe names read as the current ones');
    const current = decoded({ ...base, settings: { attention: { sentences: 20 } } })!;
    assert.equal(probeSettings(attentionContract, current).sentences, 20, 'the settings block of the current plan format');
    // `runs: 5` meant exactly 5 timed runs: no minimum duration
    const settings = <R>(c: Parameters<typeof probeSettings<R>>[0], plan: unknown): R => probeSettings(c, decoded(plan)!);
    assert.deepEqual(settings(benchmarkContract, old), { seqLen: 128, warmup: 1, minQueries: 5, minDurationS: 0, batchSizes: [1, 2], cooldownMs: 10, sentences: ['a b c'] });
    assert.deepEqual(settings(benchmarkContract, base), { seqLen: 128, warmup: 5, minQueries: 100, minDurationS: 5, batchSizes: [8], cooldownMs: 0, sentences: undefined }, 'the defaults of edgeprobe bench');
    assert.equal(settings(benchmarkContract, { ...base, settings: { benchmark: { threads: 1 } } }).threads, 1, 'onnxruntime threads, when the plan pins them');
    assert.ok(!job({ ...base, settings: { benchmark: { threads: 0 } } }));
    assert.deepEqual(settings(attentionContract, { ...base, seed: 3 }), { sentences: 200, seed: 3, sanityChecks: true }, 'the plan seed is the default seed');
    assert.deepEqual(settings(divergenceContract, { ...base, seed: 3, compare: { seed: 4 } }), { sentences: 64, seed: 4, fillMaskItems: 200 });
  });

  test('the agent runs the benchmark, attention, divergence, induction and properties probes', () => {
    assert.deepEqual(probeKinds().sort(), ['attention', 'benchmark', 'divergence', 'induction', 'properties']);
  });
});

describe('agent', () => {
  const config: AgentAllowList = { models: [{ name: 'demo', generated: 'demo', sha256: SHA }], probes: ['benchmark'] };

  test('plans are checked against the config: model, sha256 pin, variant, probe', () => {
    const base = { models: [{ name: 'demo' }], variants: ['fp32' as const], probes: ['benchmark' as const] };
    const fp32Only: AgentAllowList = { ...config, variants: ['fp32'] };
    assert.deepEqual(checkPlan(base, fp32Only, compressionProvider), { ok: true });
    assert.deepEqual(checkPlan({ ...base, variants: ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'] }, config, compressionProvider), { ok: true }, 'every variant by default');
    const reason = (p: typeof base): string => { const r = checkPlan(p, fp32Only, compressionProvider); assert.ok(!r.ok); return r.reason; };
    assert.match(reason({ ...base, models: [{ name: 'other' }] }), /model other is not allowed/);
    assert.match(reason({ ...base, models: [{ name: 'demo', sha256: 'b'.repeat(64) } as never] }), /pins sha256 b+ but this agent's config allows a+/);
    assert.match(reason({ ...base, variants: ['fp16' as never] }), /variant fp16 is not available/);
    assert.match(reason({ ...base, probes: ['attention' as never] }), /probe attention is not allowed/);
  });

  test('the outbox keeps messages until acknowledged and numbers them in order across reopen', () => {
    const dir = join(tmp, 'agent-state');
    let db = openStateDb(dir);
    let outbox = new Outbox(db, 'pi-01');
    const jobs = new JobStore(db);
    jobs.insert('j1', 1, { models: [{ name: 'demo' }], variants: ['fp32'], probes: ['benchmark'] }, 'running');
    const a = outbox.enqueue(deviceTopic('pi-01', 'results'), 'results', { jobId: 'j1', recordKey: 'k0', record: record() }, () => jobs.markRecord('j1', 'k0'));
    const b = outbox.enqueue(deviceTopic('pi-01', 'progress'), 'progress', { jobId: 'j1', attempt: 1, state: 'running', done: 1, total: 2 });
    assert.ok(b.seq > a.seq);
    // a failing side effect rolls the message back with it
    assert.throws(() => outbox.enqueue(deviceTopic('pi-01', 'results'), 'results', { jobId: 'j1', recordKey: 'k0', record: record() }, () => jobs.markRecord('j1', 'k0')));
    assert.equal(outbox.count(), 2);
    const rows = outbox.pending(0, 10);
    outbox.acknowledge(rows[0].id);
    db.close();
    db = openStateDb(dir); // "restart"
    outbox = new Outbox(db, 'pi-01');
    assert.deepEqual(outbox.pending(0, 10).map((r) => r.messageId), [b.messageId]);
    assert.ok(outbox.nextSeq() > b.seq, 'sequence numbers keep increasing after a restart');
    assert.deepEqual(new JobStore(db).unfinished().map((j) => j.jobId), ['j1']);
    db.close();
  });

  test('a bad agent config is a coded error naming the file and field', () => {
    const path = join(tmp, 'agent.json');
    writeFileSync(path, JSON.stringify({ configVersion: 1, models: [{ name: 'x', path: 'models/x' }], probes: ['benchmark'] }));
    assert.throws(() => loadAgentConfig(path), coded('EP_CONFIG_FIELD_INVALID', { file: path, field: 'models[0]' }));
    writeFileSync(path, JSON.stringify({ configVersion: 1, models: [{ name: 'x', url: 'https://h/m.onnx', sha256: SHA, files: [{ name: 'tokenizer.json', url: 'https://h/t.json', sha256: SHA }] }], probes: ['benchmark'] }));
    assert.equal(loadAgentConfig(path).value.models.length, 1, 'a URL model with pinned files is accepted');
    assert.throws(() => loadAgentConfig(join(tmp, 'missing.json')), coded('EP_CONFIG_NOT_FOUND', { file: join(tmp, 'missing.json') }));
  });
});

// the coordinator store's tests run against both engines: test/fleet-store.test.ts

describe('cross-device consistency and its kernels', () => {
  test('elementwise median: odd and even counts by hand', () => {
    assert.deepEqual([...elementwiseMedian([[1, 10], [3, 30], [2, 20]])], [2, 20]);
    assert.deepEqual([...elementwiseMedian([[1, 0], [3, 4]])], [2, 2]);
  });

  test('random projection is linear, seeded, and keeps lengths in expectation', () => {
    const p = new RandomProjection(64, 32, 5);
    const q = new RandomProjection(64, 32, 5);
    const a = Array.from({ length: 64 }, (_, i) => Math.sin(i));
    const b = Array.from({ length: 64 }, (_, i) => Math.cos(3 * i));
    assert.deepEqual(p.project(a), q.project(a), 'same seed, same fingerprint on every device');
    const sum = p.project(a.map((x, i) => x + 2 * b[i]));
    const lin = p.project(a).map((x, i) => x + 2 * p.project(b)[i]);
    sum.forEach((x, i) => assert.ok(Math.abs(x - lin[i]) < 1e-9));
    // E[|Pv|^2] = |v|^2: averaged over 200 seeds the ratio is within a few percent of 1
    let ratio = 0;
    for (let s = 0; s < 200; s++) ratio += new RandomProjection(64, 32, s).project(a).reduce((t, x) => t + x * x, 0) / a.reduce((t, x) => t + x * x, 0);
    assert.ok(Math.abs(ratio / 200 - 1) < 0.05, `mean ratio ${ratio / 200}`);
  });

  test('a planted deviation on one of three devices is flagged with the tolerance used', () => {
    const base = [[1, 2, 3, 4], [2, 0, 1, 1]];
    const off = base.map((v) => v.map((x) => x * 1.01)); // 1% relative drift
    const r = crossDeviceConsistency([
      { deviceId: 'a', vectors: base, exactSha256: 'x' },
      { deviceId: 'b', vectors: base, exactSha256: 'x' },
      { deviceId: 'c', vectors: off, exactSha256: 'y' },
    ], 1e-3);
    assert.equal(r.identical, false);
    assert.deepEqual(r.outliers, ['c']);
    assert.equal(r.tolerance, 1e-3);
    // median = base, so c's relative L2 is exactly 0.01
    assert.ok(Math.abs(r.drift.find((d) => d.deviceId === 'c')!.relL2 - 0.01) < 1e-12);
    assert.equal(r.drift.find((d) => d.deviceId === 'a')!.relL2, 0);
    const loose = crossDeviceConsistency([{ deviceId: 'a', vectors: base, exactSha256: 'x' }, { deviceId: 'c', vectors: off, exactSha256: 'y' }], 0.1);
    assert.deepEqual(loose.outliers, [], 'within a looser tolerance nothing is flagged');
    const two = crossDeviceConsistency([{ deviceId: 'a', vectors: base, exactSha256: 'x' }, { deviceId: 'c', vectors: off, exactSha256: 'y' }], 1e-3);
    assert.deepEqual(two.outliers, ['a', 'c']);
    assert.match(two.note ?? '', /third device/);
  });
});

describe('fleet CLI user errors', () => {
  test('bad flags and unknown devices end in error + fix lines, exit 2, no stack trace', async () => {
    const { runCli } = await import('./helpers/run-cli.ts');
    const db = join(tmp, 'cli.sqlite');
    const cases: Array<[string[], ErrorCode, RegExp]> = [
      [['agent', '--broker', 'http://x', '--device-id', 'a'], 'EP_BROKER_URL_INVALID', /http:\/\/x/],
      [['agent', '--broker', 'mqtt://x', '--device-id', 'a/b'], 'EP_AGENT_DEVICE_ID_INVALID', /--device-id "a\/b"/],
      [['agent', '--broker', 'mqtt://x', '--device-id', 'a', '--config', join(tmp, 'nope.json')], 'EP_CONFIG_NOT_FOUND', /agent config not found/],
      [['jobs', 'submit', '--devices', 'pi-9', '--plan', 'configs/plan.example.json', '--db', db], 'EP_JOB_DEVICE_UNREGISTERED', /pi-9/],
      [['jobs', 'submit', '--devices', 'pi-9', '--plan', join(tmp, 'nope.json'), '--db', db], 'EP_PLAN_NOT_FOUND', /nope\.json/],
    ];
    for (const [args, code, names] of cases) assertCliError(runCli(args), code, names);
  });
});
