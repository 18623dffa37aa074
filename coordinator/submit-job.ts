import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../core/errors.ts';
import { JobPlan, normalizePlan } from '../core/protocol/plan.ts';
import { checkPlanProbes } from '../probes/index.ts';
import { isValidDeviceId } from '../core/protocol/topics.ts';
import type { JobPolicyConfig } from './config/coordinator-config.ts';
import { checkPlanPolicy } from './security/plan-policy.ts';
import type { FleetStore } from './store/store.ts';

const planCheck = TypeCompiler.Compile(JobPlan);

/** Reads and schema-checks a plan file (JSON, or YAML for .yaml/.yml). What each device allows is checked by the device. */
export function loadPlanFile(path: string): JobPlan {
  if (!existsSync(path)) throw new UserError(`plan file not found: ${path}`, 'pass --plan with a JSON or YAML plan like configs/plan.example.json');
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UserError(`plan ${path} does not parse: ${(err as Error).message}`, 'fix the JSON/YAML syntax');
  }
  raw = normalizePlan(raw);
  if (!planCheck.Check(raw)) {
    const e = planCheck.Errors(raw).First();
    throw new UserError(`plan ${path}: field ${e?.path || '/'} ${e?.message ?? 'is invalid'}`, 'a plan names models, variants, probes and each probe\'s settings; see docs/fleet.md');
  }
  const probes = checkPlanProbes(raw as JobPlan);
  if (!probes.ok) throw new UserError(`plan ${path}: ${probes.reason}`, 'name probes from `edgeprobe jobs submit --help` and give each one\'s settings under "settings"; see docs/fleet.md');
  return probes.value;
}

export interface SubmitOptions { timeoutS: number; maxAttempts: number }

export function newJobId(now = new Date()): string {
  return `job-${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** Creates a job for registered devices; the coordinator (or `--broker`) dispatches it. */
export async function submitJob(store: FleetStore, devices: string[], plan: JobPlan, opts: SubmitOptions): Promise<string> {
  if (devices.length === 0) throw new UserError('no devices given', 'pass --devices a,b with registered device ids (see `edgeprobe jobs devices`)');
  const known = new Set((await store.devices()).map((d) => d.deviceId));
  for (const d of devices) {
    if (!isValidDeviceId(d)) throw new UserError(`invalid device id ${JSON.stringify(d)}`, 'device ids are 1-64 letters, digits, _ or -');
    if (!known.has(d)) throw new UserError(`device ${d} has never registered with this coordinator`, `start its agent first; registered: ${[...known].join(', ') || 'none'}`);
  }
  const jobId = newJobId();
  await store.createJob({ jobId, plan, devices: [...new Set(devices)], timeoutS: opts.timeoutS, maxAttempts: opts.maxAttempts }, Date.now());
  return jobId;
}

/** The coordinator config's job policy (models by sha256, probes, variants) applied to a plan before it is stored. */
export function checkPlanAgainstPolicy(policy: JobPolicyConfig, plan: JobPlan): void {
  const d = checkPlanPolicy(policy, plan);
  if (!d.ok) {
    throw new UserError(`job plan refused: ${d.reason}`,
      d.code === 'model-not-allowed' ? 'pin every model in the plan by the sha256 in policy.models (edgeprobe models inspect prints it), or add it to the policy'
        : 'add it to policy in the coordinator config, or change the plan');
  }
}
