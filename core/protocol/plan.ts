import { Type, type Static } from '@sinclair/typebox';
import { PROBE_KIND_PATTERN, ProbeKindName } from '../results/probe-record.ts';
import { VariantNameSchema } from '../variants/variant-types.ts';

export { VariantNameSchema };

/** A lowercase sha256 hex digest: how models, variants and tokens are pinned everywhere. */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
export const Sha256Hex = Type.String({ pattern: SHA256_HEX_PATTERN, description: 'a sha256 hex digest (64 lowercase hex characters)' });

/** How plans, agent configs and the coordinator's policy name a model. */
export const ModelName = Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,128}$', description: 'a model name: 1-128 letters, digits, _ . -' });
const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

/**
 * A job is a plan: models x variants x probes, with each probe's settings under `settings.<kind>`.
 * Models are named, never given as paths or commands: the agent runs only models its own config allows
 * (and checks the sha256 when the plan pins one). The settings blocks belong to the probes' contracts
 * (probes/<kind>/contract.ts) and are checked against them by `checkPlanProbes` (probes/index.ts).
 */
export const JobPlan = Type.Object({
  models: Type.Array(Type.Object({
    name: ModelName,
    sha256: Type.Optional(Sha256Hex),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 32 }),
  variants: Type.Array(VariantNameSchema, { minItems: 1, maxItems: 4, uniqueItems: true }),
  probes: Type.Array(ProbeKindName, { minItems: 1, maxItems: 8, uniqueItems: true }),
  /** default seed of every probe that takes one (a probe block's own seed wins) */
  seed: Type.Optional(Seed),
  settings: Type.Optional(Type.Record(Type.String({ pattern: PROBE_KIND_PATTERN }), Type.Object({}, { additionalProperties: true }))),
}, { additionalProperties: false });
export type JobPlan = Static<typeof JobPlan>;

const PLAN_FIELDS = new Set(['models', 'variants', 'probes', 'seed', 'settings']);

/**
 * Plans of the first version put each probe's block at the top (`"attention": {...}`); they are read as
 * `settings.attention`. Any other shape is returned as it is, for the schema check to name the problem.
 */
export function normalizePlan(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const top = raw as Record<string, unknown>;
  const moved = Object.keys(top).filter((k) => !PLAN_FIELDS.has(k) && new RegExp(PROBE_KIND_PATTERN).test(k) && typeof top[k] === 'object' && top[k] !== null && !Array.isArray(top[k]));
  if (moved.length === 0) return raw;
  const settings: Record<string, unknown> = { ...((top.settings as Record<string, unknown> | undefined) ?? {}) };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(top)) {
    if (moved.includes(k)) settings[k] = v;
    else if (k !== 'settings') out[k] = v;
  }
  return { ...out, settings };
}
