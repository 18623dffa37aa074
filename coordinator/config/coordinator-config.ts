import { Type, type Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { BrokerConfig, checkBrokerConfig, isLoopbackBroker, mqttClientOptions } from '../../core/config/broker-config.ts';
import { configPath, loadConfigFile, type LoadedConfig } from '../../core/config/load-config.ts';
import { epError } from '../../core/errors.ts';
import { DEVICE_MESSAGE_LIMITS, MAX_MESSAGE_BYTES } from '../../core/protocol/messages.ts';
import { ModelName, SHA256_HEX_PATTERN as SHA256_HEX, VariantNameSchema } from '../../core/protocol/plan.ts';
import { COORDINATOR_CLI_USERNAME, COORDINATOR_USERNAME, DEVICE_ID_PATTERN } from '../../core/protocol/topics.ts';
import { ProbeKindName } from '../../core/results/probe-record.ts';
import { VARIANT_NAMES } from '../../core/variants/variant-types.ts';
import { canonicalKind, probeKinds } from '../../probes/index.ts';
import { isPostgresUrl } from '../store/db-url.ts';

export const COORDINATOR_CONFIG_EXAMPLE = 'configs/coordinator.example.json';

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
    name: ModelName,
    sha256: Type.String({ pattern: SHA256_HEX, description: 'the sha256 hex of the fp32 ONNX file (edgeprobe models inspect prints it)' }),
  }, { additionalProperties: false }), { default: [] }),
  probes: Type.Array(ProbeKindName, { default: probeKinds(), description: `probe kinds: ${probeKinds().join(', ')}` }),
  variants: Type.Array(VariantNameSchema, { default: [...VARIANT_NAMES], description: `variants: ${VARIANT_NAMES.join(', ')}` }),
  /** sha256 pins of user-supplied variant files plans may send (edgeprobe models inspect prints them); default none */
  userVariants: Type.Array(Type.String({ pattern: SHA256_HEX }), { default: [], description: 'sha256 hex digests of allowed user-supplied variant files' }),
}, { additionalProperties: false });
export type JobPolicyConfig = Static<typeof JobPolicyConfig>;

// The protocol's ceiling is the maximum: agents never send more (core/protocol/messages.ts), so a larger limit would be dead config.
const Bytes = (def: number) => Type.Integer({ minimum: 256, maximum: MAX_MESSAGE_BYTES, default: def, description: `a byte count (256 to ${MAX_MESSAGE_BYTES}), default ${def}` });
/** Largest message accepted per topic kind; checked before JSON.parse so a huge payload costs no parse. Defaults: the protocol's. */
export const PayloadLimitsConfig = Type.Object({
  register: Bytes(DEVICE_MESSAGE_LIMITS.register),
  status: Bytes(DEVICE_MESSAGE_LIMITS.status),
  heartbeat: Bytes(DEVICE_MESSAGE_LIMITS.heartbeat),
  progress: Bytes(DEVICE_MESSAGE_LIMITS.progress),
  results: Bytes(DEVICE_MESSAGE_LIMITS.results),
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
  db: Type.Optional(Type.String({ minLength: 1, description: 'the SQLite file path, e.g. /var/lib/edgeprobe/coordinator.sqlite, or a postgres://user@host:5432/db URL' })),
  admission: AdmissionConfig,
  policy: JobPolicyConfig,
  limits: PayloadLimitsConfig,
  identity: IdentityConfig,
  healthFile: Type.Optional(Type.String({ minLength: 1, description: 'a writable file path, e.g. /tmp/edgeprobe-health.json' })),
  /** the broker password of user coordinator-cli, for `jobs submit --broker` and `jobs cancel` (else EDGEPROBE_MQTT_PASSWORD) */
  cliPasswordFile: Type.Optional(Type.String({ minLength: 1, description: 'a file holding the MQTT password of user coordinator-cli, e.g. /etc/edgeprobe/coordinator-cli-password' })),
}, { additionalProperties: false });
export type CoordinatorConfig = Static<typeof CoordinatorConfig>;

export function loadCoordinatorConfig(path: string): LoadedConfig<CoordinatorConfig> {
  const cfg = loadConfigFile(path, CoordinatorConfig, 'coordinator config', COORDINATOR_CONFIG_EXAMPLE);
  const v = cfg.value;
  if (v.broker) {
    checkBrokerConfig(cfg.path, 'broker', v.broker);
    if (v.broker.username && v.broker.username !== COORDINATOR_USERNAME) {
      throw epError('EP_COORD_BROKER_USERNAME', { file: cfg.path, expected: COORDINATOR_USERNAME, got: v.broker.username });
    }
  }
  const a = v.admission;
  if (a.allowDevices.length === 0 && !a.fleetTokenSha256 && Object.keys(a.deviceTokenSha256).length === 0) {
    throw epError('EP_COORD_ADMISSION_EMPTY', { file: cfg.path });
  }
  if (a.allowDevices.includes(COORDINATOR_USERNAME) || COORDINATOR_USERNAME in a.deviceTokenSha256) {
    throw epError('EP_COORD_ADMISSION_LISTS_COORDINATOR', { file: cfg.path, username: COORDINATOR_USERNAME });
  }
  const unknown = v.policy.probes.findIndex((p) => !probeKinds().includes(canonicalKind(p)));
  if (unknown >= 0) throw epError('EP_CONFIG_PROBE_UNKNOWN', { file: cfg.path, field: `policy.probes[${unknown}]`, value: v.policy.probes[unknown], known: probeKinds().join(', ') });
  // probes renamed since the config was written ('compare' is now 'divergence') keep working
  v.policy.probes = [...new Set(v.policy.probes.map(canonicalKind))];
  if (v.policy.models.length === 0) {
    throw epError('EP_COORD_POLICY_NO_MODELS', { file: cfg.path });
  }
  return cfg;
}

/** What the coordinator runs with after CLI flags (which win) are merged over the config file. */
export interface CoordinatorSettings {
  brokerUrl: string;
  /** mqtt.js options: username "coordinator", password, TLS CA, MQTT v5 */
  mqtt: IClientOptions;
  db: string;
  config: CoordinatorConfig;
  /**
   * No config file and a broker on this machine (the demo, development, the fleet tests): every device that
   * registers is admitted and no job policy applies, as before admission existed. Never true with a config.
   */
  openAdmission: boolean;
  healthFile?: string;
  /** where the settings came from, for the start-up log line */
  source: string;
}

/**
 * For `edgeprobe coordinator [--config FILE] [--broker URL] [--db FILE]`: flags override the file. Without a
 * file the coordinator has no admission list, so it runs only against a broker on this machine (open
 * admission, see `openAdmission`) and refuses to start against any other.
 */
export function resolveCoordinatorSettings(flags: { broker?: string; db?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): CoordinatorSettings {
  const { cfg, brokerUrl, mqtt } = coordinatorConnection(flags, env);
  const v = cfg.value;
  if (!flags.config && !isLoopbackBroker(brokerUrl)) {
    throw epError('EP_COORD_CONFIG_REQUIRED', { brokerUrl, example: COORDINATOR_CONFIG_EXAMPLE });
  }
  // a SQLite path is relative to the config file; a PostgreSQL URL is taken as it is
  const db = flags.db ?? (v.db ? (isPostgresUrl(v.db) ? v.db : configPath(cfg, v.db)) : undefined);
  if (!db) throw epError('EP_COORD_NO_DATABASE');
  return {
    brokerUrl,
    mqtt,
    db,
    config: v,
    openAdmission: !flags.config,
    healthFile: v.healthFile ? configPath(cfg, v.healthFile) : undefined,
    source: cfg.path,
  };
}

/**
 * The coordinator's broker connection (URL and mqtt.js options as user "coordinator") from flags over an
 * optional config file. `as: 'cli'` is what `jobs submit --broker` and `jobs cancel` connect with: the
 * same broker as user coordinator-cli with its own password (cliPasswordFile, else EDGEPROBE_MQTT_PASSWORD),
 * so the broker never ends the running coordinator's session for them.
 */
export function coordinatorConnection(flags: { broker?: string; config?: string }, env: NodeJS.ProcessEnv = process.env, as: 'coordinator' | 'cli' = 'coordinator'):
  { cfg: LoadedConfig<CoordinatorConfig>; brokerUrl: string; mqtt: IClientOptions } {
  const cfg: LoadedConfig<CoordinatorConfig> = flags.config
    ? loadCoordinatorConfig(flags.config)
    : { path: '(command line)', dir: process.cwd(), value: Value.Default(CoordinatorConfig, { configVersion: 1, admission: {}, policy: {} }) as CoordinatorConfig };
  const broker: BrokerConfig = { ...(cfg.value.broker ?? { url: '' }), ...(flags.broker ? { url: flags.broker } : {}) };
  if (!broker.url) throw epError('EP_NO_BROKER_URL', { side: 'coordinator' });
  checkBrokerConfig(cfg.path, 'broker', broker);
  if (as === 'cli') {
    const { passwordFile: _coordinators, ...shared } = broker;
    const cli = { ...shared, ...(cfg.value.cliPasswordFile ? { passwordFile: cfg.value.cliPasswordFile } : {}) };
    return { cfg, brokerUrl: broker.url, mqtt: mqttClientOptions(cfg, 'cliPasswordFile', cli, COORDINATOR_CLI_USERNAME, env) };
  }
  return { cfg, brokerUrl: broker.url, mqtt: mqttClientOptions(cfg, 'broker', broker, COORDINATOR_USERNAME, env) };
}
