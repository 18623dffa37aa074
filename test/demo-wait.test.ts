import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isEdgeprobeError } from '../core/errors.ts';
import { waitWhileAdvancing, type WorkSnapshot } from '../cli/demo/wait-while-advancing.ts';

/** A fake clock: each sleep advances it, so a "slow device" is simulated without waiting. */
function clock(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 0;
  return { now: () => t, sleep: async (ms) => { t += ms; } };
}

test('a slow job that keeps advancing is waited for far past the stall limit', async () => {
  const c = clock();
  let polls = 0;
  // one item every 50 s of fake time, 20 items: 1000 s in all against a 120 s stall limit
  const look = (): WorkSnapshot => {
    polls++;
    const done = Math.min(20, Math.floor(c.now() / 50_000));
    return { finished: done === 20, fingerprint: String(done), status: `${done}/20 items` };
  };
  const statuses: string[] = [];
  await waitWhileAdvancing({ what: 'the job', look, stallMs: 120_000, pollMs: 1000, report: (s) => statuses.push(s), ...c });
  assert.ok(c.now() >= 1_000_000, `waited ${c.now()} ms`);
  assert.ok(polls > 100);
  assert.equal(statuses[0], '0/20 items');
  assert.equal(statuses.at(-1), '20/20 items', 'every change of status is reported');
});

test('a job that stops advancing ends the wait after the stall limit, naming what and the last status', async () => {
  const c = clock();
  const look = (): WorkSnapshot => {
    const done = Math.min(3, Math.floor(c.now() / 10_000));
    return { finished: false, fingerprint: String(done), status: `device-a running ${done}/9` };
  };
  const idle: number[] = [];
  await assert.rejects(
    waitWhileAdvancing({ what: 'the demo job to finish', look, stallMs: 60_000, pollMs: 1000, reportEveryMs: 20_000, report: (_s, ms) => idle.push(ms), ...c }),
    (e: Error) => isEdgeprobeError(e) && e.code === 'EP_DEMO_STALLED' && /the demo job to finish: nothing advanced for 6\d s \(last: device-a running 3\/9\)/.test(e.message));
  // progress stopped at 30 s, so it gave up just after 90 s, not at 60 s from the start
  assert.ok(c.now() > 90_000 && c.now() <= 92_000, `gave up at ${c.now()} ms`);
  assert.ok(idle.some((ms) => ms >= 20_000), 'while idle it keeps saying what it waits for');
});

test('finished work returns at once', async () => {
  const c = clock();
  await waitWhileAdvancing({ what: 'x', look: () => ({ finished: true, fingerprint: '', status: 'done' }), stallMs: 1, ...c });
  assert.equal(c.now(), 0);
});
