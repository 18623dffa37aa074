import type { IdentityConfig } from '../config/coordinator-config.ts';
import { reject, type Decision } from './decision.ts';

export interface IdentityEvidence {
  /** device id in the MQTT topic (bound to the MQTT username by the broker ACL) */
  topicDeviceId: string;
  /** deviceId field of the message body */
  envelopeDeviceId: unknown;
  /** the sender's username as stamped by the broker (MQTT 5 user property), when configured and present */
  brokerUsername?: string;
}

/**
 * The message body must name the device its topic names. With Mosquitto the ACL already binds topic to
 * username (pattern %u), so topic == body closes the chain username -> topic -> body. A broker that stamps
 * the username in a user property adds a direct check; `requireUsernameProperty` makes it mandatory.
 */
export function checkIdentity(cfg: IdentityConfig, ev: IdentityEvidence): Decision {
  if (typeof ev.envelopeDeviceId !== 'string' || ev.envelopeDeviceId !== ev.topicDeviceId) {
    return reject('identity-mismatch', `message on the topic of ${ev.topicDeviceId} claims deviceId ${JSON.stringify(ev.envelopeDeviceId)}`);
  }
  if (cfg.usernameProperty) {
    if (ev.brokerUsername === undefined) {
      if (cfg.requireUsernameProperty) return reject('identity-mismatch', `no ${cfg.usernameProperty} user property (identity.requireUsernameProperty is on)`);
    } else if (ev.brokerUsername !== ev.topicDeviceId) {
      return reject('identity-mismatch', `sent by MQTT user ${ev.brokerUsername} on the topic of ${ev.topicDeviceId}`);
    }
  }
  return { ok: true };
}

/**
 * The user property from an mqtt.js packet (`packet.properties?.userProperties`). A repeated property
 * arrives as an array; then every value must agree, or a sender could append its own claim.
 */
export function brokerUsernameFrom(userProperties: Record<string, string | string[]> | undefined, name: string | undefined): string | undefined {
  if (!name || !userProperties || !(name in userProperties)) return undefined;
  const v = userProperties[name];
  const values = Array.isArray(v) ? v : [v];
  // Disagreeing values cannot equal any single device id; returning them joined makes checkIdentity refuse.
  return new Set(values).size === 1 ? values[0] : values.join(',');
}
