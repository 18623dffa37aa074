import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteStore } from '../coordinator/store/sqlite-store.ts';
import { groupPattern, nextDue, ScheduleStore } from '../coordinator/monitoring/schedules.ts';
import { planWaves, rolloutFromFlags } from '../coordinator/rollouts/rollout-spec.ts';
import { assertCliError, coded } from './helpers/coded-errors.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'edgeprobe-schedules-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const profile = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v20', agentVersion: '0.1.0' };
const plan = { models: [{ name: 'm' }], variants: ['fp32' as const], probes: ['benchmark' as const] };
const H = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 12);

test('due times: an interval grid from its anchor (missed slots collapse to the next one); cron in UTC', () => {
  assert.equal(nextDue({ everyMs: 6 * H, cron: null }, T0, T0), T0 + 6 * H);
  // the coordinator was down for 20 h: the next slot is the first grid point after now, not four catch-ups
  assert.equal(nextDue({ everyMs: 6 * H, cron: null }, T0, T0 + 20 * H), T0 + 24 * H);
  assert.equal(nextDue({ everyMs: null, cron: '0 3 * * *' }, 0, T0), Date.UTC(2026, 11, 2, 3));
  assert.ok(groupPattern('pi-*').test('pi-07') && !groupPattern('pi-*').test('jetson-1') && groupPattern('pi-0?').test('pi-01'));
});

test('a run dispatches to idle online devices, skips offline and busy ones, catches them up once, and never runs a slot twice', async () => {
  const store = new SqliteStore(join(tmp, 'sched.sqlite'));
  try {
    for (const d of ['pi-1', 'pi-2', 'pi-3', 'jetson-1']) {
      store.registerDevice(d, { profile, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', T0);
      store.setOnline(d, d !== 'pi-3', T0);
    }
    store.createJob({ jobId: 'manual-1', plan, devices: ['pi-2'], timeoutS: 60, maxAttempts: 1 }, T0); // pi-2 is busy
    const ss = new ScheduleStore(store.sql());
    const s = await ss.add({ plan, target: { group: 'pi-*' }, everyHours: 6, timeoutS: 60, maxAttempts: 2 }, T0);
    assert.equal(s.nextRunAt, new Date(T0).toISOString(), 'an interval schedule runs first at once');

    const first = await ss.runDue(store, T0);
    assert.equal(first.jobs.length, 1);
    assert.deepEqual(store.jobTargets(first.jobs[0]).map((t) => t.deviceId), ['pi-1']);
    assert.deepEqual((await ss.runs()).map((r) => [r.deviceId, r.state]), [['pi-1', 'dispatched'], ['pi-2', 'skipped-busy'], ['pi-3', 'skipped-offline']]);
    assert.deepEqual((await ss.runDue(store, T0 + 1000)).jobs, [], 'the slot is taken: a second round (or replica) runs nothing');

    // pi-3 comes back: one catch-up job of its own; pi-2 is still busy
    store.setOnline('pi-3', true, T0 + H);
    const caught = await ss.runDue(store, T0 + H);
    assert.equal(caught.caughtUp, 1);
    assert.deepEqual(store.jobTargets(caught.jobs[0]).map((t) => t.deviceId), ['pi-3']);
    assert.equal((await ss.runDue(store, T0 + H + 1)).jobs.length, 0, 'caught up once');

    // next slot: pi-1's and pi-3's runs are still unfinished (busy), pi-2's old skip is superseded
    store.cancelJob('manual-1', T0 + 6 * H);
    const second = await ss.runDue(store, T0 + 6 * H);
    assert.deepEqual(store.jobTargets(second.jobs[0]).map((t) => t.deviceId), ['pi-2']);
    const states = (await ss.runs()).filter((r) => r.dueAt === new Date(T0).toISOString()).map((r) => [r.deviceId, r.state]);
    assert.deepEqual(states, [['pi-1', 'dispatched'], ['pi-2', 'superseded'], ['pi-3', 'caught-up']]);

    await ss.setState(s.scheduleId, 'paused');
    assert.deepEqual((await ss.runDue(store, T0 + 12 * H)).jobs, [], 'paused');
    await ss.remove(s.scheduleId);
    assert.deepEqual(await ss.list(), []);
    await assert.rejects(ss.remove(s.scheduleId), coded('EP_SCHEDULE_UNKNOWN'));
    await assert.rejects(ss.add({ plan, target: { group: 'pi-*' }, timeoutS: 60, maxAttempts: 1 }, T0), coded('EP_SCHEDULE_CADENCE'));
    await assert.rejects(ss.add({ plan, target: { group: 'pi-*' }, cron: 'every day', timeoutS: 60, maxAttempts: 1 }, T0), coded('EP_SCHEDULE_CRON_INVALID'));
    await assert.rejects(ss.add({ plan, target: {}, everyHours: 1, timeoutS: 60, maxAttempts: 1 }, T0), coded('EP_SCHEDULE_TARGET'));
  } finally {
    store.close();
  }
});

test('edgeprobe jobs schedule add | list | pause | remove, and alerts list', () => {
  const db = join(tmp, 'cli.sqlite');
  const planFile = join(tmp, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const added = jsonResult<{ schedule: { scheduleId: string; cron: string } }>(runCli(['jobs', 'schedule', 'add', '--plan', planFile, '--group', 'pi-*', '--cron', '0 3 * * *', '--db', db, '--json']));
  const id = added.schedule.scheduleId;
  assert.equal(added.schedule.cron, '0 3 * * *');
  const human = runCli(['jobs', 'schedule', 'list', '--db', db]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`${id}\\s+active\\s+0 3 \\* \\* \\*\\s+group pi-\\*`));
  assert.equal(runCli(['jobs', 'schedule', 'pause', id, '--db', db]).status, 0);
  assert.equal(jsonResult<{ schedules: Array<{ state: string }> }>(runCli(['jobs', 'schedule', 'list', '--db', db, '--json'])).schedules[0].state, 'paused');
  assert.equal(runCli(['jobs', 'schedule', 'remove', id, '--db', db]).status, 0);
  const bad = runCli(['jobs', 'schedule', 'add', '--plan', planFile, '--devices', 'a', '--every-hours', '0', '--db', db]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--every-hours 0 is not a positive number of hours/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, 'no stack trace for a user mistake');
  assert.match(runCli(['alerts', 'list', '--db', db]).stdout, /no alerts/);
  assert.match(runCli(['alerts', 'ack', '7', '--db', db]).stderr, /no open alert 7/);
});

test('rollout flags: waves by count or percentage in the order given; each bad flag its own coded error', () => {
  const spec = rolloutFromFlags({ 'rollout-first': '10%', 'rollout-wave': '3', 'rollout-interval': '30', 'rollout-max-failures': '25%' })!;
  assert.deepEqual(spec, { firstWave: '10%', waveSize: 3, intervalS: 30, maxFailureRate: 0.25 });
  // 10% of 12 is 1.2, rounded up: 2 canaries, then waves of 3 -> 2 + 3 + 3 + 3 + 1
  assert.deepEqual(planWaves(spec, 12), [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
  assert.deepEqual(planWaves({ ...spec, firstWave: 1, waveSize: '50%' }, 5), [0, 1, 1, 1, 2], '50% of 5 devices is 3 per wave');
  assert.deepEqual(planWaves({ ...spec, firstWave: 20 }, 3), [0, 0, 0], 'a first wave larger than the job is the whole job');
  assert.equal(rolloutFromFlags({}), undefined);
  assert.deepEqual(rolloutFromFlags({ 'rollout-first': 2 }), { firstWave: 2, waveSize: 2, intervalS: 60, maxFailureRate: 0.2 }, 'defaults');
  assert.equal(rolloutFromFlags({ 'rollout-first': 1, 'rollout-max-regressions': '0.1' })!.maxRegressionRate, 0.1);
  assert.throws(() => rolloutFromFlags({ 'rollout-wave': '2' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-wave', problem: /starts with --rollout-first/ }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': '0' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-first' }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': '150%' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-first', problem: /at most 100%/ }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': 'half' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-first' }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': 1, 'rollout-interval': '-5' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-interval' }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': 1, 'rollout-max-failures': '1.5' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-max-failures' }));
  assert.throws(() => rolloutFromFlags({ 'rollout-first': 1, 'rollout-max-regressions': '120%' }), coded('EP_ROLLOUT_FLAG_INVALID', { flag: 'rollout-max-regressions' }));
});

test('a scheduled run is rolled out in waves; jobs submit refuses a bad rollout flag before storing anything', async () => {
  const store = new SqliteStore(join(tmp, 'sched-rollout.sqlite'));
  try {
    for (const d of ['w-1', 'w-2', 'w-3']) {
      store.registerDevice(d, { profile, allowed: { models: [], probes: ['benchmark'] } }, 'allow-list', T0);
      store.setOnline(d, true, T0);
    }
    const ss = new ScheduleStore(store.sql());
    const s = await ss.add({ plan, target: { group: 'w-*' }, everyHours: 6, timeoutS: 60, maxAttempts: 1, rollout: { firstWave: 1, waveSize: 2, intervalS: 0, maxFailureRate: 0 } }, T0);
    assert.deepEqual((await ss.get(s.scheduleId))!.rollout, { firstWave: 1, waveSize: 2, intervalS: 0, maxFailureRate: 0 });
    const [job] = (await ss.runDue(store, T0)).jobs;
    assert.deepEqual(store.jobTargets(job).map((t) => [t.deviceId, t.wave, t.state]), [['w-1', 0, 'queued'], ['w-2', 1, 'held'], ['w-3', 1, 'held']]);
    assert.deepEqual(store.claimDispatches(T0).map((d) => d.deviceId), ['w-1'], 'only the first wave is sent');
  } finally {
    store.close();
  }
  const planFile = join(tmp, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const db = join(tmp, 'rollout-cli.sqlite');
  assertCliError(runCli(['jobs', 'submit', '--devices', 'a', '--plan', planFile, '--db', db, '--rollout-first', '5%', '--rollout-max-failures', 'many']), 'EP_ROLLOUT_FLAG_INVALID', /--rollout-max-failures "many"/);
  assertCliError(runCli(['jobs', 'schedule', 'add', '--devices', 'a', '--every-hours', '1', '--plan', planFile, '--db', db, '--rollout-wave', '2']), 'EP_ROLLOUT_FLAG_INVALID', /--rollout-first/);
});
