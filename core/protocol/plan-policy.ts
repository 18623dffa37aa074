/**
 * The one check of a plan against an allow-list, used by both sides: the coordinator's job policy
 * before it publishes a job, and each agent's own config before it runs one. They differ only in how a
 * model is identified: the coordinator by the sha256 the plan must pin (a name proves nothing), an agent
 * by name, with the plan's pin (when there is one) matching the agent's.
 */
export interface PlanAllowList {
  /** who allows: named in the reasons ("policy", "this agent's config") */
  owner: string;
  models: ReadonlyArray<{ name?: string; sha256?: string }>;
  matchModelsBy: 'sha256' | 'name';
  probes: readonly string[];
  variants: readonly string[];
}

export interface PlanUnderCheck {
  models: ReadonlyArray<{ name?: string; sha256?: string }>;
  probes: readonly string[];
  variants?: readonly string[];
}

export type PlanRefusal = 'empty-plan' | 'model-not-allowed' | 'model-pin-mismatch' | 'probe-not-allowed' | 'variant-not-allowed';
export type PlanDecision = { ok: true } | { ok: false; code: PlanRefusal; reason: string };

const list = (xs: readonly string[]): string => xs.join(', ') || 'none';

export function checkPlanAllowed(plan: PlanUnderCheck, allow: PlanAllowList): PlanDecision {
  const refuse = (code: PlanRefusal, reason: string): PlanDecision => ({ ok: false, code, reason });
  if (plan.models.length === 0 || plan.probes.length === 0) return refuse('empty-plan', 'the plan names no model or no probe');
  for (const m of plan.models) {
    if (allow.matchModelsBy === 'sha256') {
      const pin = m.sha256?.toLowerCase();
      if (!pin || !allow.models.some((a) => a.sha256?.toLowerCase() === pin)) {
        return refuse('model-not-allowed', `model ${m.name ?? '?'} (sha256 ${m.sha256 ?? '(not pinned)'}) is not in ${allow.owner}.models`);
      }
      continue;
    }
    const allowed = allow.models.find((a) => a.name === m.name);
    if (!allowed) return refuse('model-not-allowed', `model ${m.name} is not allowed by ${allow.owner} (allowed: ${list(allow.models.map((a) => a.name ?? '?'))})`);
    if (m.sha256 && allowed.sha256 && m.sha256 !== allowed.sha256) {
      return refuse('model-pin-mismatch', `model ${m.name}: the plan pins sha256 ${m.sha256} but ${allow.owner} allows ${allowed.sha256}`);
    }
  }
  const badVariant = (plan.variants ?? []).find((v) => !allow.variants.includes(v));
  if (badVariant) return refuse('variant-not-allowed', `variant ${badVariant} is not available under ${allow.owner} (available: ${list(allow.variants)})`);
  const badProbe = plan.probes.find((p) => !allow.probes.includes(p));
  if (badProbe) return refuse('probe-not-allowed', `probe ${badProbe} is not allowed by ${allow.owner} (allowed: ${list(allow.probes)})`);
  return { ok: true };
}
