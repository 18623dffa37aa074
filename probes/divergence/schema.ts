import { Type, type Static } from '@sinclair/typebox';

const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

export const LayerDivergenceSchema = Type.Object({
  /** 0 = embeddings output, l = output of layer l */
  layer: Type.Integer({ minimum: 0 }),
  /** mean over real tokens of the cosine between reference and variant hidden vectors */
  hiddenCosine: Type.Number(),
  /** ||h_ref - h_var|| / ||h_ref|| over all real tokens of the layer */
  relativeL2: Type.Number(),
  /** Jensen-Shannon divergence (nats) of attention rows, averaged over rows then heads; null for layer 0 */
  attentionJs: Type.Union([Type.Number(), Type.Null()]),
  /** per-head JS divergence (nats), for the heat map; empty for layer 0 */
  attentionJsPerHead: Type.Array(Type.Number()),
});
export type LayerDivergence = Static<typeof LayerDivergenceSchema>;

export const JumpResultSchema = Type.Object({
  increments: Type.Array(Type.Number()),
  jumpLayer: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  worstLayer: Type.Integer({ minimum: 0 }),
  rule: Type.String(),
});
export type JumpResult = Static<typeof JumpResultSchema>;

/** The numeric gate over a sequence-length sweep (core/runtime/numeric-gate-sweep.ts). */
export const GateSweepSchema = Type.Object({
  ok: Type.Boolean(),
  points: Type.Array(Type.Object({ seqLen: Type.Integer(), ok: Type.Boolean(), problems: Type.Array(Type.String()), maxAbs: Type.Number() })),
  skippedLengths: Type.Array(Type.Integer()),
});

export const TaskAgreementSchema = Type.Object({
  task: Type.Union([Type.Literal('fill-mask'), Type.Literal('classification'), Type.Literal('next-token')]),
  variant: Type.String(),
  items: Type.Integer({ minimum: 0 }),
  /** null when the task has no gold labels */
  top1Accuracy: Type.Union([Type.Number(), Type.Null()]),
  top1Agreement: Type.Number(),
  top5Agreement: Type.Number(),
  /** next-token (causal LMs): perplexity of the variant and of fp32 on the same tokens */
  perplexity: Type.Optional(Type.Number()),
  perplexityFp32: Type.Optional(Type.Number()),
});
export type TaskAgreementData = Static<typeof TaskAgreementSchema>;

/** `data` of a 'divergence' record: per-layer divergence from fp32, the jump layer, the numeric gate, task agreement. */
export const DivergenceData = Type.Object({
  reference: Type.String(),
  sentences: Type.Integer({ minimum: 0 }),
  truncatedSentences: Type.Integer({ minimum: 0 }),
  layers: Type.Array(LayerDivergenceSchema),
  jump: JumpResultSchema,
  numericGate: GateSweepSchema,
  /** when the model has a task head (masked-LM `logits` or a classifier) */
  task: Type.Optional(TaskAgreementSchema),
});
export type DivergenceData = Static<typeof DivergenceData>;

/** The plan block of the 'divergence' probe. */
export const DivergencePlanSettings = Type.Object({
  sentences: Type.Optional(Type.Integer({ minimum: 1, maximum: 2000 })),
  seed: Type.Optional(Seed),
  /** fill-mask items for a masked-LM head (0 = no task agreement) */
  fillMaskItems: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })),
}, { additionalProperties: false });
export type DivergencePlanSettings = Static<typeof DivergencePlanSettings>;

export interface ResolvedDivergenceSettings { sentences: number; seed: number; fillMaskItems: number }

export function resolveDivergenceSettings(c: DivergencePlanSettings = {}, planSeed?: number): ResolvedDivergenceSettings {
  return { sentences: c.sentences ?? 64, seed: c.seed ?? planSeed ?? 1, fillMaskItems: c.fillMaskItems ?? 200 };
}

/** The dashboard's layer-by-variant heat map row of one divergence record. */
export interface DivergenceView {
  model: string;
  deviceId: string;
  variant: string;
  gateOk: boolean;
  jumpLayer: number | null;
  worstLayer: number;
  layers: Array<{ layer: number; relativeL2: number; hiddenCosine: number; attentionJs: number | null }>;
}
