/**
 * "A result the broker acknowledged is never lost", against the PostgreSQL store: real Mosquitto, real
 * PostgreSQL, a real coordinator process SIGKILLed at random moments while devices stream QoS 1 results,
 * and restarted each time (as a supervisor would); the last run stops it with SIGTERM instead (a graceful stop
 * mid-stream must acknowledge only what its last flush committed). Every result whose PUBACK reached a device must be
 * stored, exactly once. The seed is printed so a failing run can be repeated (EDGEPROBE_TEST_SEED).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { Mosquitto, needsMosquitto } from '../harness/mosquitto.ts';
import { needsPostgres, Postgres } from '../harness/postgres.ts';
import { ResultLoad } from './helpers/result-load.ts';

const RUNS = 3;
const t0 = Date.now();
const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const KILLS_PER_RUN = 2;

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('coordinator SIGKILL and SIGTERM on PostgreSQL', { skip: needsMosquitto || needsPostgres }, () => {
  let broker: Mosquitto;
  let server: Postgres;
  const seed = Number(process.env.EDGEPROBE_TEST_SEED ?? Date.now() % 100_000);
  const rng = new SeededRandom(seed);

  before(async () => {
    [broker, server] = await Promise.all([Mosquitto.start(), Postgres.start()]);
  });
  after(async () => {
    await killAllCliProcesses();
    await broker?.dispose();
    await server?.dispose();
  });

  for (let run = 0; run < RUNS; run++) {
    const signal = run === RUNS - 1 ? 'SIGTERM' : 'SIGKILL';
    test(`run ${run + 1}: ${KILLS_PER_RUN} ${signal}s mid-stream, every acknowledged result stored once`, { timeout: 90_000 }, async () => {
      const url = await server.createdb(`crash${run}`);
      const db = new pg.Pool({ connectionString: url, max: 1 });
      const count = async (): Promise<number> => Number((await db.query('SELECT COUNT(*) AS n FROM results')).rows[0].n);
      const start = (): CliProcess => new CliProcess(`coordinator-${run}`, ['coordinator', '--broker', broker.url, '--db', url, '--load-test']);
      let coordinator = start();
      await coordinator.waitFor(/coordinator listening/);
      const load = new ResultLoad(broker.url, [`crash${run}-a`, `crash${run}-b`, `crash${run}-c`], { inflight: 4, pauseMs: 25 });
      try {
        await load.connect();
        // earlier runs' devices are retained on the broker too: count this run's
        await waitFor(async () => Number((await db.query('SELECT COUNT(*) AS n FROM devices WHERE device_id LIKE $1', [`crash${run}-%`])).rows[0].n) === 3, 20_000, () => 'three devices registered');
        load.start();
        const kills: number[] = [];
        for (let k = 0; k < KILLS_PER_RUN; k++) {
          const stored = await count();
          await waitFor(async () => (await count()) > stored + 100, 30_000, () => 'the stream to flow');
          const delay = 100 + rng.int(1500); // a random moment inside a commit round, a collecting round or between
          await new Promise((r) => setTimeout(r, delay));
          kills.push(delay);
          await coordinator.kill(signal);
          await new Promise((r) => setTimeout(r, 200 + rng.int(800)));
          coordinator = start();
          await coordinator.waitFor(/coordinator listening/);
        }
        await new Promise((r) => setTimeout(r, 500));
        await load.stop();
        console.log(`# stopped load at ${at()}`);
        const acked = load.acked.size;
        // a timeout here is reported below as the acknowledged results that are missing
        await waitFor(async () => (await count()) >= acked, 30_000, () => '').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500)); // nothing extra arrives late
        const rows = (await db.query<{ message_id: string }>('SELECT message_id FROM results')).rows.map((r) => r.message_id);
        const lost = [...load.acked].filter((id) => !rows.includes(id));
        assert.equal(lost.length, 0, `seed ${seed}: ${lost.length} of ${acked} acknowledged results lost (${signal} after ${kills.join(', ')} ms)`);
        assert.equal(new Set(rows).size, rows.length, 'no message stored twice');
        assert.equal(rows.length, acked, `stored ${rows.length}, acknowledged ${acked}: nothing stored that was not sent`);
        console.log(`# seed ${seed} run ${run + 1}: ${acked} acknowledged, ${rows.length} stored, 0 lost, ${load.publishErrors} publish errors, ${signal} after ${kills.join(', ')} ms`);
      } finally {
        await load.close();
        await coordinator.kill('SIGTERM');
        await db.end();
      }
    });
  }
});
