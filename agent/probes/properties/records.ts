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
  /** pHolm < alpha and difference >= the stated minimum effect */
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
  timings: Type.Object({ embeddingsS: Type.Number(), controlsS: Type.Number(), embeddingsCached: Type.Boolean(), workers: Type.Optional(Type.Integer()) }),
});
export type PropertiesData = Static<typeof PropertiesDataSchema>;
