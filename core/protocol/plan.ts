import { Type, type Static } from '@sinclair/typebox';
import { ProbeKind } from '../results/probe-record.ts';

/** A lowercase sha256 hex digest: how models, variants and tokens are pinned everywhere. */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
export const Sha256Hex = Type.String({ pattern: SHA256_HEX_PATTERN, description: 'a sha256 hex digest (64 lowercase hex characters)' });

/** How plans, agent configs and the coordinator's policy name a model. */
export const ModelName = Type.String({ pattern: '^[a-zA-Z0-9_.-]{1,128}$', description: 'a model name: 1-128 letters, digits, _ . -' });
const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

export const VariantNameSchema = Type.Union([
  Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8-dynamic'), Type.Literal('int8-weight'),
]);

/**
 * Settings of the 'benchmark' probe (agent/bench, the same benchmark `edgeprobe bench` runs); every field
 * has a default so a plan can omit the block. `runs`, `batchSizes`, `sentences` and `cooldownMs` are the
 * first plan version's fields and keep their meaning.
 */
export const BenchmarkSettings = Type.Object({
  /** first-version name of `minQueries`; given without `minDurationS`, there is no minimum duration (exactly as before: N timed runs) */
  runs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** untimed queries first (session warm-up, allocator) */
  warmup: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  /** one record per batch size: the throughput batch (latency is always single-stream) */
  batchSizes: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 64 }), { minItems: 1, maxItems: 8 })),
  /** drift against fp32 and the cross-device fingerprint are computed on exactly these */
  sentences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), { minItems: 1, maxItems: 256 })),
  /** pause between measurements, so a passively cooled device is not measured while throttling */
  cooldownMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  /** tokens per query (cut to the model's positions) */
  seqLen: Type.Optional(Type.Integer({ minimum: 2, maximum: 8192 })),
  /** LoadGen single-stream: at least this many timed queries AND at least minDurationS seconds */
  minQueries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  minDurationS: Type.Optional(Type.Number({ minimum: 0, maximum: 3600 })),
}, { additionalProperties: false });
export type BenchmarkSettings = Static<typeof BenchmarkSettings>;

/** Settings of the 'attention' probe (agent/probes/attention) on the built-in corpus. */
export const AttentionSettings = Type.Object({
  /** built-in corpus sentences (seeded order) */
  sentences: Type.Optional(Type.Integer({ minimum: 2, maximum: 2000 })),
  seed: Type.Optional(Seed),
  /** cascading randomization and shuffled-input control on fp32 (default true) */
  sanityChecks: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type AttentionSettings = Static<typeof AttentionSettings>;

/** Settings of the 'compare' probe (agent/compare: per-layer divergence, health sweep, task agreement). */
export const CompareSettings = Type.Object({
  sentences: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })),
  seed: Type.Optional(Seed),
  /** fill-mask items for a masked-LM head (0 = no task agreement) */
  fillMaskItems: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })),
}, { additionalProperties: false });
export type CompareSettings = Static<typeof CompareSettings>;

/**
 * Settings of the 'properties' probe (agent/probes/properties). Norm sets are named, never given as paths:
 * `mcrae`, `buchanan`, `binder` or a CSV/TSV file name, all looked up in the agent's own `normsDir`.
 */
export const PropertiesSettings = Type.Object({
  norms: Type.Array(Type.String({ pattern: '^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$' }), { minItems: 1, maxItems: 8, uniqueItems: true }),
  /** representations: `static`, layer numbers (0 = embeddings output) or `all`, comma-separated */
  layers: Type.Optional(Type.String({ pattern: '^[a-z0-9,]{1,64}$' })),
  mapper: Type.Optional(Type.Union([Type.Literal('plsr'), Type.Literal('ffnn')])),
  folds: Type.Optional(Type.Integer({ minimum: 2, maximum: 20 })),
  seed: Type.Optional(Seed),
}, { additionalProperties: false });
export type PropertiesSettings = Static<typeof PropertiesSettings>;

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
  /** default seed of every probe that takes one (a probe block's own seed wins) */
  seed: Type.Optional(Seed),
  benchmark: Type.Optional(BenchmarkSettings),
  attention: Type.Optional(AttentionSettings),
  compare: Type.Optional(CompareSettings),
  properties: Type.Optional(PropertiesSettings),
}, { additionalProperties: false });
export type JobPlan = Static<typeof JobPlan>;
