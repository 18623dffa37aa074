import { Type, type Static } from '@sinclair/typebox';
import type { ProbeRecord, VerdictStatus } from '../../../core/results/probe-record.ts';

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
  identifiability: Type.Object({
    /** nearest-neighbour identifiability per layer 0..L over all sentences */
    nearest: Type.Array(NumOrNull),
    /** learned linear map h_l -> e_0, evaluated on held-out sentences, per layer 0..L */
    learned: Type.Array(NumOrNull),
    trainSentences: Type.Integer({ minimum: 0 }),
    heldOutSentences: Type.Integer({ minimum: 0 }),
  }),
  mixing: Type.Object({ selfContribution: Type.Array(Num), effectiveSources: Type.Array(Num) }),
  structure: Type.Array(StructureLayer),
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
      attentionJs: Num,
      rolloutJs: Num,
      rolloutSpearman: NumOrNull,
      attentionChanged: Type.Boolean(),
      rolloutChanged: Type.Boolean(),
    })),
    attentionPassed: Type.Boolean(),
    rolloutPassed: Type.Boolean(),
    shuffled: Type.Object({
      layers: Type.Array(Type.Object({
        layer: Type.Integer({ minimum: 1 }),
        entropyRatio: Num,
        dominantShare: Num,
        structureKept: NumOrNull,
        alignedJs: Num,
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

export interface RecordParts {
  model: { name: string; sha256: string };
  variant: { name: string; sha256: string };
  status: VerdictStatus;
  summary: string;
  layers?: number[];
  health: { ok: boolean; reasons: string[] };
  durationS: number;
  data: AttentionProbeData;
}

export function attentionRecord(p: RecordParts): ProbeRecord {
  return {
    recordVersion: 1,
    probe: 'attention',
    model: p.model,
    variant: p.variant,
    verdict: { status: p.health.ok ? p.status : 'invalid', summary: p.health.ok ? p.summary : `invalid: ${p.health.reasons.join('; ')}`, ...(p.layers && p.layers.length ? { layers: p.layers } : {}) },
    health: p.health,
    durationS: p.durationS,
    createdAt: new Date().toISOString(),
    data: p.data,
  };
}
