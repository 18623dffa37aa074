import { createHash, timingSafeEqual } from 'node:crypto';
import { COORDINATOR_USERNAME, isCoordinatorUsername } from '../../core/protocol/topics.ts';
import type { AdmissionConfig } from '../config/coordinator-config.ts';
import { reject, type Decision } from './decision.ts';

/**
 * How a device was admitted; stored with its registration so a later config change can revoke it.
 * 'open-loopback': a coordinator without a config on a broker on its own machine (demo, development)
 * admits every device; such registrations count for nothing once the coordinator runs with a config.
 */
export type AdmittedVia = 'allow-list' | 'device-token' | 'fleet-token' | 'open-loopback';

export interface RegistrationRequest {
  deviceId: string;
  /** the pre-shared registration token from the register message, if any */
  token?: unknown;
}

/**
 * Decides a register message. A per-device token, when configured for this device, is required even if the
 * device is also allow-listed (the stronger rule wins); then the allow-list; then the fleet-wide token.
 * Tokens are compared as sha256 digests in constant time; the config holds only digests.
 */
export function decideRegistration(a: AdmissionConfig | 'open-loopback', req: RegistrationRequest): Decision<{ via: AdmittedVia }> {
  const { deviceId } = req;
  if (isCoordinatorUsername(deviceId)) return reject('reserved-id', `"${deviceId}" is a coordinator username (${COORDINATOR_USERNAME}, ${COORDINATOR_USERNAME}-<replica>) and cannot register as a device`);
  if (a === 'open-loopback') return { ok: true, via: 'open-loopback' };
  const token = typeof req.token === 'string' && req.token.length > 0 ? req.token : undefined;
  const perDevice = a.deviceTokenSha256[deviceId];
  if (perDevice) {
    return token && digestEquals(token, perDevice)
      ? { ok: true, via: 'device-token' }
      : reject('bad-token', `${deviceId} has a registration token configured and sent ${token ? 'a wrong one' : 'none'}`);
  }
  if (a.allowDevices.includes(deviceId)) return { ok: true, via: 'allow-list' };
  if (a.fleetTokenSha256 && token) {
    return digestEquals(token, a.fleetTokenSha256)
      ? { ok: true, via: 'fleet-token' }
      : reject('bad-token', `${deviceId} sent a wrong fleet registration token`);
  }
  return reject('not-admitted', `${deviceId} is not in admission.allowDevices and sent no valid registration token`);
}

/**
 * Whether messages (results, progress, status, heartbeat) from a device may be processed: it must have
 * registered, and the route that admitted it must still be in the config (removing a device from the
 * allow-list or its token revokes it at the next coordinator start).
 */
export function checkRegistered(a: AdmissionConfig | 'open-loopback', deviceId: string, registration: { via: AdmittedVia } | undefined): Decision {
  if (!registration) return reject('not-registered', `unknown device ${deviceId}: it has not registered (or its registration was refused)`);
  if (a === 'open-loopback') return { ok: true };
  const still = registration.via === 'allow-list' ? a.allowDevices.includes(deviceId)
    : registration.via === 'device-token' ? deviceId in a.deviceTokenSha256
      : registration.via === 'fleet-token' ? Boolean(a.fleetTokenSha256)
        : false;
  return still ? { ok: true } : reject('revoked', `${deviceId} was admitted by ${registration.via}, which the current admission config no longer grants`);
}

function digestEquals(token: string, expectedHex: string): boolean {
  const got = createHash('sha256').update(token, 'utf8').digest();
  const want = Buffer.from(expectedHex, 'hex');
  return want.length === got.length && timingSafeEqual(got, want);
}
