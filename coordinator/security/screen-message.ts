import type { CoordinatorConfig } from '../config/coordinator-config.ts';
import { checkRegistered, decideRegistration, type AdmittedVia } from './admission.ts';
import { reject, type Rejection } from './decision.ts';
import { brokerUsernameFrom, checkIdentity } from './identity.ts';
import { checkPayloadSize } from './payload-limits.ts';
import { JSON_LIMITS, jsonDepthExceeds, jsonLimitProblem, timeProblem } from '../../core/protocol/json-limits.ts';
import { parseDeviceTopic, type DeviceTopicKind } from '../../core/protocol/topics.ts';
import { scanResultsJson, storedRecordText, type RecordScan } from '../../core/protocol/record-span.ts';

export interface InboundMessage {
  topic: string;
  payload: Uint8Array;
  /** mqtt.js `packet.properties?.userProperties` */
  userProperties?: Record<string, string | string[]>;
}

export interface ScreenContext {
  config: Pick<CoordinatorConfig, 'admission' | 'limits' | 'identity'>;
  /** the stored registration of a device, if it has one (from the coordinator's store) */
  registrationOf: (deviceId: string) => { via: AdmittedVia } | undefined;
  /** a coordinator without a config on a loopback broker: every device may register (CoordinatorSettings.openAdmission) */
  openAdmission?: boolean;
  /** the receiver's clock, for the timestamp window (core/protocol/json-limits.ts); defaults to Date.now() */
  nowMs?: number;
}

/** The envelope's `sentAt` and a result's `record.createdAt` must be real instants in TIME_WINDOW (types are the schema's to check). */
function timesProblem(kind: DeviceTopicKind, obj: Record<string, unknown>, nowMs: number): string | undefined {
  if (typeof obj.sentAt === 'string') {
    const p = timeProblem(obj.sentAt, nowMs);
    if (p) return `sentAt ${JSON.stringify(obj.sentAt.slice(0, 40))}: ${p}`;
  }
  const record = kind === 'results' ? (obj.payload as { record?: { createdAt?: unknown } } | undefined)?.record : undefined;
  if (record && typeof record.createdAt === 'string') {
    const p = timeProblem(record.createdAt, nowMs);
    if (p) return `payload/record/createdAt ${JSON.stringify(record.createdAt.slice(0, 40))}: ${p}`;
  }
  return undefined;
}

export type Accepted = {
  ok: true;
  deviceId: string;
  kind: DeviceTopicKind;
  /** the parsed JSON object; its schema is still the fleet protocol's to check */
  body: Record<string, unknown>;
  /** register messages only: how the device was admitted; store it with the registration */
  admittedVia?: AdmittedVia;
  /**
   * results messages only: the device's own text of `payload.record`, which parses to exactly
   * `body.payload.record` (core/protocol/record-span.ts); the store keeps it instead of serialising again
   */
  recordText?: string;
};
export type Refused = Rejection & { topic: string; deviceId?: string; kind?: DeviceTopicKind; logLine: string };

/**
 * Every message a device publishes goes through here before the coordinator stores or acts on it, in
 * this order: topic shape, size and nesting depth (before parsing), JSON object, structural limits
 * (array, string and key sizes, finite numbers, no U+0000), timestamps, identity (body vs topic vs broker
 * username), then admission (register) or registration (everything else). A Refused message must be
 * logged (`logLine`) and dropped: nothing of it is stored.
 */
export function screenDeviceMessage(msg: InboundMessage, ctx: ScreenContext): Accepted | Refused {
  const refuse = (r: Rejection, deviceId?: string, kind?: DeviceTopicKind): Refused => ({
    ...r, topic: msg.topic, deviceId, kind,
    logLine: `security: refused ${kind ?? 'message'} from ${deviceId ?? '?'} on ${msg.topic}: ${r.code}: ${r.reason}`,
  });
  const t = parseDeviceTopic(msg.topic);
  if (!t) return refuse(reject('bad-topic', 'not a device topic of protocol v1'));
  const { deviceId, kind } = t;
  const size = checkPayloadSize(ctx.config.limits, kind, msg.payload.byteLength);
  if (!size.ok) return refuse(size, deviceId, kind);

  // before JSON.parse: nesting is what makes a small message expensive to parse and impossible to serialise
  // results: the same pass finds the record's bytes
  const scan: RecordScan = kind === 'results' ? scanResultsJson(msg.payload, JSON_LIMITS.maxDepth) : { tooDeep: jsonDepthExceeds(msg.payload, JSON_LIMITS.maxDepth) };
  if (scan.tooDeep) {
    return refuse(reject('over-limit', `JSON nested deeper than ${JSON_LIMITS.maxDepth} levels`), deviceId, kind);
  }
  let body: unknown;
  // a view, not a copy: the coordinator screens thousands of results per second
  const text = Buffer.from(msg.payload.buffer, msg.payload.byteOffset, msg.payload.byteLength).toString('utf8');
  try {
    body = JSON.parse(text);
  } catch {
    // not the parser's message: it quotes the payload, which could hold a registration token
    return refuse(reject('bad-json', `malformed JSON (${msg.payload.byteLength} bytes)`), deviceId, kind);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse(reject('bad-json', 'payload is not a JSON object'), deviceId, kind);
  const obj = body as Record<string, unknown>;
  const structure = jsonLimitProblem(obj);
  if (structure) {
    const code = /not finite|U\+0000/.test(structure.reason) ? 'bad-value' : 'over-limit';
    return refuse(reject(code, `${structure.path || '/'}: ${structure.reason}`), deviceId, kind);
  }
  const time = timesProblem(kind, obj, ctx.nowMs ?? Date.now());
  if (time) return refuse(reject('bad-time', time), deviceId, kind);

  const id = checkIdentity(ctx.config.identity, {
    topicDeviceId: deviceId,
    envelopeDeviceId: obj.deviceId,
    brokerUsername: brokerUsernameFrom(msg.userProperties, ctx.config.identity.usernameProperty),
  });
  if (!id.ok) return refuse(id, deviceId, kind);

  const admission = ctx.openAdmission ? 'open-loopback' : ctx.config.admission;
  if (kind === 'register') {
    const adm = decideRegistration(admission, { deviceId, token: obj.registrationToken });
    if (!adm.ok) return refuse(adm, deviceId, kind);
    // The token has done its job; it must not be stored with the registration.
    const { registrationToken: _dropped, ...rest } = obj;
    return { ok: true, deviceId, kind, body: rest, admittedVia: adm.via };
  }
  const reg = checkRegistered(admission, deviceId, ctx.registrationOf(deviceId));
  if (!reg.ok) return refuse(reg, deviceId, kind);
  const recordText = kind === 'results' ? storedRecordText(msg.payload, scan, text) : undefined;
  return { ok: true, deviceId, kind, body: obj, ...(recordText !== undefined ? { recordText } : {}) };
}
