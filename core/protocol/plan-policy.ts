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
  /**
   * User-supplied variants: the coordinator allows listed sha256 pins; an agent allows them only when its
   * config names a directory for them (`true`). Absent or empty: none are allowed.
   */
  userVariants?: readonly string[] | boolean;
}

export interface PlanUnderCheck {
  models: ReadonlyArray<{ name?: string; sha256?: string }>;
  probes: readonly string[];
  variants?: readonly string[];
  userVariants?: ReadonlyArray<{ name: string; model: string; sha256: string }>;
}

export type PlanRefusal = 'empty-plan' | 'model-not-allowed' | 'model-pin-mismatch' | 'probe-not-allowed' | 'variant-not-allowed' | 'user-variant-not-allowed';
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
  const declared = plan.userVariants ?? [];
  const declaredNames = new Set(declared.map((u) => u.name));
  // a user name must be declared, so a misspelt built-in is refused here rather than run as a user file
  const badVariant = (plan.variants ?? []).find((v) => !allow.variants.includes(v) && !declaredNames.has(v));
  if (badVariant) return refuse('variant-not-allowed', `variant ${badVariant} is not available under ${allow.owner} (available: ${list(allow.variants)}) and not declared in the plan's userVariants`);
  const userRefusal = checkUserVariants(plan, declared, allow);
  if (userRefusal) return refuse('user-variant-not-allowed', userRefusal);
  const badProbe = plan.probes.find((p) => !allow.probes.includes(p));
  if (badProbe) return refuse('probe-not-allowed', `probe ${badProbe} is not allowed by ${allow.owner} (allowed: ${list(allow.probes)})`);
  return { ok: true };
}

function checkUserVariants(plan: PlanUnderCheck, declared: NonNullable<PlanUnderCheck['userVariants']>, allow: PlanAllowList): string | undefined {
  const seen = new Set<string>();
  for (const u of declared) {
    if (seen.has(u.name)) return `user variant ${u.name} is declared twice`;
    seen.add(u.name);
    if (!(plan.variants ?? []).includes(u.name)) return `user variant ${u.name} is declared but not listed in the plan's variants`;
    if (!plan.models.some((m) => m.name === u.model)) return `user variant ${u.name} is a variant of model ${u.model}, which the plan does not name`;
    const ok = allow.userVariants === true || (Array.isArray(allow.userVariants) && allow.userVariants.some((s) => s.toLowerCase() === u.sha256.toLowerCase()));
    if (!ok) {
      return allow.userVariants === false || allow.userVariants === undefined || (Array.isArray(allow.userVariants) && allow.userVariants.length === 0)
        ? `user variant ${u.name}: ${allow.owner} allows no user-supplied variants`
        : `user variant ${u.name} (sha256 ${u.sha256}) is not in ${allow.owner}.userVariants`;
    }
  }
  return undefined;
}
