import { Type, type Static } from '@sinclair/typebox';

/**
 * One result of one probe (or benchmark) on one model variant: what a CLI run prints with --json,
 * what an agent stores in its outbox and sends over MQTT, and what the coordinator stores.
 * `data` is the probe's own payload; its shape is fixed per `probe` kind by that probe's module.
 */
export const ProbeKind = Type.Union([
  Type.Literal('benchmark'),
  Type.Literal('attention'),
  Type.Literal('properties'),
  Type.Literal('compare'),
  Type.Literal('task'),
]);
export type ProbeKind = Static<typeof ProbeKind>;

export const VerdictStatus = Type.Union([
  // attention / compression survival
  Type.Literal('survives'),
  Type.Literal('degrades'),
  Type.Literal('fails'),
  // property inference against its controls
  Type.Literal('passes-controls'),
  Type.Literal('fails-controls'),
  // a measurement without a verdict (benchmarks) or one computed on broken numbers
  Type.Literal('measured'),
  Type.Literal('invalid'),
]);
export type VerdictStatus = Static<typeof VerdictStatus>;

export const ProbeRecord = Type.Object({
  recordVersion: Type.Literal(1),
  probe: ProbeKind,
  // names are store columns (results.model_name, variant_name) and report keys: bounded like ids
  model: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
  variant: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
  /** what the verdict was computed against, e.g. "fp32" for survival, or the control set */
  verdict: Type.Object({
    status: VerdictStatus,
    summary: Type.String({ maxLength: 2000 }),
    /** layers a degradation or break is located in (1-based; 0 = embeddings) */
    layers: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
  }),
  /** numeric health of the tensors the result was computed from (NaN/Inf, fp16 saturation) */
  health: Type.Optional(Type.Object({ ok: Type.Boolean(), reasons: Type.Array(Type.String()) })),
  /** seconds the probe took on this device */
  durationS: Type.Number({ minimum: 0 }),
  createdAt: Type.String({ maxLength: 64 }),
  data: Type.Unknown(),
});
export type ProbeRecord = Static<typeof ProbeRecord>;
