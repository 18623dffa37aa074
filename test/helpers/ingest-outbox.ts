import { join } from 'node:path';
import type { Outbox } from '../../agent/state/outbox.ts';
import { resolveCoordinatorSettings } from '../../coordinator/config/coordinator-config.ts';
import { Ingest } from '../../coordinator/ingest.ts';
import { SqliteStore } from '../../coordinator/store/sqlite-store.ts';
import type { DaemonLog } from '../../core/daemon-log.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import { encodeMessage, makeMessage } from '../../core/protocol/codec.ts';
import { deviceTopic } from '../../core/protocol/topics.ts';
import { probeKinds } from '../../probes/index.ts';

/**
 * What an agent queued, through the coordinator's real ingest into a real SQLite store in `dir`, in
 * process (no broker): the device registers first, then every outbox message in order.
 */
export async function ingestOutbox(outbox: Outbox, deviceId: string, dir: string, log: DaemonLog): Promise<{ store: SqliteStore; ingest: Ingest }> {
  const store = new SqliteStore(join(dir, 'fleet.sqlite'));
  const ingest = new Ingest(store, log, resolveCoordinatorSettings({ broker: 'mqtt://127.0.0.1:1883', db: ':memory:' }));
  const profile = { hostname: 'h', platform: 'linux', arch: 'arm64', cpuModel: 'c', cores: 4, memoryBytes: 1, nodeVersion: 'v22', agentVersion: '0.2.0' };
  await ingest.handle(deviceTopic(deviceId, 'register'), Buffer.from(encodeMessage(makeMessage(deviceId, 0, 'register', { profile, allowed: { models: [], probes: probeKinds() } }))));
  const rows = outbox.pending(0, 100_000);
  // the agent ran these jobs without a coordinator: create them, as `jobs submit` would have (ingest
  // stores results only for a job that targets their sender)
  const jobs = new Set(rows.filter((r) => r.topic.endsWith('/results')).map((r) => (JSON.parse(r.body) as { payload: { jobId: string } }).payload.jobId));
  for (const jobId of jobs) store.createJob({ jobId, plan: { models: [], variants: [], probes: [] } as unknown as JobPlan, devices: [deviceId], timeoutS: 600, maxAttempts: 1 }, Date.now());
  for (const row of rows) await ingest.handle(row.topic, Buffer.from(row.body));
  await ingest.flush();
  return { store, ingest };
}
