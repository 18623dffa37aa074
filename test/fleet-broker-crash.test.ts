/**
 * Broker crashes with the SHIPPED Mosquitto config: two real agent processes deliver a backlog of results
 * (their outboxes filled as after an outage) to a real coordinator process (SQLite) while Mosquitto is
 * SIGKILLed at random moments and restarted from its persistence file. Mosquitto 2.0 saves a snapshot
 * every autosave_interval, so it can lose messages it acknowledged just before a crash; the agents keep
 * each result until the coordinator's receipt and send it again, so every result is stored exactly once
 * and every outbox ends empty.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { fillOutbox, outboxRows } from './helpers/result-load.ts';
import { needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';

const DEVICES = ['crash-a', 'crash-b'];
const PER_DEVICE = 2500;
const CRASHES = 3;

describe('broker SIGKILL with the shipped config', { skip: needsMosquitto }, () => {
  let broker: SecureBroker;
  let work: string;
  let dbPath: string;
  let coordinator: CliProcess;
  const seed = Number(process.env.EDGEPROBE_TEST_SEED ?? Date.now() % 100_000);
  const rng = new SeededRandom(seed);
  const stored = (): string[] => {
    const d = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare('SELECT message_id AS id FROM results').all() as Array<{ id: string }>).map((r) => r.id);
    } finally {
      d.close();
    }
  };

  before(async () => {
    broker = await startSecureMosquitto(['coordinator', ...DEVICES]);
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-broker-crash-'));
    dbPath = join(work, 'coordinator.sqlite');
    const cfg = join(work, 'coordinator.json');
    writeFileSync(cfg, JSON.stringify({
      configVersion: 1,
      broker: { url: `mqtt://127.0.0.1:${broker.plainPort}`, passwordFile: broker.passwordFiles.coordinator },
      db: dbPath,
      admission: { allowDevices: DEVICES },
      policy: { models: [{ name: 'sim-model', sha256: '5'.repeat(64) }], probes: ['benchmark'], variants: ['fp32'] },
    }));
    coordinator = new CliProcess('coordinator', ['coordinator', '--config', cfg, '--load-test']);
    await coordinator.waitFor(/coordinator listening/);
  });
  after(async () => {
    await killAllCliProcesses();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test(`${CRASHES} broker crashes while agents deliver ${DEVICES.length * PER_DEVICE} results: all stored once, outboxes empty`, { timeout: 150_000 }, async () => {
    const sent = new Set<string>();
    const agents: CliProcess[] = [];
    for (const id of DEVICES) {
      const dataDir = join(work, id);
      for (const m of await fillOutbox(join(dataDir, 'state'), id, PER_DEVICE)) sent.add(m);
      const cfg = join(work, `${id}.json`);
      writeFileSync(cfg, JSON.stringify({
        configVersion: 1, deviceId: id, dataDir, receiptTimeoutS: 5, heartbeatIntervalS: 5, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'],
        broker: { url: `mqtt://127.0.0.1:${broker.plainPort}`, passwordFile: broker.passwordFiles[id] },
      }));
      agents.push(new CliProcess(id, ['agent', '--config', cfg]));
    }
    await Promise.all(agents.map((a) => a.waitFor(/connected/)));
    const moments: number[] = [];
    for (let k = 0; k < CRASHES; k++) {
      const before = stored().length;
      await waitUntil(() => stored().length > before + 50, 30_000, 'delivery to flow');
      const delay = rng.int(800);
      await new Promise((r) => setTimeout(r, delay));
      moments.push(delay);
      await broker.crash(200 + rng.int(500));
    }
    await waitUntil(() => stored().length >= sent.size, 90_000, `${sent.size} results stored`).catch(() => undefined);
    const rows = stored();
    const have = new Set(rows);
    const lost = [...sent].filter((id) => !have.has(id)).length;
    assert.equal(lost, 0, `seed ${seed}: ${lost} of ${sent.size} results lost (crashes after ${moments.join(', ')} ms)`);
    assert.equal(have.size, rows.length, 'none stored twice');
    assert.equal(rows.length, sent.size);
    // the last commits' receipts are still on their way when the rows appear: give them time to arrive
    // (receiptTimeoutS is 5 s here, so an agent resends and is answered within that) before the agents stop
    for (const id of DEVICES) {
      const until = Date.now() + 30_000;
      while (Date.now() < until && (await outboxRows(join(work, id, 'state'))) > 0) await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(agents.map((a) => a.kill('SIGTERM')));
    for (const id of DEVICES) assert.equal(await outboxRows(join(work, id, 'state')), 0, `${id}: every result confirmed and deleted from the outbox`);
    assert.ok(coordinator.alive, 'the coordinator rode out the crashes');
    const resent = agents.map((a) => (a.output.match(/sending them again count=(\d+)/g) ?? []).length);
    console.log(`# seed ${seed}: ${sent.size} results stored once over ${CRASHES} broker SIGKILLs (after ${moments.join(', ')} ms); resend rounds per agent: ${resent.join(', ')}`);
  });
});
