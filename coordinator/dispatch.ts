import type { MqttClient } from 'mqtt';
import type { DaemonLog } from '../core/daemon-log.ts';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import type { JobPolicyConfig } from './config/coordinator-config.ts';
import { checkPlanPolicy } from './security/plan-policy.ts';
import type { FleetStore } from './store/store.ts';

/**
 * Sends queued job targets to online devices (QoS 1 on the device's jobs topic) and turns silent ones
 * back into queued (retry) or timed-out. Claiming is atomic in the store, so several dispatchers
 * (the coordinator and `jobs submit --broker`) never send one attempt twice.
 */
export async function dispatchQueued(store: FleetStore, client: MqttClient, log: DaemonLog, policy?: JobPolicyConfig): Promise<number> {
  const { retried, timedOut } = await store.expireSilent(Date.now());
  if (retried > 0) log.warn('jobs silent past their timeout, retrying', { targets: retried });
  if (timedOut > 0) log.warn('jobs timed out after their last attempt', { targets: timedOut });
  const due = await store.claimDispatches(Date.now());
  let sent = 0;
  for (const d of due) {
    // `jobs submit` checks the policy when given the config; this check holds whatever wrote the job
    const allowed = policy ? checkPlanPolicy(policy, d.plan) : { ok: true as const };
    if (!allowed.ok) {
      await store.refuseDispatch(d.jobId, d.deviceId, `job plan refused by the coordinator's policy: ${allowed.reason}`, Date.now());
      log.warn('job plan refused by policy, not sent', { job: d.jobId, device: d.deviceId, code: allowed.code, reason: allowed.reason });
      continue;
    }
    const msg = makeMessage(d.deviceId, d.seq, 'job', { jobId: d.jobId, attempt: d.attempt, plan: d.plan });
    await client.publishAsync(deviceTopic(d.deviceId, 'jobs'), encodeMessage(msg), { qos: 1 });
    log.info('job dispatched', { job: d.jobId, device: d.deviceId, attempt: d.attempt });
    sent++;
  }
  return sent;
}

/** Tells every device still working on the job to stop; the agent answers with a `cancelled` progress message. */
export async function cancelJob(store: FleetStore, client: MqttClient, jobId: string, log: DaemonLog): Promise<string[]> {
  const targets = await store.cancelJob(jobId, Date.now());
  for (const t of targets) {
    await client.publishAsync(deviceTopic(t.deviceId, 'jobs'), encodeMessage(makeMessage(t.deviceId, t.seq, 'job-cancel', { jobId })), { qos: 1 });
    log.info('job cancel sent', { job: jobId, device: t.deviceId });
  }
  return targets.map((t) => t.deviceId);
}
