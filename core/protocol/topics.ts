/**
 * MQTT topics of protocol v1. Every device topic sits under `edgeprobe/v1/devices/<deviceId>/` so a
 * broker ACL can pin a device to its own subtree with `%u` (the device id is its MQTT username).
 */
export const PROTOCOL_VERSION = 1;
export const TOPIC_ROOT = 'edgeprobe/v1/devices';

/**
 * Device ids double as MQTT usernames and topic levels: no wildcards, slashes or spaces (the broker ACL's
 * `%u` patterns rely on it). The one definition for the protocol, the configs and the security checks.
 */
export const DEVICE_ID_PATTERN = '^[a-zA-Z0-9_-]{1,64}$';
const DEVICE_ID_RE = new RegExp(DEVICE_ID_PATTERN);
/** The coordinator's MQTT username; the broker ACL gives job-publish rights to this name only, so no device may use it. */
export const COORDINATOR_USERNAME = 'coordinator';

/** What devices publish. */
export const DEVICE_TOPIC_KINDS = ['register', 'status', 'heartbeat', 'progress', 'results'] as const;
export type DeviceTopicKind = (typeof DEVICE_TOPIC_KINDS)[number];
/**
 * What the coordinator publishes to one device: jobs, and receipts for stored results (an agent keeps a
 * result until its receipt arrives, so a broker that crashes after acknowledging it loses nothing).
 */
export type CoordinatorTopicKind = 'jobs' | 'receipts';
const COORDINATOR_TOPIC_KINDS: readonly string[] = ['jobs', 'receipts'];
export type TopicKind = DeviceTopicKind | CoordinatorTopicKind;

/**
 * Retained kinds: a coordinator that subscribes later (first start, new database, broker restart
 * without persistence) still gets every device's latest profile and online state.
 */
export const RETAINED_KINDS: readonly TopicKind[] = ['register', 'status'];

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID_RE.test(id);
}

/**
 * The MQTT username of coordinator replica `replicaId`. The shipped broker config makes every client id
 * its username, so replicas need distinct usernames to keep distinct sessions.
 */
export function replicaUsername(replicaId: string): string {
  return `${COORDINATOR_USERNAME}-${replicaId}`;
}

/**
 * The broker user of the operator's short-lived commands (`jobs submit --broker`, `jobs cancel`): with
 * client id = username (shipped broker config) they must not log in as the running coordinator, whose
 * session the broker would end. It may only publish jobs and cancels (configs/mosquitto/acl).
 */
export const COORDINATOR_CLI_USERNAME = `${COORDINATOR_USERNAME}-cli`;

/** "coordinator" and "coordinator-<replica id>" (and coordinator-cli): names no device may use. */
export function isCoordinatorUsername(name: string): boolean {
  return name === COORDINATOR_USERNAME || name.startsWith(`${COORDINATOR_USERNAME}-`);
}

/** A valid device id that is not one of the coordinator's reserved usernames. */
export function isUsableDeviceId(id: string): boolean {
  return isValidDeviceId(id) && !isCoordinatorUsername(id);
}

export function deviceTopic(deviceId: string, kind: TopicKind): string {
  if (!isValidDeviceId(deviceId)) throw new Error(`invalid device id ${JSON.stringify(deviceId)}`);
  return `${TOPIC_ROOT}/${deviceId}/${kind}`;
}

/** Subscriptions of the coordinator: one per device-published kind, so it never receives its own job messages. */
export function coordinatorSubscriptions(): string[] {
  return DEVICE_TOPIC_KINDS.map((k) => `${TOPIC_ROOT}/+/${k}`);
}

/**
 * Subscriptions of one coordinator replica among several. Device traffic is split between the replicas
 * by an MQTT shared subscription (`$share/<group>/...`: each message goes to one member of the group).
 * `register` stays a plain subscription on every replica: brokers do not send retained messages to
 * shared subscriptions, and a replica with a fresh database must still learn every device (register
 * is an idempotent upsert, so N replicas writing it is harmless).
 */
export function replicaSubscriptions(group: string): string[] {
  return DEVICE_TOPIC_KINDS.map((k) => (k === 'register' ? `${TOPIC_ROOT}/+/${k}` : `$share/${group}/${TOPIC_ROOT}/+/${k}`));
}

export interface ParsedTopic { deviceId: string; kind: TopicKind }

/** Splits a protocol topic; undefined for anything outside protocol v1. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length).split('/');
  if (rest.length !== 2 || !isValidDeviceId(rest[0])) return undefined;
  const kind = rest[1] as TopicKind;
  if (!COORDINATOR_TOPIC_KINDS.includes(kind) && !(DEVICE_TOPIC_KINDS as readonly string[]).includes(kind)) return undefined;
  return { deviceId: rest[0], kind };
}

/** A topic devices publish on (register, status, heartbeat, progress, results); null for anything else, jobs and receipts included. */
export function parseDeviceTopic(topic: string): { deviceId: string; kind: DeviceTopicKind } | null {
  const t = parseTopic(topic);
  return t && !COORDINATOR_TOPIC_KINDS.includes(t.kind) ? { deviceId: t.deviceId, kind: t.kind as DeviceTopicKind } : null;
}
