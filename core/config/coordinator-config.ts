import { Type, type Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { UserError } from '../errors.ts';
import { ProbeKind } from '../results/probe-record.ts';
import { BrokerConfig, COORDINATOR_USERNAME, DEVICE_ID_PATTERN, checkBrokerConfig, mqttClientOptions } from './broker-config.ts';
import { configPath, loadConfigFile, type LoadedConfig } from './load-config.ts';

export const COORDINATOR_CONFIG_EXAMPLE = 'configs/coordinator.example.json';
const SHA256_HEX = '^[0-9a-f]{64}$';
const VariantNameSchema = Type.Union([Type.Literal('fp32'), Type.Literal('fp16'), Type.Literal('int8-dynamic'), Type.Literal('int8-weight')]);

/** Which devices may register (and so have their results stored). At least one route must be set. */
export const AdmissionConfig = Type.Object({
  /** device ids admitted on sight (the pre-shared list) */
  allowDevices: Type.Array(Type.String({ pattern: DEVICE_ID_PATTERN, description: 'a device id: 1-64 letters, digits, _ or -' }), { default: [] }),
  /** sha256 (hex) of a fleet-wide registration token; the token itself stays on the devices */
  fleetTokenSha256: Type.Optional(Type.String({ pattern: SHA256_HEX, description: 'the sha256 hex of the token: printf %s TOKEN | sha256sum' })),
  /** per-device token hashes, for fleets that revoke devices one by one */
  deviceTokenSha256: Type.Record(Type.String({ pattern: DEVICE_ID_PATTERN }), Type.String({ pattern: SHA256_HEX, description: 'a sha256 hex digest' }), { default: {} }),
}, { additionalProperties: false });
export type AdmissionConfig = Static<typeof AdmissionConfig>;

/** What jobs the coordinator may send: only these models (by content hash), probes and variants. */
export const JobPolicyConfig = Type.Object({
  models: Type.Array(Type.Object({
    name: Type.String({ minLength: 1, description: 'the model name' }),
    sha256: Type.String({ pattern: SHA256_HEX, description: 'the sha256 hex of the fp32 ONNX file (edgeprobe models inspect prints it)' }),
  }, { additionalProperties: false }), { default: [] }),
  probes: Type.Array(ProbeKind, { default: ['benchmark', 'attention', 'properties', 'compare', 'task'], description: 'probe kinds: benchmark, attention, properties, compare, task' }),
  variants: Type.Array(VariantNameSchema, { default: ['fp32', 'fp16', 'int8-dynamic', 'int8-weight'], description: 'variants: fp32, fp16, int8-dynamic, int8-weight' }),
}, { additionalProperties: false });
export type JobPolicyConfig = Static<typeof JobPolicyConfig>;

const Bytes = (def: number) => Type.Integer({ minimum: 256, maximum: 64 * 1024 * 1024, default: def, description: `a byte count (256 to 67108864), default ${def}` });
/** Largest message accepted per topic kind; checked before JSON.parse so a huge payload costs no parse. */
export const PayloadLimitsConfig = Type.Object({
  register: Bytes(16 * 1024),
  status: Bytes(16 * 1024),
  heartbeat: Bytes(4 * 1024),
  progress: Bytes(16 * 1024),
  results: Bytes(4 * 1024 * 1024),
}, { additionalProperties: false, default: {} });
export type PayloadLimitsConfig = Static<typeof PayloadLimitsConfig>;

export const IdentityConfig = Type.Object({
  /**
   * Name of an MQTT v5 user property the BROKER stamps with the sender's username. Mosquitto does not do
   * this (its ACL binds the topic to the username instead); an embedded broker can. A publisher could
   * set the property itself, so it only adds safety when the broker overwrites it.
   */
  usernameProperty: Type.Optional(Type.String({ minLength: 1, description: 'a user property name, e.g. edgeprobe-username' })),
  /** reject messages without that property (only when the broker always sets it) */
  requireUsernameProperty: Type.Boolean({ default: false, description: 'true or false' }),
}, { additionalProperties: false, default: {} });
export type IdentityConfig = Static<typeof IdentityConfig>;

export const CoordinatorConfig = Type.Object({
  configVersion: Type.Literal(1, { description: '1' }),
  broker: Type.Optional(BrokerConfig),
  db: Type.Optional(Type.String({ minLength: 1, description: 'the SQLite file path, e.g. /var/lib/edgeprobe/coordinator.sqlite' })),
  admission: AdmissionConfig,
  policy: JobPolicyConfig,
  limits: PayloadLimitsConfig,
  identity: IdentityConfig,
  healthFile: Type.Optional(Type.String({ minLength: 1, description: 'a writable file path, e.g. /tmp/edgeprobe-health.json' })),
}, { additionalProperties: false });
export type CoordinatorConfig = Static<typeof CoordinatorConfig>;

export function loadCoordinatorConfig(path: string): LoadedConfig<CoordinatorConfig> {
  const cfg = loadConfigFile(path, CoordinatorConfig, 'coordinator config', COORDINATOR_CONFIG_EXAMPLE);
  const v = cfg.value;
  if (v.broker) {
    checkBrokerConfig(cfg.path, 'broker', v.broker);
    if (v.broker.username && v.broker.username !== COORDINATOR_USERNAME) {
      throw new UserError(`${cfg.path}: broker.username must be "${COORDINATOR_USERNAME}" (got "${v.broker.username}")`,
        `remove broker.username: the broker ACL gives job-publish rights to "${COORDINATOR_USERNAME}" only`);
    }
  }
  const a = v.admission;
  if (a.allowDevices.length === 0 && !a.fleetTokenSha256 && Object.keys(a.deviceTokenSha256).length === 0) {
    throw new UserError(`${cfg.path}: admission admits no device (allowDevices is empty and no token hash is set)`,
      'list device ids in admission.allowDevices, or set admission.fleetTokenSha256 (see docs/security.md)');
  }
  if (a.allowDevices.includes(COORDINATOR_USERNAME) || COORDINATOR_USERNAME in a.deviceTokenSha256) {
    throw new UserError(`${cfg.path}: admission lists "${COORDINATOR_USERNAME}" as a device`, `remove it: "${COORDINATOR_USERNAME}" is the coordinator's own username`);
  }
  if (v.policy.models.length === 0) {
    throw new UserError(`${cfg.path}: policy.models is empty, so no job could be sent`,
      'add {"name": ..., "sha256": ...} for each model the fleet may run (edgeprobe models inspect MODEL prints the sha256)');
  }
  return cfg;
}

/** Hook for `edgeprobe coordinator --broker URL --db FILE [--config FILE]`: flags override the file. */
export interface CoordinatorSettings {
  brokerUrl: string;
  mqtt: IClientOptions;
  db: string;
  config: CoordinatorConfig;
}

export function resolveCoordinatorSettings(flags: { broker?: string; db?: string; config: string }, env: NodeJS.ProcessEnv = process.env): CoordinatorSettings {
  const cfg = loadCoordinatorConfig(flags.config);
  const v = cfg.value;
  const broker: BrokerConfig = { ...(v.broker ?? { url: '' }), ...(flags.broker ? { url: flags.broker } : {}) };
  if (!broker.url) throw new UserError('no broker URL', 'pass --broker mqtts://HOST:8883 or set broker.url in the coordinator config');
  checkBrokerConfig(cfg.path, 'broker', broker);
  const db = flags.db ?? (v.db ? configPath(cfg, v.db) : undefined);
  if (!db) throw new UserError('no database file', 'pass --db FILE or set db in the coordinator config');
  return { brokerUrl: broker.url, mqtt: mqttClientOptions(cfg, 'broker', broker, COORDINATOR_USERNAME, env), db, config: v };
}
