import { Type, type Static } from '@sinclair/typebox';

const CI = Type.Object({ estimate: Type.Number(), low: Type.Number(), high: Type.Number(), level: Type.Number() });

export const ControlScoreSchema = Type.Object({
  /** F1@10 (feature lists) or Spearman rho per concept (ratings), mean over held-out concepts with 95% CI */
  headline: CI,
  neighbourhood: CI,
  neighbourhoodOtherCategory: Type.Optional(CI),
  perAttributeMean: Type.Optional(Type.Number()),
  /** PLSR components chosen per outer fold (FFNN: epochs) */
  chosen: Type.Optional(Type.Array(Type.Number())),
  /** headline mean of each shuffle seed */
  seeds: Type.Optional(Type.Array(Type.Number())),
});
export type ControlScore = Static<typeof ControlScoreSchema>;

export const LayerResultSchema = Type.Object({
  /** `static` (embedding-table rows) or `L0`..`Ln` (hidden state after block n; L0 = embedding output) */
  layer: Type.String(),
  controls: Type.Object({
    sys: ControlScoreSchema,
    upper: ControlScoreSchema,
    shuffle: ControlScoreSchema,
    'shuffle-upper': ControlScoreSchema,
    rand: ControlScoreSchema,
    'category-destroyed': ControlScoreSchema,
  }),
  /** one-sided paired permutation p-values of sys > control over concepts */
  pValues: Type.Object({ shuffle: Type.Number(), rand: Type.Number(), 'category-destroyed': Type.Number() }),
  passes: Type.Boolean(),
  /** controls sys does not beat significantly */
  explainedBy: Type.Array(Type.String()),
  summary: Type.String(),
});
export type LayerResult = Static<typeof LayerResultSchema>;

export const VariantComparisonSchema = Type.Object({
  against: Type.Literal('fp32'),
  verdictChangedLayers: Type.Array(Type.String()),
  rankingChanged: Type.Boolean(),
  /** Spearman rho between the layer rankings by sys score */
  rankCorrelation: Type.Number(),
  fp32Ranking: Type.Array(Type.String()),
  /** sys headline minus fp32's, per layer */
  sysDelta: Type.Record(Type.String(), Type.Number()),
});
export type VariantComparison = Static<typeof VariantComparisonSchema>;

/** `data` of a ProbeRecord with probe 'properties': one norm set on one model variant. */
export const PropertiesDataSchema = Type.Object({
  normSet: Type.Object({
    name: Type.String(),
    path: Type.String(),
    concepts: Type.Integer(),
    features: Type.Integer(),
    metric: Type.Union([Type.Literal('f1'), Type.Literal('spearman')]),
    categories: Type.String(),
    notes: Type.Array(Type.String()),
  }),
  coverage: Type.Object({ words: Type.Integer(), covered: Type.Integer(), multiPiece: Type.Integer(), missing: Type.Array(Type.String()), conceptsDropped: Type.Integer() }),
  mapper: Type.String(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  layers: Type.Array(LayerResultSchema),
  /** layers ordered by sys headline score, best first */
  ranking: Type.Array(Type.String()),
  bestLayer: Type.String(),
  comparedToFp32: Type.Optional(VariantComparisonSchema),
  timings: Type.Object({ embeddingsS: Type.Number(), controlsS: Type.Number(), embeddingsCached: Type.Boolean() }),
});
export type PropertiesData = Static<typeof PropertiesDataSchema>;
