import { DEVICE_ID_RE } from '../../core/config/broker-config.ts';

/** Topics of protocol v1 that devices publish on: edgeprobe/v1/devices/<deviceId>/<kind>. */
export const DEVICE_MESSAGE_KINDS = ['register', 'status', 'heartbeat', 'progress', 'results'] as const;
export type DeviceMessageKind = (typeof DEVICE_MESSAGE_KINDS)[number];
const PREFIX = 'edgeprobe/v1/devices/';

/** The device id and kind of a device-published topic, or null for anything else (including jobs topics). */
export function parseDeviceTopic(topic: string): { deviceId: string; kind: DeviceMessageKind } | null {
  if (!topic.startsWith(PREFIX)) return null;
  const parts = topic.slice(PREFIX.length).split('/');
  if (parts.length !== 2) return null;
  const [deviceId, kind] = parts;
  if (!DEVICE_ID_RE.test(deviceId)) return null;
  return (DEVICE_MESSAGE_KINDS as readonly string[]).includes(kind) ? { deviceId, kind: kind as DeviceMessageKind } : null;
}
