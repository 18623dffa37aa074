import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { coordinatorSubscriptions, replicaSubscriptions } from '../core/protocol/topics.ts';
import { isPostgresUrl } from '../coordinator/store/open-store.ts';
import { runCli } from './helpers/run-cli.ts';

describe('scale-out: topics, store selection and CLI user errors', () => {
  test('replicas share every device kind but register, which stays a plain (retained-capable) subscription', () => {
    const subs = replicaSubscriptions('g1');
    assert.deepEqual(subs, [
      'edgeprobe/v1/devices/+/register',
      '$share/g1/edgeprobe/v1/devices/+/status',
      '$share/g1/edgeprobe/v1/devices/+/heartbeat',
      '$share/g1/edgeprobe/v1/devices/+/progress',
      '$share/g1/edgeprobe/v1/devices/+/results',
    ]);
    assert.deepEqual(subs.map((s) => s.replace(/^\$share\/g1\//, '')), coordinatorSubscriptions(), 'the same topics as a single coordinator');
  });

  test('--db selects the engine by URL scheme', () => {
    assert.equal(isPostgresUrl('postgres://u@h:5432/db'), true);
    assert.equal(isPostgresUrl('postgresql://h/db'), true);
    assert.equal(isPostgresUrl('fleet.sqlite'), false);
    assert.equal(isPostgresUrl('/var/lib/postgres/fleet.sqlite'), false);
  });

  test('bad simulate and replica flags are user errors, not stack traces', () => {
    const cases: Array<[string[], RegExp]> = [
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--devices', '0'], /--devices must be > 0/],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--prefix', 'bad/prefix'], /do not make valid device ids/],
      [['simulate', '--broker', 'http://x', '--devices', '2'], /not an MQTT URL/],
      [['simulate', '--broker', 'mqtt://127.0.0.1:1', '--rate', '-1'], /--rate must be >= 0/],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--db', 'x.sqlite', '--replica-id', 'r1'], /--replica-id needs a shared store/],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--db', 'postgres://u@127.0.0.1:1/x', '--replica-id', 'r 1'], /invalid --replica-id/],
      [['coordinator', '--broker', 'mqtt://127.0.0.1:1', '--heartbeat-retention-days', '0'], /--heartbeat-retention-days must be > 0/],
    ];
    for (const [args, pattern] of cases) {
      const run = runCli(args, { timeoutMs: 30_000 });
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
      assert.match(run.stderr, /fix: /);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
