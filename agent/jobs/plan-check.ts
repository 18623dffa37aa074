import type { JobPlan } from '../../core/protocol/plan.ts';
import type { AgentAllowList } from '../config/agent-config.ts';
import { registeredProbes } from './probe-registry.ts';
import type { VariantProvider } from './variant-provider.ts';

export type PlanCheck = { ok: true } | { ok: false; reason: string };

/**
 * A plan may only name what this agent's config allows: its models (with matching sha256 pins), the
 * variants it can build and the probes it may run. Anything else rejects the whole job before it starts.
 */
export function checkPlan(plan: JobPlan, config: AgentAllowList, variants: VariantProvider): PlanCheck {
  for (const m of plan.models) {
    const allowed = config.models.find((a) => a.name === m.name);
    if (!allowed) return { ok: false, reason: `model ${m.name} is not allowed by this agent's config (allowed: ${config.models.map((a) => a.name).join(', ') || 'none'})` };
    if (m.sha256 && allowed.sha256 && m.sha256 !== allowed.sha256) {
      return { ok: false, reason: `model ${m.name}: the plan pins sha256 ${m.sha256} but this agent allows ${allowed.sha256}` };
    }
  }
  const variantNames = variants.names.filter((v) => !config.variants || config.variants.includes(v));
  for (const v of plan.variants) {
    if (!variantNames.includes(v)) return { ok: false, reason: `variant ${v} is not available on this agent (available: ${variantNames.join(', ')})` };
  }
  const probes = registeredProbes().filter((p) => config.probes.includes(p));
  for (const p of plan.probes) {
    if (!probes.includes(p)) return { ok: false, reason: `probe ${p} is not allowed on this agent (allowed: ${probes.join(', ') || 'none'})` };
  }
  return { ok: true };
}
