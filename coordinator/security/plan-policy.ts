import { checkPlanAllowed, type PlanDecision, type PlanUnderCheck } from '../../core/protocol/plan-policy.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { JobPolicyConfig } from '../config/coordinator-config.ts';

export type PlanUnderPolicy = PlanUnderCheck;

/**
 * Checks a job plan before it is published. Models are identified by the sha256 of their fp32 ONNX file,
 * not by name: a name can be reused for another file, a digest cannot.
 */
export function checkJobPlan(policy: JobPolicyConfig, plan: PlanUnderPolicy): PlanDecision {
  return checkPlanAllowed(plan, { owner: 'policy', models: policy.models, matchModelsBy: 'sha256', probes: policy.probes, variants: policy.variants, userVariants: policy.userVariants ?? [] });
}

/** A fleet job plan under the policy; a model the plan does not pin by sha256 is not allowed (its name proves nothing). */
export function checkPlanPolicy(policy: JobPolicyConfig, plan: JobPlan): PlanDecision {
  return checkJobPlan(policy, plan);
}
