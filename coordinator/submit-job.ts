import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parse as parseYaml } from 'yaml';
import { epError } from '../core/errors.ts';
import { JobPlan, normalizePlan, planVariantsProblem } from '../core/protocol/plan.ts';
import { checkPlanProbes } from '../probes/index.ts';
import { isValidDeviceId } from '../core/protocol/topics.ts';
import type { JobPolicyConfig } from './config/coordinator-config.ts';
import { checkPlanPolicy } from './security/plan-policy.ts';
import type { FleetStore } from './store/store.ts';
import { planWaves, type RolloutSpec } from './rollouts/rollout-spec.ts';

const planCheck = TypeCompiler.Compile(JobPlan);

/** Reads and schema-checks a plan file (JSON, or YAML for .yaml/.yml). What each device allows is checked by the device. */
export function loadPlanFile(path: string): JobPlan {
  if (!existsSync(path)) throw epError('EP_PLAN_NOT_FOUND', { file: path });
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw epError('EP_PLAN_SYNTAX', { file: path, reason: (err as Error).message });
  }
  raw = normalizePlan(raw);
  if (!planCheck.Check(raw)) {
    const e = planCheck.Errors(raw).First();
    throw epError('EP_PLAN_FIELD_INVALID', { file: path, field: e?.path || '/', problem: e?.message ?? 'is invalid' });
  }
  const variantProblem = planVariantsProblem(raw as JobPlan);
  if (variantProblem) {
    const m = /^\/plan(\/\w+): ([\s\S]*)$/.exec(variantProblem);
    const [field, problem] = m ? [m[1], m[2]] : ['/variants', variantProblem];
    throw epError('EP_PLAN_FIELD_INVALID', { file: path, field, problem });
  }
  const probes = checkPlanProbes(raw as JobPlan);
  if (!probes.ok) throw epError('EP_PLAN_PROBE_SETTINGS', { file: path, reason: probes.reason });
  return probes.value;
}

export interface SubmitOptions {
  timeoutS: number; maxAttempts: number;
  /** roll the job out in waves, in the order the devices are given (coordinator/rollouts) */
  rollout?: RolloutSpec;
}

export function newJobId(now = new Date()): string {
  return `job-${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** Creates a job for registered devices; the coordinator (or `--broker`) dispatches it. */
export async function submitJob(store: FleetStore, devices: string[], plan: JobPlan, opts: SubmitOptions): Promise<string> {
  if (devices.length === 0) throw epError('EP_JOB_NO_DEVICES');
  const known = new Set((await store.devices()).map((d) => d.deviceId));
  for (const d of devices) {
    if (!isValidDeviceId(d)) throw epError('EP_JOB_DEVICE_ID_INVALID', { id: JSON.stringify(d) });
    if (!known.has(d)) throw epError('EP_JOB_DEVICE_UNREGISTERED', { device: d, registered: [...known].join(', ') || 'none' });
  }
  const jobId = newJobId();
  const unique = [...new Set(devices)];
  const rollout = opts.rollout && { spec: opts.rollout, waves: planWaves(opts.rollout, unique.length) };
  await store.createJob({ jobId, plan, devices: unique, timeoutS: opts.timeoutS, maxAttempts: opts.maxAttempts, ...(rollout ? { rollout } : {}) }, Date.now());
  return jobId;
}

/** The coordinator config's job policy (models by sha256, probes, variants) applied to a plan before it is stored. */
export function checkPlanAgainstPolicy(policy: JobPolicyConfig, plan: JobPlan): void {
  const d = checkPlanPolicy(policy, plan);
  if (!d.ok) {
    throw epError(d.code === 'model-not-allowed' ? 'EP_PLAN_MODEL_NOT_ALLOWED' : 'EP_PLAN_REFUSED', { reason: d.reason });
  }
}
