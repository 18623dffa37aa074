import type { JobPlan } from '../../core/protocol/plan.ts';
import type { JobPolicyConfig } from '../config/coordinator-config.ts';
import { reject, type Decision } from './decision.ts';

/** What a job plan asks devices to run, in the terms the policy is written in. */
export interface PlanUnderPolicy {
  models: Array<{ name?: string; sha256: string }>;
  probes: string[];
  variants?: string[];
}

/**
 * Checks a job plan before it is published. Models are identified by the sha256 of their fp32 ONNX file,
 * not by name: a name can be reused for another file, a digest cannot.
 */
export function checkJobPlan(policy: JobPolicyConfig, plan: PlanUnderPolicy): Decision {
  if (plan.models.length === 0 || plan.probes.length === 0) return reject('empty-plan', 'the plan names no model or no probe');
  const allowed = new Map(policy.models.map((m) => [m.sha256.toLowerCase(), m.name]));
  for (const m of plan.models) {
    if (!allowed.has(m.sha256.toLowerCase())) {
      return reject('model-not-allowed', `model ${m.name ?? '?'} (sha256 ${m.sha256}) is not in policy.models`);
    }
  }
  const probes = new Set<string>(policy.probes);
  const badProbe = plan.probes.find((p) => !probes.has(p));
  if (badProbe) return reject('probe-not-allowed', `probe ${badProbe} is not in policy.probes (${policy.probes.join(', ')})`);
  const variants = new Set<string>(policy.variants);
  const badVariant = (plan.variants ?? []).find((v) => !variants.has(v));
  if (badVariant) return reject('variant-not-allowed', `variant ${badVariant} is not in policy.variants (${policy.variants.join(', ')})`);
  return { ok: true };
}

/** A fleet job plan under the policy; a model the plan does not pin by sha256 is not allowed (its name proves nothing). */
export function checkPlanPolicy(policy: JobPolicyConfig, plan: JobPlan): Decision {
  return checkJobPlan(policy, { models: plan.models.map((m) => ({ name: m.name, sha256: m.sha256 ?? '(not pinned)' })), probes: plan.probes, variants: plan.variants });
}
