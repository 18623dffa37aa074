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

const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

/**
 * The plan block of the 'properties' probe. Norm sets are named, never given as paths: `mcrae`,
 * `buchanan`, `binder` or a CSV/TSV file name, all looked up in the agent's own `normsDir`.
 */
export const PropertiesPlanSettings = Type.Object({
  norms: Type.Array(Type.String({ pattern: '^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}$' }), { minItems: 1, maxItems: 8, uniqueItems: true }),
  /** representations: `static`, layer numbers (0 = embeddings output) or `all`, comma-separated */
  layers: Type.Optional(Type.String({ pattern: '^[a-z0-9,]{1,64}$' })),
  mapper: Type.Optional(Type.Union([Type.Literal('plsr'), Type.Literal('ffnn')])),
  folds: Type.Optional(Type.Integer({ minimum: 2, maximum: 20 })),
  seed: Type.Optional(Seed),
}, { additionalProperties: false });
export type PropertiesPlanSettings = Static<typeof PropertiesPlanSettings>;

/** null: the plan has no properties block, which the runner refuses with the fix */
export type ResolvedPropertiesSettings = (PropertiesPlanSettings & { seed: number | undefined }) | null;

/** The paper's table columns, in its order, plus the category-destroyed control edgeprobe adds. */
export const CONTROL_COLUMNS = [
  ['sys', 'Sys'], ['upper', 'Upper'], ['shuffle', 'Shuffle'], ['shuffle-upper', 'Shuf-Upper'], ['rand', 'Rand'], ['category-destroyed', 'Cat-destroyed'],
] as const;

/** The paper's reported values (Sys / Upper / Shuffle / Shuf-Upper / Rand) per norm set, drawn beside ours. */
export const PAPER_VALUES: Record<string, number[]> = {
  mcrae: [0.25, 0.27, 0.1, 0.13, 0.01],
  buchanan: [0.18, 0.22, 0.06, 0.11, 0.01],
  binder: [0.74, 0.9, 0.3, 0.59, 0.01],
};

/** The dashboard's view of one properties record: the best layer's headline metric per control. */
export interface PropertiesView {
  model: string;
  deviceId: string;
  variant: string;
  status: string;
  normSet: string;
  metric: string;
  layer: string;
  controls: Array<{ key: string; label: string; estimate: number | null; low: number | null; high: number | null }>;
  passes: boolean;
  explainedBy: string[];
  paper: number[] | null;
  rankingChanged: boolean | null;
}
