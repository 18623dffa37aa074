import { Type, type Static } from '@sinclair/typebox';

const CI = Type.Object({ estimate: Type.Number(), low: Type.Number(), high: Type.Number(), level: Type.Number() });

export const ControlScoreSchema = Type.Object({
  /** F1@10 (feature lists) or Spearman rho per concept (ratings): mean over held-out concepts and repeats, 95% CI from the two-way (concepts x repeats) bootstrap */
  headline: CI,
  /** sys only: neighbourhood accuracy@10 */
  neighbourhood: Type.Optional(CI),
  neighbourhoodOtherCategory: Type.Optional(CI),
  perAttributeMean: Type.Optional(Type.Number()),
  /** capacity chosen per outer fold of the first repeat (PLSR components, FFNN epochs) */
  chosen: Type.Optional(Type.Array(Type.Number())),
  /** the same for every repeat (shuffle: every seed's folds in turn) */
  chosenPerRepeat: Type.Optional(Type.Array(Type.Array(Type.Number()))),
  /** folds (of all repeats) whose chosen component count is the grid's maximum: the search was capped there */
  atGridMax: Type.Optional(Type.Integer()),
  /** headline mean of each repeat (shuffle: of each seed) */
  seeds: Type.Optional(Type.Array(Type.Number())),
});
export type ControlScore = Static<typeof ControlScoreSchema>;

/** sys against one control: what the verdict reads. */
export const ControlTestSchema = Type.Object({
  /** sys minus control, headline units, mean over concepts and repeats, with its two-way bootstrap 95% CI */
  difference: Type.Number(),
  low: Type.Number(),
  high: Type.Number(),
  /** paired standardised effect d_z */
  effectSize: Type.Number(),
  /** one-sided two-way bootstrap p of sys <= control */
  p: Type.Number(),
  /** Holm-adjusted over every test of the record (all layers x all verdict controls) */
  pHolm: Type.Number(),
  /** pHolm < alpha and the difference's 95% CI low >= the stated minimum effect */
  beaten: Type.Boolean(),
});
export type ControlTest = Static<typeof ControlTestSchema>;

const Controls = Type.Object({
  sys: ControlScoreSchema,
  /** training-fold mean of the targets: no embedding at all */
  prior: ControlScoreSchema,
  /** feature lists: training-fold share of concepts with each feature */
  'prior-frequency': Type.Optional(ControlScoreSchema),
  upper: ControlScoreSchema,
  shuffle: ControlScoreSchema,
  'shuffle-upper': ControlScoreSchema,
  rand: ControlScoreSchema,
  'rand-marginal': ControlScoreSchema,
  'category-shuffle': ControlScoreSchema,
  'category-destroyed': ControlScoreSchema,
});

export const LayerResultSchema = Type.Object({
  /** `static` (embedding-table rows) or `L0`..`Ln` (hidden state after block n; L0 = embedding output) */
  layer: Type.String(),
  controls: Controls,
  /** raw one-sided p-values of sys > control (two-way bootstrap over concepts and repeats) */
  pValues: Type.Record(Type.String(), Type.Number()),
  /** the verdict's tests, one per verdict control */
  tests: Type.Record(Type.String(), ControlTestSchema),
  passes: Type.Boolean(),
  /** controls sys does not beat by the minimum effect with Holm-adjusted significance */
  explainedBy: Type.Array(Type.String()),
  /** what explains the score when it does not pass: 'the frequency prior', 'category structure', 'chance' */
  explanation: Type.Optional(Type.String()),
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
  /**
   * the fp32 verdict being kept or changed: a variant that keeps fp32's verdicts keeps an explanation only
   * if fp32's best layer passes its controls
   */
  reference: Type.Optional(Type.Object({ layer: Type.String(), passes: Type.Boolean(), explanation: Type.Optional(Type.String()) })),
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
  /**
   * the best layer by sys score: an exploratory choice (layer differences are often inside the CIs); its
   * verdict is protected because the Holm family spans every layer, so picking the best after the fact
   * does not inflate its error rate
   */
  bestLayer: Type.String(),
  selection: Type.Optional(Type.Object({
    exploratory: Type.Boolean(),
    /** tests in the Holm family (layers x verdict controls) */
    family: Type.Integer(),
    /** layers whose sys score is not distinguishable from the best one (two-way bootstrap, Holm over layers) */
    tiedWithBest: Type.Array(Type.String()),
    note: Type.String(),
  })),
  comparedToFp32: Type.Optional(VariantComparisonSchema),
  timings: Type.Object({
    embeddingsS: Type.Number(), controlsS: Type.Number(), embeddingsCached: Type.Boolean(), workers: Type.Optional(Type.Integer()),
    /** wall seconds inside the worker pool, and the sum of the pool's job seconds (controlsS - poolS is the serial part) */
    poolS: Type.Optional(Type.Number()), jobsS: Type.Optional(Type.Number()),
    /** process CPU seconds while the pool ran (the workers'), and outside it (the main thread's serial part) */
    poolCpuS: Type.Optional(Type.Number()), serialCpuS: Type.Optional(Type.Number()),
  }),
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

/**
 * The table's columns: the paper's controls in its order (Sys, Upper, Shuffle, Shuf-Upper, Rand) with the
 * controls edgeprobe adds beside them (the training-mean priors, column-permuted rand, category shuffle
 * and category-destroyed; docs/properties.md defines each).
 */
export const CONTROL_COLUMNS = [
  ['sys', 'Sys'], ['prior', 'Prior'], ['prior-frequency', 'Prior-freq'], ['upper', 'Upper'], ['shuffle', 'Shuffle'], ['shuffle-upper', 'Shuf-Upper'],
  ['rand', 'Rand'], ['rand-marginal', 'Rand-marg'], ['category-shuffle', 'Cat-shuffle'], ['category-destroyed', 'Cat-destroyed'],
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
  /** 'the frequency prior', 'category structure', 'chance' when it does not pass */
  explanation: string | null;
  /** the paper's value per column of `controls` (null where the paper has no such control); null for other norm sets */
  paper: Array<number | null> | null;
  rankingChanged: boolean | null;
}

/** Which of CONTROL_COLUMNS the paper's table has, in PAPER_VALUES' order. */
export const PAPER_COLUMNS = ['sys', 'upper', 'shuffle', 'shuffle-upper', 'rand'];
