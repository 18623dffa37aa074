import { Type, type Static } from '@sinclair/typebox';
import { PROBE_KIND_PATTERN, ProbeKindName } from '../results/probe-record.ts';
import { EdgeprobeError } from '../errors.ts';
import { VariantSettings, resolveVariantSettings } from '../variants/recipe-settings.ts';
import { AnyVariantNameSchema, UserVariantNameSchema, VARIANT_NAMES, VariantNameSchema, isBuiltinVariant } from '../variants/variant-types.ts';

export { VariantNameSchema };

/** A lowercase sha256 hex digest: how models, variants and tokens are pinned everywhere. */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
export const Sha256Hex = Type.String({ pattern: SHA256_HEX_PATTERN, description: 'a sha256 hex digest (64 lowercase hex characters)' });

/** How plans, agent configs and the coordinator's policy name a model. */
export const ModelName = Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,128}$', description: 'a model name: 1-128 letters, digits, _ . -' });
const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

/**
 * A file compressed outside edgeprobe, run as a variant of one of the plan's models. Its content is
 * pinned: the coordinator's policy must allow the sha256 and the agent runs only a file that has it.
 * `file` is a bare file name in the agent's configured user-variants directory (never a path: a plan
 * must not point an agent at arbitrary files); `url` is downloaded into that directory.
 */
const UserVariantBase = { name: UserVariantNameSchema, model: ModelName, sha256: Sha256Hex };
export const USER_VARIANT_FILE_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';
export const PlanUserVariant = Type.Union([
  Type.Object({ ...UserVariantBase, file: Type.String({ pattern: USER_VARIANT_FILE_PATTERN, description: 'a file name (no directories) in the agent\'s userVariantsDir' }) }, { additionalProperties: false }),
  Type.Object({ ...UserVariantBase, url: Type.String({ pattern: '^https?://', maxLength: 2000 }) }, { additionalProperties: false }),
], { description: 'a user-supplied variant: {name, model, sha256, file} or {name, model, sha256, url}' });
export type PlanUserVariant = Static<typeof PlanUserVariant>;

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
  /** built-in names, and the names of the plan's `userVariants` (each must be declared there) */
  variants: Type.Array(AnyVariantNameSchema, { minItems: 1, maxItems: 12, uniqueItems: true }),
  userVariants: Type.Optional(Type.Array(PlanUserVariant, { maxItems: 8 })),
  /** recipe settings of the built-in variants: int4-weight's block size, int8-static's calibration */
  variantSettings: Type.Optional(VariantSettings),
  probes: Type.Array(ProbeKindName, { minItems: 1, maxItems: 8, uniqueItems: true }),
  /** default seed of every probe that takes one (a probe block's own seed wins) */
  seed: Type.Optional(Seed),
  settings: Type.Optional(Type.Record(Type.String({ pattern: PROBE_KIND_PATTERN }), Type.Object({}, { additionalProperties: true }))),
}, { additionalProperties: false });
export type JobPlan = Static<typeof JobPlan>;

/**
 * What the schema cannot say: a variant name that is not built-in must be declared in `userVariants`,
 * so `fp8` or a misspelt `int8-dynamc` is refused as a plan error, never taken for a user's file.
 */
export function planVariantsProblem(plan: Pick<JobPlan, 'variants' | 'userVariants' | 'variantSettings'>): string | undefined {
  const declared = new Set((plan.userVariants ?? []).map((u) => u.name));
  const bad = plan.variants.find((v) => !isBuiltinVariant(v) && !declared.has(v));
  if (bad !== undefined) return `/plan/variants: ${bad} is not a built-in variant (${VARIANT_NAMES.join(', ')}) and not declared in the plan's userVariants`;
  // a power of two, a calibration spec: beyond what the schema says
  try {
    resolveVariantSettings(plan.variantSettings ?? {}, { int4: 'int4BlockSize', int8: 'int8Calibration' });
  } catch (err) {
    if (err instanceof EdgeprobeError) return `/plan/variantSettings: ${err.message} (${err.fix})`;
    throw err;
  }
  return undefined;
}

const PLAN_FIELDS = new Set(['models', 'variants', 'userVariants', 'variantSettings', 'probes', 'seed', 'settings']);

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
