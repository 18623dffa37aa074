import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ProbeKindName, ProbeRecord } from '../results/probe-record.ts';
import { JobPlan, Sha256Hex } from './plan.ts';
import { INT32_MAX } from './json-limits.ts';
import { DEVICE_ID_PATTERN, PROTOCOL_VERSION, type DeviceTopicKind, type TopicKind } from './topics.ts';

/** Largest message either side accepts (bytes of the UTF-8 JSON); a ProbeRecord's `data` must fit in it. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Default per-kind ceilings for what devices send, all at most MAX_MESSAGE_BYTES. The coordinator checks
 * them before JSON.parse (its config's `limits` may lower them), so a device cannot make it parse a
 * megabyte of heartbeat; only results carry probe data. A register lists up to 256 allowed models.
 */
export const DEVICE_MESSAGE_LIMITS: Readonly<Record<DeviceTopicKind, number>> = {
  register: 64 * 1024,
  status: 16 * 1024,
  heartbeat: 4 * 1024,
  progress: 16 * 1024,
  results: MAX_MESSAGE_BYTES,
};

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const ISO_TIME = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
const JobId = Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' });

export const DeviceProfile = Type.Object({
  hostname: Type.String({ maxLength: 256 }),
  platform: Type.String({ maxLength: 64 }),
  arch: Type.String({ maxLength: 64 }),
  cpuModel: Type.String({ maxLength: 256 }),
  cores: Type.Integer({ minimum: 0, maximum: INT32_MAX }),
  memoryBytes: Type.Number({ minimum: 0 }),
  nodeVersion: Type.String({ maxLength: 64 }),
  agentVersion: Type.String({ maxLength: 64 }),
});
export type DeviceProfile = Static<typeof DeviceProfile>;

export const RegisterPayload = Type.Object({
  profile: DeviceProfile,
  /** what this agent's config allows, so a coordinator can show it; the agent still checks every job itself */
  allowed: Type.Object({
    models: Type.Array(Type.Object({ name: Type.String({ maxLength: 256 }), sha256: Type.Union([Sha256Hex, Type.Null()]) }), { maxItems: 256 }),
    probes: Type.Array(ProbeKindName, { maxItems: 16 }),
  }),
});
export const StatusPayload = Type.Object({ state: Type.Union([Type.Literal('online'), Type.Literal('offline')]) });
export const HeartbeatPayload = Type.Object({
  loadPercent: Type.Number(),
  memUsedBytes: Type.Number({ minimum: 0 }),
  memTotalBytes: Type.Number({ minimum: 0 }),
  /** null where the OS exposes no sensor (most VMs and containers) */
  temperatureC: Type.Union([Type.Number(), Type.Null()]),
  rssBytes: Type.Number({ minimum: 0 }),
  uptimeS: Type.Number({ minimum: 0 }),
  outboxPending: Type.Integer({ minimum: 0, maximum: INT32_MAX }),
  activeJobId: Type.Union([JobId, Type.Null()]),
});
export const JobState = Type.Union([
  Type.Literal('accepted'), Type.Literal('running'), Type.Literal('completed'),
  Type.Literal('failed'), Type.Literal('rejected'), Type.Literal('cancelled'),
]);
export type JobState = Static<typeof JobState>;
export const ProgressPayload = Type.Object({
  jobId: JobId,
  // 32-bit: job_targets.attempt/done/total are INTEGER, which is int4 on PostgreSQL
  attempt: Type.Integer({ minimum: 1, maximum: INT32_MAX }),
  state: JobState,
  done: Type.Integer({ minimum: 0, maximum: INT32_MAX }),
  total: Type.Integer({ minimum: 0, maximum: INT32_MAX }),
  detail: Type.Optional(Type.String({ maxLength: 2000 })),
});
export const ResultsPayload = Type.Object({
  jobId: JobId,
  /** unique within the job on this device (model/variant/probe/index): a resend never makes a second row */
  recordKey: Type.String({ minLength: 1, maxLength: 512 }),
  record: ProbeRecord,
  /** set by `edgeprobe simulate` (a load tool): the coordinator stores the row flagged as simulated */
  simulated: Type.Optional(Type.Boolean()),
});
export const JobPayload = Type.Object({ jobId: JobId, attempt: Type.Integer({ minimum: 1, maximum: INT32_MAX }), plan: JobPlan });
export const JobCancelPayload = Type.Object({ jobId: JobId });
/**
 * The coordinator's answer to results messages, sent after they are committed: `stored` (stored now or
 * before: a duplicate) and `rejected` for good (the reason; resending cannot help). A result rejected
 * for a reason that can pass (its device not registered yet) gets no receipt, so the agent sends it again.
 */
export const ReceiptPayload = Type.Object({
  stored: Type.Array(Type.String({ pattern: UUID }), { maxItems: 4096 }),
  rejected: Type.Array(Type.Object({ messageId: Type.String({ pattern: UUID }), reason: Type.String({ maxLength: 2000 }) }), { maxItems: 4096 }),
  /** the device's register message was accepted and stored: its results may follow (they are held until then) */
  registered: Type.Optional(Type.Boolean()),
});

export const MESSAGE_PAYLOADS = {
  register: RegisterPayload,
  status: StatusPayload,
  heartbeat: HeartbeatPayload,
  progress: ProgressPayload,
  results: ResultsPayload,
  job: JobPayload,
  'job-cancel': JobCancelPayload,
  receipt: ReceiptPayload,
} as const satisfies Record<string, TSchema>;
export type MessageType = keyof typeof MESSAGE_PAYLOADS;
export type PayloadOf<T extends MessageType> = Static<(typeof MESSAGE_PAYLOADS)[T]>;

/** Which message types may appear on which topic kind. */
export const TYPES_ON_TOPIC: Record<TopicKind, readonly MessageType[]> = {
  register: ['register'],
  status: ['status'],
  heartbeat: ['heartbeat'],
  progress: ['progress'],
  results: ['results'],
  jobs: ['job', 'job-cancel'],
  receipts: ['receipt'],
};

export const Envelope = Type.Object({
  schemaVersion: Type.Literal(PROTOCOL_VERSION),
  messageId: Type.String({ pattern: UUID }),
  deviceId: Type.String({ pattern: DEVICE_ID_PATTERN }),
  sentAt: Type.String({ pattern: ISO_TIME }),
  /** per device and sender, increasing; persisted by the agent so it keeps increasing across restarts; int4 in the stores */
  seq: Type.Integer({ minimum: 0, maximum: INT32_MAX }),
  type: Type.Union(Object.keys(MESSAGE_PAYLOADS).map((k) => Type.Literal(k))),
  payload: Type.Unknown(),
  /**
   * `register` only: the pre-shared registration token. The coordinator's admission check consumes it and
   * removes it before the message is validated further or stored (coordinator/security/screen-message.ts).
   */
  registrationToken: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export type Envelope = Static<typeof Envelope>;

export interface Message<T extends MessageType = MessageType> extends Omit<Envelope, 'type' | 'payload'> {
  type: T;
  payload: PayloadOf<T>;
}
