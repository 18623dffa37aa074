import { randomUUID } from 'node:crypto';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import { DEVICE_MESSAGE_LIMITS, Envelope, MAX_MESSAGE_BYTES, MESSAGE_PAYLOADS, TYPES_ON_TOPIC, type Message, type MessageType, type PayloadOf } from './messages.ts';
import { normalizePlan, planVariantsProblem, type JobPlan } from './plan.ts';
import { PROTOCOL_VERSION, parseTopic } from './topics.ts';

/** Builds an envelope around a payload; the caller owns `seq` (it must persist it to keep it increasing). */
export function makeMessage<T extends MessageType>(deviceId: string, seq: number, type: T, payload: PayloadOf<T>): Message<T> {
  return { schemaVersion: PROTOCOL_VERSION, messageId: randomUUID(), deviceId, sentAt: new Date().toISOString(), seq, type, payload };
}

/** Serialises a message; refuses one above its kind's protocol limit, so it fails on the sender, not at the receiver. */
export function encodeMessage(msg: Message): string {
  const text = JSON.stringify(msg);
  const bytes = Buffer.byteLength(text, 'utf8');
  const limit = (DEVICE_MESSAGE_LIMITS as Partial<Record<string, number>>)[msg.type] ?? MAX_MESSAGE_BYTES;
  if (bytes > limit) throw new Error(`${msg.type} message of ${bytes} bytes exceeds the protocol limit of ${limit} bytes`);
  return text;
}

export type DecodeResult = { ok: true; message: Message } | { ok: false; reason: string; messageId?: string };

// Compiled once: the coordinator validates thousands of messages per second.
const envelopeCheck = TypeCompiler.Compile(Envelope);
const payloadChecks = Object.fromEntries(
  Object.entries(MESSAGE_PAYLOADS).map(([k, s]) => [k, TypeCompiler.Compile(s as TSchema)]),
) as Record<MessageType, TypeCheck<TSchema>>;

function firstError(check: TypeCheck<TSchema>, value: unknown, where: string): string {
  const e = check.Errors(value).First();
  return e ? `${where}${e.path || '/'}: ${e.message}` : `${where}: invalid`;
}

/**
 * Decodes and validates one received message: size, JSON, then `validateMessage`. Never throws.
 */
export function decodeMessage(topic: string, raw: Uint8Array | string): DecodeResult {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
  if (size > MAX_MESSAGE_BYTES) return { ok: false, reason: `oversized: ${size} bytes > limit ${MAX_MESSAGE_BYTES}` };
  if (!parseTopic(topic)) return { ok: false, reason: `not a protocol v${PROTOCOL_VERSION} topic: ${topic}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${(err as Error).message}` };
  }
  return validateMessage(topic, value);
}

/**
 * Validates an already parsed message (the coordinator parses once, in its security screen): envelope,
 * protocol version, that the topic's device and kind match the envelope, and the payload schema of its type.
 */
export function validateMessage(topic: string, value: unknown): DecodeResult {
  const t = parseTopic(topic);
  if (!t) return { ok: false, reason: `not a protocol v${PROTOCOL_VERSION} topic: ${topic}` };
  const obj = value as Record<string, unknown> | null;
  const messageId = obj && typeof obj === 'object' && typeof obj.messageId === 'string' ? obj.messageId : undefined;
  if (obj && typeof obj === 'object' && 'schemaVersion' in obj && obj.schemaVersion !== PROTOCOL_VERSION) {
    return { ok: false, messageId, reason: `unsupported schemaVersion ${JSON.stringify(obj.schemaVersion)} (this side speaks ${PROTOCOL_VERSION})` };
  }
  if (!envelopeCheck.Check(value)) return { ok: false, messageId, reason: `bad envelope: ${firstError(envelopeCheck, value, 'envelope')}` };
  const env = value as Envelope;
  if (env.deviceId !== t.deviceId) return { ok: false, messageId, reason: `envelope deviceId ${env.deviceId} does not match topic device ${t.deviceId}` };
  const type = env.type as MessageType;
  if (!TYPES_ON_TOPIC[t.kind].includes(type)) return { ok: false, messageId, reason: `a ${type} message is not allowed on the ${t.kind} topic` };
  // a coordinator before 0.2 sends probe blocks at the top of the plan
  if (type === 'job' && typeof env.payload === 'object' && env.payload !== null) {
    const p = env.payload as Record<string, unknown>;
    env.payload = { ...p, plan: normalizePlan(p.plan) };
  }
  if (!payloadChecks[type].Check(env.payload)) return { ok: false, messageId, reason: `bad ${type} payload: ${firstError(payloadChecks[type], env.payload, 'payload')}` };
  if (type === 'job') {
    const problem = planVariantsProblem((env.payload as { plan: JobPlan }).plan);
    if (problem) return { ok: false, messageId, reason: `bad job payload: ${problem}` };
  }
  return { ok: true, message: env as Message };
}

/** Checks a payload before it is queued, so a probe's bug fails its job on the device instead of at the coordinator. */
export function payloadProblem(type: MessageType, payload: unknown): string | undefined {
  return payloadChecks[type].Check(payload) ? undefined : firstError(payloadChecks[type], payload, `${type} payload`);
}
