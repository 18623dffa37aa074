import { Type, type Static } from '@sinclair/typebox';

/**
 * `data` of an attention ProbeRecord: one per (model, variant). The fp32 record carries the sanity
 * checks (randomization, shuffled input); variant records carry `survival` against fp32.
 * Per-layer arrays indexed 0..L include the embeddings (layer 0); per-layer objects name their layer.
 */
const Num = Type.Number();
const NumOrNull = Type.Union([Type.Number(), Type.Null()]); // JSON has no NaN

const StructureLayer = Type.Object({
  layer: Type.Integer({ minimum: 1 }),
  entropyRatio: Num,
  dominantShare: Num,
  heads: Type.Array(Type.Object({ entropyRatio: Num, dominantShare: Num })),
});

const Architecture = Type.Object({
  kind: Type.Union([Type.Literal('encoder'), Type.Literal('decoder')]),
  /** the construct that makes attention causal, in words; null for an encoder */
  causalMask: Type.Union([Type.String(), Type.Null()]),
  /** where hidden states are read: 'residual stream (block outputs after the residual Add)' or 'each block\'s last LayerNorm output' */
  hiddenStates: Type.String(),
});

const Baseline = Type.Object({
  kind: Type.Union([Type.Literal('uniform'), Type.Literal('causal-uniform')]),
  rule: Type.String(),
  entropyRatio: Num,
  dominantShare: Num,
  /** rollout self-contribution per layer 0..L if every head attended uniformly, on the same sentences */
  selfContribution: Type.Array(Num),
  excludedRows: Type.String(),
});

export const AttentionProbeData = Type.Object({
  corpus: Type.Object({
    source: Type.Union([Type.Literal('built-in'), Type.Literal('file')]),
    path: Type.Optional(Type.String()),
    sentences: Type.Integer({ minimum: 1 }),
    tokens: Type.Integer({ minimum: 1 }),
    seed: Type.Integer(),
  }),
  layers: Type.Integer({ minimum: 1 }),
  heads: Type.Integer({ minimum: 1 }),
  /** how the graph was read (core/onnx/architecture-detect.ts); records before 0.4 lack it and are encoders */
  architecture: Type.Optional(Architecture),
  /** what "no structure" means for these rows and which rows the statistics leave out (probes/attention/causal-rows.ts) */
  baseline: Type.Optional(Baseline),
  identifiability: Type.Object({
    /** nearest-neighbour identifiability per layer 0..L over all sentences */
    nearest: Type.Array(NumOrNull),
    /** learned linear map h_l -> e_0, evaluated on held-out sentences, per layer 0..L */
    learned: Type.Array(NumOrNull),
    trainSentences: Type.Integer({ minimum: 0 }),
    heldOutSentences: Type.Integer({ minimum: 0 }),
    /** decoder positions left out because their input embedding copies another position's (no position in the residual stream) */
    excludedPositions: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  mixing: Type.Object({ selfContribution: Type.Array(Num), effectiveSources: Type.Array(Num) }),
  structure: Type.Array(StructureLayer),
  /** heads whose own entropy ratio or dominant-row share passes the structure thresholds (layers from 1, heads from 0) */
  structuredHeads: Type.Optional(Type.Array(Type.Object({ layer: Type.Integer({ minimum: 1 }), head: Type.Integer({ minimum: 0 }) }))),
  tokenRelation: Type.Object({
    supportedUpToLayer: Type.Integer({ minimum: 0 }),
    structuredButUnidentifiable: Type.Array(Type.Integer()),
    unsupportedLayers: Type.Array(Type.Integer()),
    /** both explanations (attention maps, rollout) change under every randomization step; null when not run */
    sanityPassed: Type.Union([Type.Boolean(), Type.Null()]),
  }),
  sanity: Type.Optional(Type.Object({
    randomization: Type.Array(Type.Object({
      randomizedFrom: Type.Integer({ minimum: 1 }),
      parameters: Type.Integer({ minimum: 0 }),
      /** elements re-drawn by encoding (records before 0.3 lack it) */
      redrawn: Type.Optional(Type.Object({ floatElements: Type.Integer({ minimum: 0 }), integerElements: Type.Integer({ minimum: 0 }) })),
      attentionJs: Num,
      rolloutJs: Num,
      rolloutSpearman: NumOrNull,
      attentionChanged: Type.Boolean(),
      rolloutChanged: Type.Boolean(),
    })),
    attentionPassed: Type.Boolean(),
    rolloutPassed: Type.Boolean(),
    /** which weights the cascade re-drew, in words (records before 0.4 lack it) */
    redrawnWeights: Type.Optional(Type.String()),
    shuffled: Type.Object({
      layers: Type.Array(Type.Object({
        layer: Type.Integer({ minimum: 1 }),
        entropyRatio: Num,
        dominantShare: Num,
        structureKept: NumOrNull,
        /** null on a decoder: a permuted causal map is not causal, so there is nothing to align */
        alignedJs: NumOrNull,
        identifiability: Num,
      })),
      structureKeptLayers: Type.Array(Type.Integer()),
    }),
  })),
  survival: Type.Optional(Type.Object({
    reference: Type.Literal('fp32'),
    topK: Type.Integer({ minimum: 1 }),
    /** whether the fp32 explanation compared against passes its own sanity checks (null: not run) */
    referenceValidity: Type.Optional(Type.Object({ valid: Type.Union([Type.Boolean(), Type.Null()]), failedChecks: Type.Array(Type.String()) })),
    layers: Type.Array(Type.Object({
      layer: Type.Integer({ minimum: 1 }),
      maxJs: Num,
      minTopKOverlap: Num,
      rolloutSpearman: NumOrNull,
      identifiabilityDrop: Num,
      jsPerHead: Type.Array(Num),
      topKPerHead: Type.Array(Num),
      status: Type.Union([Type.Literal('survives'), Type.Literal('degrades'), Type.Literal('fails')]),
    })),
  })),
  thresholdsFile: Type.String(),
});
export type AttentionProbeData = Static<typeof AttentionProbeData>;

/** JSON.stringify turns NaN into null anyway; doing it here keeps the in-memory record equal to the sent one. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

export interface AttentionMapPair {
  model: string;
  variant: string;
  layer: number;
  tokens: string[];
  heads: number;
  /** [head][query][key] attention weights, fp32 and the variant */
  fp32: number[][][];
  compressed: number[][][];
  /** per head: mean over query rows of the JS divergence (nats) between fp32 and variant rows */
  jsPerHead: number[];
  variantSha256: string;
}

/** Heat maps computed from a local copy of the model (probes/attention/attention-maps.ts); the dashboard server is handed one. */
export interface AttentionMapSource {
  modelNames(): string[];
  maps(model: string, variant: string, sentence: string, layer: number): Promise<AttentionMapPair>;
  close(): Promise<void>;
}

const Seed = Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1 });

/** The plan block of the 'attention' probe, on the built-in corpus. */
export const AttentionPlanSettings = Type.Object({
  /** built-in corpus sentences (seeded order) */
  sentences: Type.Optional(Type.Integer({ minimum: 2, maximum: 2000 })),
  seed: Type.Optional(Seed),
  /** cascading randomization and shuffled-input control on fp32 (default true) */
  sanityChecks: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type AttentionPlanSettings = Static<typeof AttentionPlanSettings>;

export interface ResolvedAttentionSettings { sentences: number; seed: number; sanityChecks: boolean }

export function resolveAttentionSettings(a: AttentionPlanSettings = {}, planSeed?: number): ResolvedAttentionSettings {
  return { sentences: a.sentences ?? 200, seed: a.seed ?? planSeed ?? 1, sanityChecks: a.sanityChecks ?? true };
}

/** The dashboard's per-layer view of one attention record. */
export interface AttentionView {
  model: string;
  deviceId: string;
  variant: string;
  variantSha256: string;
  status: string;
  summary: string;
  layers: number;
  heads: number;
  nearest: Array<number | null>;
  learned: Array<number | null>;
  selfContribution: number[];
  supportedUpToLayer: number;
  /** how the graph was read and what its rows were judged against (encoder / uniform for records before 0.4) */
  architecture: 'encoder' | 'decoder';
  baseline: 'uniform' | 'causal-uniform';
  /** rollout self-contribution per layer 0..L of uniform attention on the same sentences (null: record before 0.4) */
  baselineSelfContribution: number[] | null;
  structuredHeads: Array<{ layer: number; head: number }> | null;
  /** variants only: per layer 1..L, worst head JS divergence (nats) from fp32 and per head */
  survival: Array<{ layer: number; maxJs: number; jsPerHead: number[]; status: string }> | null;
}
