import { Type, type Static } from '@sinclair/typebox';

const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });
const HeadRef = { layer: Type.Integer({ minimum: 1 }), head: Type.Integer({ minimum: 0 }) };

/** `data` of an 'induction' record: per-head induction scores and copying accuracy of one variant, survival against fp32. */
export const InductionData = Type.Object({
  reference: Type.String(),
  sequences: Type.Integer({ minimum: 1 }),
  /** n: tokens per half of [bos, t_1..t_n, t_1..t_n] */
  half: Type.Integer({ minimum: 2 }),
  seed: Seed,
  layers: Type.Integer({ minimum: 1 }),
  heads: Type.Integer({ minimum: 1 }),
  /** a head is an induction head when its score is at least this */
  threshold: Type.Number(),
  /** the score of attention spread uniformly over the causal prefix (what a head with no token preference gets) */
  uniformScore: Type.Number(),
  /** scores[l-1][h]: mean attention from the second t_i to the position after the first t_i */
  scores: Type.Array(Type.Array(Type.Number())),
  inductionHeads: Type.Array(Type.Object({ ...HeadRef, score: Type.Number() })),
  /** top-1 next-token accuracy on the repeated half (chance is about 1 / candidates) */
  copyingAccuracy: Type.Number(),
  candidates: Type.Integer({ minimum: 1 }),
  /** causalEntropy[l-1][h]: row entropy / ln(row length), mean over rows: uniform causal attention = 1 */
  causalEntropy: Type.Array(Type.Array(Type.Number())),
  /** for a variant: each fp32 induction head's score in it */
  survival: Type.Optional(Type.Object({
    reference: Type.Literal('fp32'),
    copyingAccuracyFp32: Type.Number(),
    heads: Type.Array(Type.Object({ ...HeadRef, fp32Score: Type.Number(), score: Type.Number(), survives: Type.Boolean() })),
  })),
});
export type InductionData = Static<typeof InductionData>;

/** The plan block of the 'induction' probe. */
export const InductionPlanSettings = Type.Object({
  sequences: Type.Optional(Type.Integer({ minimum: 1, maximum: 512 })),
  /** tokens per half; cut to what the model's positions hold */
  half: Type.Optional(Type.Integer({ minimum: 4, maximum: 512 })),
  seed: Type.Optional(Seed),
  threshold: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
}, { additionalProperties: false });
export type InductionPlanSettings = Static<typeof InductionPlanSettings>;

export interface ResolvedInductionSettings { sequences: number; half: number; seed: number; threshold: number }

/**
 * Defaults: 16 sequences of 2 x 20 random tokens; threshold 0.3, about ten times the uniform causal score at
 * n = 20 (0.03) and below the 0.4+ that GPT-2's induction heads reach in published scans.
 */
export function resolveInductionSettings(c: InductionPlanSettings = {}, planSeed?: number): ResolvedInductionSettings {
  return { sequences: c.sequences ?? 16, half: c.half ?? 20, seed: c.seed ?? planSeed ?? 1, threshold: c.threshold ?? 0.3 };
}
