/**
 * One writer of test/fleet-store.test.ts's contention test, in its own process: `count` times, a job for
 * `device` and a claim of whatever is queued, on the shared SQLite file; prints the claimed job ids as JSON.
 * Usage: node --import tsx test/helpers/store-contention.ts <file> <tag> <device> <count>
 */
import { SqliteStore } from '../../coordinator/store/sqlite-store.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';

const [file, tag, device, count] = process.argv.slice(2);
const store = new SqliteStore(file);
const plan = { models: [{ name: 'm' }], variants: ['fp32'], probes: ['benchmark'] } as unknown as JobPlan;
const claimed: string[] = [];
for (let i = 0; i < Number(count); i++) {
  store.createJob({ jobId: `${tag}-${i}`, plan, devices: [device], timeoutS: 60, maxAttempts: 1 }, Date.now());
  for (const d of store.claimDispatches(Date.now())) claimed.push(d.jobId);
}
store.close();
process.stdout.write(JSON.stringify(claimed));
