import type { PayloadLimitsConfig } from '../config/coordinator-config.ts';
import { reject, type Decision } from './decision.ts';
import type { DeviceTopicKind } from '../../core/protocol/topics.ts';

/**
 * Call on the raw MQTT payload BEFORE JSON.parse: a device (or whoever holds its password) must not be
 * able to make the coordinator parse and store megabytes of heartbeat.
 */
export function checkPayloadSize(limits: PayloadLimitsConfig, kind: DeviceTopicKind, byteLength: number): Decision {
  const max = limits[kind];
  return byteLength <= max ? { ok: true } : reject('too-large', `${kind} message of ${byteLength} bytes exceeds the limit of ${max} bytes (limits.${kind})`);
}
