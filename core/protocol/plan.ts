import { Type, type Static } from '@sinclair/typebox';
import { ProbeKind } from '../results/probe-record.ts';

/** A lowercase sha256 hex digest: how models, variants and tokens are pinned everywhere. */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
export const Sha256Hex = Type.String({ pattern: SHA256_HEX_PATTERN, description: 'a sha256 hex digest (64 lowercase hex characters)' });

/** How plans, agent configs and the coordinator's policy name a model. */
export const ModelName = Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,128}$', description: 'a model name: 1-128 letters, digits, _ . -' });

export const VariantNameSchema = Type.Union([
  Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8-dynamic'), Type.Literal('int8-weight'),
]);

/** Settings of the 'benchmark' probe; every field has a default so a plan can omit the block. */
export const BenchmarkSettings = Type.Object({
  /** timed runs per batch size */
  runs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** untimed runs first (session warm-up, allocator) */
  warmup: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** one result record per batch size */
  batchSizes: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 64 }), { minItems: 1, maxItems: 8 })),
  /** inputs; the fingerprint compared across devices is computed on exactly these */
  sentences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { minItems: 1, maxItems: 256 })),
  /** pause between measurements, so a passively cooled device is not measured while throttling */
  cooldownMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
}, { additionalProperties: false });
export type BenchmarkSettings = Static<typeof BenchmarkSettings>;

/**
 * A job is a plan: models x variants x probes with settings. Models are named, never given as paths or
 * commands: the agent runs only models its own config allows (and checks the sha256 when the plan pins one).
 */
export const JobPlan = Type.Object({
  models: Type.Array(Type.Object({
    name: ModelName,
    sha256: Type.Optional(Sha256Hex),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 32 }),
  variants: Type.Array(VariantNameSchema, { minItems: 1, maxItems: 4, uniqueItems: true }),
  probes: Type.Array(ProbeKind, { minItems: 1, maxItems: 8, uniqueItems: true }),
  benchmark: Type.Optional(BenchmarkSettings),
}, { additionalProperties: false });
export type JobPlan = Static<typeof JobPlan>;

export const DEFAULT_BENCHMARK: Required<BenchmarkSettings> = {
  runs: 20,
  warmup: 2,
  batchSizes: [1],
  sentences: [
    'The cat sat on the mat.',
    'A small dog ran across the green field.',
    'She reads a book about the history of the river.',
    'Edge devices run compressed models to save memory and power.',
    'The old bridge was closed after the storm.',
    'He bought fresh bread and apples at the market.',
    'Music filled the hall as the people sat down.',
    'The children played in the park until the sun went down.',
  ],
  cooldownMs: 0,
};

export function benchmarkSettings(plan: JobPlan): Required<BenchmarkSettings> {
  return { ...DEFAULT_BENCHMARK, ...plan.benchmark };
}
