import { Type, type Static } from '@sinclair/typebox';

/**
 * One result of one probe on one model variant: what a CLI run prints with --json, what an agent stores
 * in its outbox and sends over MQTT, and what the coordinator stores. `data` is the probe's own payload;
 * its schema is the probe's contract (probes/<kind>/contract.ts), checked at both ends.
 */
export const PROBE_KIND_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const ProbeKindName = Type.String({ pattern: PROBE_KIND_PATTERN, description: 'a probe kind (probes/index.ts lists them)' });

export const VerdictStatus = Type.Union([
  // attention / compression survival
  Type.Literal('survives'),
  Type.Literal('degrades'),
  Type.Literal('fails'),
  // survives compression, but the fp32 explanation it was compared against fails a validity check:
  // never to be read as keeping an explanation
  Type.Literal('survives-invalid-reference'),
  // property inference against its controls
  Type.Literal('passes-controls'),
  Type.Literal('fails-controls'),
  // a measurement without a verdict (benchmarks) or one computed on broken numbers
  Type.Literal('measured'),
  Type.Literal('invalid'),
]);
export type VerdictStatus = Static<typeof VerdictStatus>;

/** The numeric gate: NaN/Inf and fp16 saturation in the tensors a result was computed from. */
export const NumericGate = Type.Object({ ok: Type.Boolean(), reasons: Type.Array(Type.String()) });
export type NumericGate = Static<typeof NumericGate>;

export const RECORD_VERSION = 2;

/** What software produced a record: monitoring names what changed between two runs (records of older agents have none). */
export const SoftwareFingerprint = Type.Object({
  edgeprobe: Type.String({ maxLength: 64 }),
  onnxruntime: Type.String({ maxLength: 64 }),
  node: Type.String({ maxLength: 64 }),
  /** distribution name and version (/etc/os-release PRETTY_NAME), else the platform */
  os: Type.String({ maxLength: 256 }),
  kernel: Type.String({ maxLength: 256 }),
  arch: Type.String({ maxLength: 32 }),
});
export type SoftwareFingerprint = Static<typeof SoftwareFingerprint>;

export const ProbeRecord = Type.Object({
  recordVersion: Type.Literal(RECORD_VERSION),
  probe: ProbeKindName,
  // names are store columns (results.model_name, variant_name) and report keys: bounded like ids
  model: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
  variant: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 256 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    /** quantization detected in the variant's graph (QDQ, MatMulInteger, ..., fp16); absent in older records */
    quantization: Type.Optional(Type.Object({ forms: Type.Array(Type.String({ maxLength: 40 }), { maxItems: 16 }), summary: Type.String({ maxLength: 200 }) })),
  }),
  /** what the verdict was computed against, e.g. "fp32" for survival, or the control set */
  verdict: Type.Object({
    status: VerdictStatus,
    summary: Type.String({ maxLength: 2000 }),
    /** layers a degradation or break is located in (1-based; 0 = embeddings) */
    layers: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
  }),
  numericGate: Type.Optional(NumericGate),
  /** seconds the probe took on this device */
  durationS: Type.Number({ minimum: 0 }),
  createdAt: Type.String({ maxLength: 64 }),
  software: Type.Optional(SoftwareFingerprint),
  data: Type.Unknown(),
});
export type ProbeRecord = Static<typeof ProbeRecord>;

/**
 * Records of the first version (agents before 0.2, rows stored by them) read as the current one: the
 * numeric gate was called `health`, and the probe kinds' old names are mapped by `kindOf`, the probe
 * registry's alias lookup. Anything that is not a version-1 record is returned as it is.
 */
export function upgradeRecord(raw: unknown, kindOf: (kind: string) => string = (k) => k): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const r = raw as Record<string, unknown>;
  if (r.recordVersion === RECORD_VERSION) return typeof r.probe === 'string' && kindOf(r.probe) !== r.probe ? { ...r, probe: kindOf(r.probe) } : raw;
  if (r.recordVersion !== 1) return raw;
  const { health, ...rest } = r;
  return { ...rest, recordVersion: RECORD_VERSION, probe: typeof r.probe === 'string' ? kindOf(r.probe) : r.probe, ...(health !== undefined ? { numericGate: health } : {}) };
}

export const isInvalidRecord = (r: ProbeRecord): boolean => r.verdict.status === 'invalid' || r.numericGate?.ok === false;
