import { checkPlanAllowed, type PlanDecision } from '../../core/protocol/plan-policy.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import { checkPlanProbes, probeKinds } from '../../probes/index.ts';
import type { AgentAllowList } from '../config/agent-config.ts';
import type { VariantProvider } from './variant-provider.ts';

export type PlanCheck = PlanDecision;

/**
 * A plan may only name what this agent's config allows: its models (with matching sha256 pins), the
 * variants it can build and the probes it may run, with settings its probes accept. Anything else
 * rejects the whole job before it starts.
 */
export function checkPlan(plan: JobPlan, config: AgentAllowList, variants: VariantProvider): PlanCheck {
  const probes = checkPlanProbes(plan);
  if (!probes.ok) return { ok: false, code: 'probe-not-allowed', reason: probes.reason };
  return checkPlanAllowed(probes.value, {
    owner: "this agent's config",
    models: config.models,
    matchModelsBy: 'name',
    variants: variants.names.filter((v) => !config.variants || config.variants.includes(v)),
    probes: probeKinds().filter((p) => config.probes.includes(p)),
    userVariants: config.userVariantsDir !== undefined,
  });
}
