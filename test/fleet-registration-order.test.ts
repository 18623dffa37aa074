/**
 * Results queued before the coordinator knows the device (shipped broker config, real processes): an agent
 * whose outbox holds 50 results connects to a coordinator with a NEW database that admits it by allow-list.
 * The agent holds its results until the coordinator's registration receipt, so none is refused as coming
 * from an unknown device; and a result that is refused anyway (sent before the receipt timeout to a
 * coordinator that was down) stays in the outbox and is sent again. All 50 are stored, the outbox ends empty.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CliProcess, killAllCliProcesses, waitUntil } from '../harness/cli-processes.ts';
import { fillOutbox, outboxRows } from './helpers/result-load.ts';
import { needsMosquitto, startSecureMosquitto, type SecureBroker } from './helpers/secure-mosquitto.ts';

describe('results queued before registration', { skip: needsMosquitto }, () => {
  let broker: SecureBroker;
  let work: string;
  const count = (db: string, sql: string): number => {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare(sql).get() as { n: number }).n;
    } finally {
      d.close();
    }
  };
  const coordinatorConfig = (name: string): { cfg: string; db: string } => {
    const db = join(work, `${name}.sqlite`);
    const cfg = join(work, `${name}.json`);
    writeFileSync(cfg, JSON.stringify({
      configVersion: 1,
      broker: { url: `mqtt://127.0.0.1:${broker.plainPort}`, passwordFile: broker.passwordFiles.coordinator },
      db,
      admission: { allowDevices: ['late-a'] },
      policy: { models: [{ name: 'sim-model', sha256: '5'.repeat(64) }], probes: ['benchmark'], variants: ['fp32'] },
    }));
    return { cfg, db };
  };

  before(async () => {
    broker = await startSecureMosquitto(['coordinator', 'late-a']);
    work = mkdtempSync(join(tmpdir(), 'edgeprobe-registration-order-'));
  });
  after(async () => {
    await killAllCliProcesses();
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('an agent with 50 pending results meets a coordinator with a new database: all 50 stored', { timeout: 90_000 }, async () => {
    const dataDir = join(work, 'late-a');
    const sent = await fillOutbox(join(dataDir, 'state'), 'late-a', 50);
    const agentCfg = join(work, 'late-a.json');
    writeFileSync(agentCfg, JSON.stringify({
      configVersion: 1, deviceId: 'late-a', dataDir, receiptTimeoutS: 4, models: [{ name: 'tiny', generated: 'tiny' }], probes: ['benchmark'],
      broker: { url: `mqtt://127.0.0.1:${broker.plainPort}`, passwordFile: broker.passwordFiles['late-a'] },
    }));
    // the coordinator starts first, on a database that has never seen the device
    const { cfg, db } = coordinatorConfig('fresh');
    const coordinator = new CliProcess('coordinator', ['coordinator', '--config', cfg, '--load-test']);
    await coordinator.waitFor(/coordinator listening/);
    const agent = new CliProcess('late-a', ['agent', '--config', agentCfg]);
    await waitUntil(() => count(db, 'SELECT COUNT(*) AS n FROM results') >= 50, 30_000, '50 results stored');
    assert.equal(count(db, 'SELECT COUNT(*) AS n FROM results'), 50);
    assert.equal(count(db, "SELECT COUNT(*) AS n FROM rejected_messages WHERE reason LIKE 'not-registered%'"), 0, 'no result overtook the registration');
    const stored = new Set((new Database(db, { readonly: true }).prepare('SELECT message_id AS id FROM results').all() as Array<{ id: string }>).map((r) => r.id));
    assert.deepEqual(sent.filter((id) => !stored.has(id)), []);
    await waitUntil(() => /connected/.test(agent.output), 1000, 'agent');
    await agent.kill('SIGTERM');
    assert.equal(await outboxRows(join(dataDir, 'state')), 0, 'receipts emptied the outbox');

    // a second batch while no coordinator runs: the agent waits for a receipt, gives up after the timeout,
    // and the results it sent in vain (nobody stored them) are sent again once a coordinator with a new
    // database is up and has registered the device
    await coordinator.kill('SIGTERM');
    const later = await fillOutbox(join(dataDir, 'state'), 'late-a', 20, 'later');
    const agent2 = new CliProcess('late-a-2', ['agent', '--config', agentCfg]);
    await agent2.waitFor(/no registration receipt from the coordinator yet/, 20_000);
    const second = coordinatorConfig('second');
    const coordinator2 = new CliProcess('coordinator-2', ['coordinator', '--config', second.cfg, '--load-test']);
    await coordinator2.waitFor(/coordinator listening/);
    await waitUntil(() => { try { return count(second.db, 'SELECT COUNT(*) AS n FROM results') >= 20; } catch { return false; } }, 40_000, '20 later results stored by the second coordinator');
    const stored2 = new Set((new Database(second.db, { readonly: true }).prepare('SELECT message_id AS id FROM results').all() as Array<{ id: string }>).map((r) => r.id));
    assert.deepEqual(later.filter((id) => !stored2.has(id)), [], 'every result queued while no coordinator ran is stored');
    await agent2.kill('SIGTERM');
    assert.equal(await outboxRows(join(dataDir, 'state')), 0);
  });
});
