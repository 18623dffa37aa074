/**
 * Scale-out acceptance: real Mosquitto, real PostgreSQL, three coordinator replicas (CLI processes)
 * sharing the device traffic through a shared subscription, and the device simulator. The replica
 * holding the dispatch lease is SIGKILLed mid-stream, after it dispatched two jobs: the duty passes to
 * another replica within the lease TTL, the job it dispatched still completes, the one to a silent
 * device still times out, and after the killed replica is restarted (as a supervisor would) every
 * result the broker acknowledged is stored exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import pg from 'pg';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { PostgresStore } from '../coordinator/store/postgres-store.ts';
import { submitJob } from '../coordinator/submit-job.ts';
import { CliProcess, killAllCliProcesses } from '../harness/cli-processes.ts';
import { Mosquitto, needsMosquitto } from '../harness/mosquitto.ts';
import { needsPostgres, Postgres } from '../harness/postgres.ts';
import { jsonResult, runCli } from './helpers/run-cli.ts';

const DEVICES = 200;
const LEASE_TTL_S = 5; // the coordinator's default lease
const DISPATCH_INTERVAL_S = 0.5;

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('coordinator replicas on PostgreSQL with shared subscriptions', { skip: needsMosquitto || needsPostgres }, () => {
  let broker: Mosquitto;
  let server: Postgres;
  let url: string;
  let db: pg.Pool;
  const replicas = new Map<string, CliProcess>();
  // a test's own MQTT clients: ended in after(), so a failed assertion cannot leave the file's process hanging
  const clients: mqtt.MqttClient[] = [];
  const startReplica = (id: string): CliProcess => {
    const p = new CliProcess(id, ['coordinator', '--broker', broker.url, '--db', url, '--replica-id', id, '--dispatch-interval', String(DISPATCH_INTERVAL_S), '--load-test']);
    replicas.set(id, p);
    return p;
  };
  const one = async (sql: string, params: unknown[] = []): Promise<number> => Number(Object.values((await db.query(sql, params)).rows[0])[0]);
  const targetState = async (jobId: string): Promise<string> => (await db.query<{ state: string }>('SELECT state FROM job_targets WHERE job_id = $1', [jobId])).rows[0]?.state ?? 'none';

  before(async () => {
    [broker, server] = await Promise.all([Mosquitto.start(), Postgres.start()]);
    url = await server.createdb('fleet');
    db = new pg.Pool({ connectionString: url, max: 2 });
    await Promise.all(['r1', 'r2', 'r3'].map((id) => startReplica(id).waitFor(/coordinator listening/)));
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await killAllCliProcesses();
    await db?.end();
    await broker?.dispose();
    await server?.dispose();
  });

  test('a replica dies mid-stream: duties pass on, jobs finish, every message is stored once', { timeout: 120_000 }, async () => {
    // a device that registers and stays online but never answers: its job must time out
    const silent = await mqtt.connectAsync(broker.url, { clientId: 'edgeprobe-agent-silent-1', username: 'silent-1' });
    clients.push(silent);
    const profile = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 1, memoryBytes: 1, nodeVersion: 'v20', agentVersion: 'test' };
    await silent.publishAsync(deviceTopic('silent-1', 'register'), encodeMessage(makeMessage('silent-1', 0, 'register', { profile, allowed: { models: [], probes: ['benchmark'] } })), { qos: 1, retain: true });

    const sim = new CliProcess('simulate', ['simulate', '--json', '--broker', broker.url, '--devices', String(DEVICES), '--rate', '150', '--heartbeat', '2', '--duration', '12', '--job-delay', '2500', '--bad-rate', '5']);
    await waitFor(async () => (await one('SELECT COUNT(*) FROM devices')) === DEVICES + 1, 30_000, 'all simulated devices registered');
    await waitFor(async () => (await one('SELECT COUNT(*) FROM results')) > 200, 20_000, 'the stream to flow');

    // two jobs, dispatched by the replica that holds the lease
    const store = await PostgresStore.open(url);
    const plan = { models: [{ name: 'sim-model' }], variants: ['fp32' as const, 'int8-dynamic' as const], probes: ['benchmark' as const] };
    const answered = await submitJob(store, ['sim-0', 'sim-1'], plan, { timeoutS: 30, maxAttempts: 1 });
    const unanswered = await submitJob(store, ['silent-1'], plan, { timeoutS: 3, maxAttempts: 1 });
    await store.close();
    await waitFor(async () => (await one("SELECT COUNT(*) FROM job_targets WHERE state <> 'queued'")) === 3, 10_000, 'both jobs dispatched');
    const owner = (await db.query<{ owner: string }>("SELECT owner FROM leases WHERE name = 'dispatch'")).rows[0].owner;
    const ownerId = owner.replace('edgeprobe-coordinator-', '');
    // a target is marked dispatched when it is claimed; the log line follows the broker's PUBACK of the job
    await waitFor(async () => new RegExp(`job dispatched.*${answered}`).test(replicas.get(ownerId)!.output), 10_000, 'the lease holder to log the dispatch');

    // SIGKILL the lease holder mid-stream
    const killedAt = Date.now();
    await replicas.get(ownerId)!.kill('SIGKILL');
    await waitFor(async () => (await db.query<{ owner: string }>("SELECT owner FROM leases WHERE name = 'dispatch'")).rows[0].owner !== owner, 15_000, 'another replica to take the lease');
    const takeoverS = (Date.now() - killedAt) / 1000;
    assert.ok(takeoverS <= LEASE_TTL_S + DISPATCH_INTERVAL_S + 1.5, `duty passed within the lease TTL + one dispatch round (took ${takeoverS.toFixed(1)} s)`);
    await waitFor(async () => (await targetState(unanswered)) === 'timed-out', 15_000, 'the silent device\'s job to time out (new owner)');

    // a supervisor restarts the dead replica under its id: the broker hands it the messages queued in its session
    await new Promise((r) => setTimeout(r, 1000));
    await startReplica(ownerId).waitFor(/coordinator listening/);
    await new Promise<void>((resolve) => { if (!sim.alive) resolve(); else sim.proc.once('exit', () => resolve()); });
    const stats = jsonResult<{ resultsAcked: number; badSent: number; publishErrors: number; jobsAnswered: number }>({ stdout: sim.output.split('\n').filter((l) => l.startsWith('{')).join('\n'), stderr: '', status: 0 });
    assert.equal(stats.publishErrors, 0);
    assert.equal(stats.jobsAnswered, 2);
    await waitFor(async () => (await one('SELECT COUNT(*) FROM results')) >= stats.resultsAcked, 30_000, `${stats.resultsAcked} results stored`);
    await new Promise((r) => setTimeout(r, 1000)); // nothing extra arrives late
    assert.equal(await one('SELECT COUNT(*) FROM results'), stats.resultsAcked, 'every acknowledged result stored exactly once');
    assert.equal(await one('SELECT COUNT(*) FROM results WHERE simulated = 0'), 0, 'simulator results are flagged simulated');
    assert.equal(await targetState(answered), 'completed');
    assert.equal(await one('SELECT COUNT(*) FROM job_targets WHERE job_id = $1 AND state = $2', [answered, 'completed']), 2);
    // none lost; a rejection is stored on arrival, so one delivered again after the kill can count twice
    const rejected = await one('SELECT COUNT(*) FROM rejected_messages');
    assert.ok(rejected >= stats.badSent && rejected <= stats.badSent + 20, `every bad message rejected and counted (${rejected} rows for ${stats.badSent} sent)`);
    const owners = new Set((await db.query<{ owner: string }>('SELECT owner FROM leases')).rows.map((r) => r.owner));
    assert.equal(owners.size, 1);
    // spread: every replica ingested part of the stream
    for (const [id, p] of replicas) if (id !== ownerId) assert.ok(p.alive, `${id} still running`);

    // any replica's store answers the report and the job list
    const report = runCli(['report', '--db', url, '--json']);
    assert.equal(report.status, 0, report.stderr);
    assert.ok(jsonResult<{ results: number }>(report).results >= stats.resultsAcked);
    const list = runCli(['jobs', 'list', '--db', url, '--job', answered, '--json']);
    assert.deepEqual(jsonResult<{ targets: Array<{ state: string }> }>(list).targets.map((t) => t.state), ['completed', 'completed']);
    console.log(`# takeover ${takeoverS.toFixed(1)} s; ${stats.resultsAcked} results, ${stats.badSent} bad messages`);
    await silent.endAsync();
  });
});
