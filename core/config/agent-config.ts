import { Type, type Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { UserError } from '../errors.ts';
import { BrokerConfig, DEVICE_ID_PATTERN, DEVICE_ID_RE, COORDINATOR_USERNAME, checkBrokerConfig, mqttClientOptions } from './broker-config.ts';
import { loadConfigFile, readReferencedFile, configPath, type LoadedConfig } from './load-config.ts';

export const AGENT_CONFIG_EXAMPLE = 'configs/agent.deploy.example.json';

export const AgentConfig = Type.Object({
  configVersion: Type.Literal(1, { description: '1' }),
  deviceId: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN, description: 'the device id: 1-64 letters, digits, _ or - (also its MQTT username)' })),
  broker: Type.Optional(BrokerConfig),
  /** pre-shared registration token, when the coordinator admits devices by token rather than by allow-list */
  registrationTokenFile: Type.Optional(Type.String({ minLength: 1, description: 'a file holding the pre-shared registration token' })),
  /** where the agent keeps models, variants and its outbox; default: the edgeprobe cache dir */
  dataDir: Type.Optional(Type.String({ minLength: 1, description: 'a writable directory, e.g. /var/lib/edgeprobe' })),
  heartbeatIntervalS: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'seconds between heartbeats (5-3600)' }),
  /** the agent writes its health here; `edgeprobe health` (the container HEALTHCHECK) reads it */
  healthFile: Type.Optional(Type.String({ minLength: 1, description: 'a writable file path, e.g. /tmp/edgeprobe-health.json' })),
}, { additionalProperties: false });
export type AgentConfig = Static<typeof AgentConfig>;

export function loadAgentConfig(path: string): LoadedConfig<AgentConfig> {
  const cfg = loadConfigFile(path, AgentConfig, 'agent config', AGENT_CONFIG_EXAMPLE);
  const v = cfg.value;
  if (v.deviceId === COORDINATOR_USERNAME) {
    throw new UserError(`${cfg.path}: deviceId "${COORDINATOR_USERNAME}" is reserved for the coordinator`, 'choose another device id');
  }
  if (v.broker) {
    checkBrokerConfig(cfg.path, 'broker', v.broker);
    if (v.deviceId) checkDeviceUsername(cfg.path, v.broker, v.deviceId);
  }
  return cfg;
}

/** The broker ACL lets a user publish only under edgeprobe/v1/devices/<its username>/..., so they must match. */
function checkDeviceUsername(file: string, broker: BrokerConfig, deviceId: string): void {
  if (broker.username && broker.username !== deviceId) {
    throw new UserError(`${file}: broker.username "${broker.username}" differs from deviceId "${deviceId}"`,
      'remove broker.username (it defaults to deviceId): the broker only lets a device publish under its own username');
  }
}

/** What the agent runs with after CLI flags (which win) are merged over the config file. */
export interface AgentSettings {
  deviceId: string;
  brokerUrl: string;
  /** mqtt.js options: credentials, TLS files, MQTT v5 */
  mqtt: IClientOptions;
  registrationToken?: string;
  dataDir?: string;
  heartbeatIntervalS: number;
  healthFile?: string;
}

/**
 * Hook for `edgeprobe agent --broker URL --device-id ID [--config FILE]`: flags override the file; without a
 * file the password comes from EDGEPROBE_MQTT_PASSWORD and plain mqtt:// is accepted only to localhost.
 */
export function resolveAgentSettings(flags: { broker?: string; deviceId?: string; config?: string }, env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const cfg: LoadedConfig<AgentConfig> = flags.config
    ? loadAgentConfig(flags.config)
    : { path: '(command line)', dir: process.cwd(), value: { configVersion: 1, heartbeatIntervalS: 30 } };
  const v = cfg.value;
  const deviceId = flags.deviceId ?? v.deviceId;
  if (!deviceId) throw new UserError('no device id', `pass --device-id ID or set deviceId in the agent config (see ${AGENT_CONFIG_EXAMPLE})`);
  if (!DEVICE_ID_RE.test(deviceId) || deviceId === COORDINATOR_USERNAME) {
    throw new UserError(`invalid device id "${deviceId}"`, `use 1-64 letters, digits, _ or - (not "${COORDINATOR_USERNAME}")`);
  }
  const broker: BrokerConfig = { ...(v.broker ?? { url: '' }), ...(flags.broker ? { url: flags.broker } : {}) };
  if (!broker.url) throw new UserError('no broker URL', `pass --broker mqtts://HOST:8883 or set broker.url in the agent config`);
  checkBrokerConfig(cfg.path, 'broker', broker);
  checkDeviceUsername(cfg.path, broker, deviceId);
  return {
    deviceId,
    brokerUrl: broker.url,
    mqtt: mqttClientOptions(cfg, 'broker', broker, deviceId, env),
    registrationToken: v.registrationTokenFile
      ? readReferencedFile(cfg, 'registrationTokenFile', v.registrationTokenFile).toString('utf8').trim()
      : env.EDGEPROBE_REGISTRATION_TOKEN,
    dataDir: v.dataDir ? configPath(cfg, v.dataDir) : undefined,
    heartbeatIntervalS: v.heartbeatIntervalS,
    healthFile: v.healthFile ? configPath(cfg, v.healthFile) : undefined,
  };
}
