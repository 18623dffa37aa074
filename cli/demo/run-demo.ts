import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { Agent } from '../../agent/agent.ts';
import { resolveAgentSettings } from '../../agent/config/agent-config.ts';
import { resolveCoordinatorSettings } from '../../coordinator/config/coordinator-config.ts';
import { createDaemonLog } from '../../core/daemon-log.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { Progress } from '../../core/progress.ts';
import { ensureGeneratedModel } from '../../models/generated-models.ts';
import { Coordinator } from '../../coordinator/coordinator.ts';
import { buildFleetReport, type FleetReport } from '../../coordinator/report/fleet-report.ts';
import { openStore } from '../../coordinator/store/sqlite-store.ts';
import { FINAL_TARGET_STATES, type JobTargetRow } from '../../coordinator/store/store.ts';
import { submitJob } from '../../coordinator/submit-job.ts';
import { waitWhileAdvancing } from './wait-while-advancing.ts';

export const DEMO_DEVICES = ['demo-device-a', 'demo-device-b'];

/**
 * Every variant through the benchmark, the attention probe and divergence, sized to finish in well under
 * a minute on a 2-core machine with both agents sharing it (docs/fleet.md has the measured time); a
 * slower device takes longer, and the demo waits for it as long as the job advances.
 */
export const DEMO_PLAN: JobPlan = {
  models: [{ name: 'demo' }],
  variants: ['fp32', 'fp16', 'int8-dynamic'],
  probes: ['benchmark', 'attention', 'divergence'],
  seed: 1,
  settings: {
    benchmark: { seqLen: 32, warmup: 2, minQueries: 20, minDurationS: 0, batchSizes: [4] },
    attention: { sentences: 16 },
    divergence: { sentences: 16 },
  },
};

export interface DemoResult { report: FleetReport; targets: JobTargetRow[]; broker: string; seconds: number }

export interface DemoOptions {
  /** seconds without any progress (an item, a record, a note from a probe) before the demo gives up */
  stallS?: number;
}

/**
 * The whole fleet in one process on loopback: an embedded aedes broker, the coordinator with a SQLite
 * file in a temp dir, two agents with their own state dirs, one plan, the comparison. Everything is
 * torn down at the end, also on failure. No wall-clock deadline: every wait lasts as long as its work advances.
 */
export async function runDemo(progress: Progress, opts: DemoOptions = {}): Promise<DemoResult> {
  const stallMs = (opts.stallS ?? 300) * 1000;
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'edgeprobe-demo-'));
  const quiet = createDaemonLog('demo', false, () => {});
  progress.info('DEMO: a generated random-weight BERT model (models/generated/demo), an embedded MQTT broker and two agents on this machine.');
  ensureGeneratedModel('demo');

  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const store = openStore(join(work, 'fleet.sqlite'));
  // No config files: an embedded broker on loopback, so open admission applies; the agents allow the demo
  // model and the plan's probes. aedes speaks MQTT 3.1.1 only (the settings default to MQTT 5) and has no passwords.
  const env = {};
  const v311 = <T extends { mqtt: object }>(s: T): T => ({ ...s, mqtt: { ...s.mqtt, protocolVersion: 4 } });
  const coordinator = new Coordinator({ settings: v311(resolveCoordinatorSettings({ broker: url, db: join(work, 'fleet.sqlite') }, env)), store, log: quiet, dispatchIntervalMs: 250 });
  const agents = DEMO_DEVICES.map((deviceId) => {
    const settings = v311(resolveAgentSettings({ broker: url, deviceId, stateDir: join(work, deviceId) }, env));
    return new Agent({ settings: { ...settings, heartbeatIntervalS: 5, allow: { ...settings.allow, probes: [...DEMO_PLAN.probes] } }, log: quiet });
  });
  try {
    await coordinator.start();
    progress.info(`broker ${url}; coordinator store ${join(work, 'fleet.sqlite')}`);
    for (const a of agents) await a.start();
    await waitWhileAdvancing({
      what: 'both demo agents to register', stallMs,
      look: () => {
        const online = store.devices().filter((d) => d.online).map((d) => d.deviceId);
        return { finished: online.length === agents.length, fingerprint: online.join(','), status: `${online.length} of ${agents.length} agents registered` };
      },
    });
    const plan = DEMO_PLAN;
    const jobId = await submitJob(store, DEMO_DEVICES, plan, { timeoutS: 60, maxAttempts: 2 });
    coordinator.dispatchSoon();
    progress.info(`submitted ${jobId}: models ${plan.models.map((m) => m.name).join(',')} x variants ${plan.variants.join(',')} x probes ${plan.probes.join(',')}`);
    progress.info(`waiting for the demo job on both devices as long as its items advance (gives up after ${stallMs / 1000} s without progress)`);
    await waitWhileAdvancing({
      what: 'the demo job to finish on both devices', stallMs,
      look: () => {
        const t = store.jobTargets(jobId);
        const done = t.reduce((n, x) => n + x.done, 0);
        const total = Math.max(1, t.reduce((n, x) => n + x.total, 0));
        // items (model x variant x probe) done over both devices: the job's progress, not just its end
        progress.step('demo job items', done, total);
        return {
          finished: t.every((x) => FINAL_TARGET_STATES.includes(x.state)),
          // a probe's notes change a target's detail within an item, and every record adds to the results
          fingerprint: JSON.stringify([t.map((x) => [x.state, x.done, x.detail]), store.counts().results]),
          status: t.map((x) => `${x.deviceId} ${x.state} ${x.done}/${x.total}${x.detail ? ` (${x.detail})` : ''}`).join('; '),
        };
      },
      report: (status, idleMs) => { if (idleMs >= 30_000) progress.info(`still waiting for the demo job, ${Math.round(idleMs / 1000)} s since its last progress: ${status}`); },
    });
    await waitWhileAdvancing({
      what: 'the agents\' outboxes to drain', stallMs,
      look: () => {
        const pending = agents.map((a) => a.pendingMessages());
        return { finished: pending.every((n) => n === 0), fingerprint: pending.join(','), status: `${pending.reduce((a, b) => a + b, 0)} messages not yet acknowledged by the broker` };
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    const report = buildFleetReport(store.results(), store.devices());
    return { report, targets: store.jobTargets(jobId), broker: url, seconds: (Date.now() - started) / 1000 };
  } finally {
    for (const a of agents) await a.stop().catch(() => undefined);
    await coordinator.stop().catch(() => undefined);
    await new Promise<void>((r) => broker.close(() => r()));
    server.close();
    rmSync(work, { recursive: true, force: true });
    progress.done();
  }
}
