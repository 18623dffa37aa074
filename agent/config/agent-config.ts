import { Type, type Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { BrokerConfig, checkBrokerConfig, mqttClientOptions } from '../../core/config/broker-config.ts';
import { configPath, loadConfigFile, readReferencedFile, type LoadedConfig } from '../../core/config/load-config.ts';
import { epError } from '../../core/errors.ts';
import { ModelName, Sha256Hex, VariantNameSchema } from '../../core/protocol/plan.ts';
import { COORDINATOR_USERNAME, DEVICE_ID_PATTERN, isUsableDeviceId } from '../../core/protocol/topics.ts';
import { ProbeKindName } from '../../core/results/probe-record.ts';
import { canonicalKind, probeKinds } from '../../probes/index.ts';

/**
 * The one agent config (`edgeprobe agent --config`, `edgeprobe config check agent`): who the device is and
 * how it reaches the broker, plus what it may run. It lives with the agent because only the agent reads
 * it; the parts both processes share (file loading with field-named errors, the broker section and its
 * TLS/password rules) are in core/config.
 */
export const AGENT_CONFIG_EXAMPLE = 'configs/agent.example.json';

const RemoteFile = Type.Object({ name: Type.String({ pattern: '^[a-zA-Z0-9_.-]+$' }), url: Type.String({ pattern: '^https?://' }), sha256: Sha256Hex }, { additionalProperties: false });

/**
 * One model an agent may run. Exactly one source: a local model directory (pinned by the sha256 of its
 * ONNX file), a URL (the ONNX file, plus tokenizer/config files, every one with its sha256), or a
 * generated random-weight model (for demos and tests; deterministic from its seed).
 */
/** Generated random-weight models an agent config may name: the demo encoders and the decoders (docs/decoders.md). */
const GENERATED_NAMES = ['demo', 'tiny', 'gpt2-demo', 'llama-demo', 'gpt2-induction', 'llama-induction'] as const;

export const AllowedModel = Type.Union([
  Type.Object({ name: ModelName, path: Type.String({ minLength: 1 }), sha256: Sha256Hex }, { additionalProperties: false }),
  Type.Object({ name: ModelName, url: Type.String({ pattern: '^https?://' }), sha256: Sha256Hex, files: Type.Array(RemoteFile, { minItems: 1 }) }, { additionalProperties: false }),
  Type.Object({ name: ModelName, generated: Type.Union(GENERATED_NAMES.map((n) => Type.Literal(n))), sha256: Type.Optional(Sha256Hex) }, { additionalProperties: false }),
], { description: `one of {name, path, sha256}, {name, url, sha256, files}, {name, generated: ${GENERATED_NAMES.map((n) => `"${n}"`).join('|')}}` });
export type AllowedModel = Static<typeof AllowedModel>;

/** Without a config (or without these fields) an agent allows only the generated demo model and the benchmark, which is safe anywhere. */
const DEFAULT_MODELS: AllowedModel[] = [{ name: 'demo', generated: 'demo' }];
const DEFAULT_PROBES: string[] = ['benchmark'];

export const AgentConfig = Type.Object({
  configVersion: Type.Literal(1, { description: '1' }),
  deviceId: Type.Optional(Type.String({ pattern: DEVICE_ID_PATTERN, description: 'the device id: 1-64 letters, digits, _ or - (also its MQTT username)' })),
  broker: Type.Optional(BrokerConfig),
  /** pre-shared registration token, when the coordinator admits devices by token rather than by allow-list */
  registrationTokenFile: Type.Optional(Type.String({ minLength: 1, description: 'a file holding the pre-shared registration token' })),
  /** the agent's outbox and job state live in <dataDir>/state; default .edgeprobe/agents/<deviceId> */
  dataDir: Type.Optional(Type.String({ minLength: 1, description: 'a writable directory, e.g. /var/lib/edgeprobe' })),
  heartbeatIntervalS: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'seconds between heartbeats (1-3600)' }),
  /** a result the broker acknowledged but the coordinator has not confirmed (receipt) within this is sent again */
  receiptTimeoutS: Type.Number({ minimum: 1, maximum: 86_400, default: 60, description: 'seconds to wait for the coordinator\'s receipt of a result before sending it again (1-86400)' }),
  /** the agent rewrites its health here; `edgeprobe health` (the container HEALTHCHECK) reads it */
  healthFile: Type.Optional(Type.String({ minLength: 1, description: 'a writable file path, e.g. /tmp/edgeprobe-health.json' })),
  // What jobs may ask for: the agent refuses any plan outside these, whatever the coordinator sends.
  models: Type.Array(AllowedModel, { maxItems: 256, default: DEFAULT_MODELS }),
  probes: Type.Array(ProbeKindName, { uniqueItems: true, default: DEFAULT_PROBES, description: 'probe kinds (probes/index.ts): benchmark, attention, divergence, properties' }),
  /** where the properties probe finds norm sets a plan names (mcrae/, buchanan/, binder/ or CSV/TSV files) */
  normsDir: Type.Optional(Type.String({ minLength: 1, description: 'a directory of feature norms, e.g. /var/lib/edgeprobe/norms' })),
  /** variants this device may build; default all the agent build supports */
  variants: Type.Optional(Type.Array(VariantNameSchema, { uniqueItems: true, description: 'variants: fp32, fp16, int8-dynamic, int8-weight' })),
  /** where user-supplied variant files a plan names live (and URL ones are downloaded to); without it plans may not send any */
  userVariantsDir: Type.Optional(Type.String({ minLength: 1, description: 'a directory of compressed model files, e.g. /var/lib/edgeprobe/user-variants' })),
}, { additionalProperties: false });
export type AgentConfig = Static<typeof AgentConfig>;

/** What a job may use on this device (the plan check and the executor need only this part). */
export type AgentAllowList = Pick<AgentConfig, 'models' | 'probes' | 'variants' | 'normsDir' | 'userVariantsDir'>;

export function loadAgentConfig(path: string): LoadedConfig<AgentConfig> {
  const cfg = loadConfigFile(path, AgentConfig, 'agent config', AGENT_CONFIG_EXAMPLE);
  const v = cfg.value;
  if (v.deviceId === COORDINATOR_USERNAME) {
    throw epError('EP_AGENT_DEVICE_ID_RESERVED', { file: cfg.path, reserved: COORDINATOR_USERNAME });
  }
  if (v.broker) {
    checkBrokerConfig(cfg.path, 'broker', v.broker);
    if (v.deviceId) checkDeviceUsername(cfg.path, v.broker, v.deviceId);
  }
  const unknown = v.probes.findIndex((p) => !probeKinds().includes(canonicalKind(p)));
  if (unknown >= 0) throw epError('EP_CONFIG_PROBE_UNKNOWN', { file: cfg.path, field: `probes[${unknown}]`, value: v.probes[unknown], known: probeKinds().join(', ') });
  const names = new Set<string>();
  for (const m of v.models) {
    if (names.has(m.name)) throw epError('EP_AGENT_MODEL_NAME_DUPLICATE', { file: cfg.path, name: m.name });
    names.add(m.name);
  }
  // local model paths are relative to the config file, so a config can travel with its models
  return { ...cfg, value: { ...v, models: v.models.map((m) => ('path' in m ? { ...m, path: configPath(cfg, m.path) } : m)) } };
}

/** The broker ACL lets a user publish only under edgeprobe/v1/devices/<its username>/..., so they must match. */
function checkDeviceUsername(file: string, broker: BrokerConfig, deviceId: string): void {
  if (broker.username && broker.username !== deviceId) {
    throw epError('EP_AGENT_BROKER_USERNAME_MISMATCH', { file, username: broker.username, deviceId });
  }
}

/** What the agent runs with after CLI flags (which win) are merged over the config file. */
export interface AgentSettings {
  deviceId: string;
  brokerUrl: string;
  /** mqtt.js options: credentials, TLS files, MQTT v5 */
  mqtt: IClientOptions;
  registrationToken?: string;
  /** outbox, jobs and sequence counter (SQLite) */
  stateDir: string;
  heartbeatIntervalS: number;
  /** see AgentConfig.receiptTimeoutS */
  receiptTimeoutS: number;
  healthFile?: string;
  allow: AgentAllowList;
  /** where the settings came from, for the start-up log line */
  source: string;
}

/**
 * For `edgeprobe agent [--config FILE] [--broker URL] [--device-id ID] [--state-dir DIR]`: flags override the
 * file. Without a file the agent allows the demo model and the benchmark, the password comes from
 * EDGEPROBE_MQTT_PASSWORD, and plain mqtt:// (or no password) is accepted only to a broker on this machine.
 */
export function resolveAgentSettings(flags: { broker?: string; deviceId?: string; config?: string; stateDir?: string },
  env: NodeJS.ProcessEnv = process.env): AgentSettings {
  const cfg: LoadedConfig<AgentConfig> = flags.config
    ? loadAgentConfig(flags.config)
    : { path: '(command line)', dir: process.cwd(), value: { configVersion: 1, heartbeatIntervalS: 30, receiptTimeoutS: 60, models: DEFAULT_MODELS, probes: DEFAULT_PROBES } };
  const v = cfg.value;
  const deviceId = flags.deviceId ?? v.deviceId;
  if (!deviceId) throw epError('EP_AGENT_NO_DEVICE_ID', { example: AGENT_CONFIG_EXAMPLE });
  if (!isUsableDeviceId(deviceId)) {
    throw epError('EP_AGENT_DEVICE_ID_INVALID', { source: flags.deviceId ? '--device-id' : `deviceId in ${cfg.path}:`, id: deviceId, reserved: COORDINATOR_USERNAME });
  }
  const broker: BrokerConfig = { ...(v.broker ?? { url: '' }), ...(flags.broker ? { url: flags.broker } : {}) };
  if (!broker.url) throw epError('EP_NO_BROKER_URL', { side: 'agent' });
  checkBrokerConfig(cfg.path, 'broker', broker);
  checkDeviceUsername(cfg.path, broker, deviceId);
  const token = v.registrationTokenFile
    ? readReferencedFile(cfg, 'registrationTokenFile', v.registrationTokenFile).toString('utf8').trim()
    : env.EDGEPROBE_REGISTRATION_TOKEN;
  return {
    deviceId,
    brokerUrl: broker.url,
    mqtt: mqttClientOptions(cfg, 'broker', broker, deviceId, env),
    registrationToken: token || undefined,
    stateDir: flags.stateDir ?? (v.dataDir ? `${configPath(cfg, v.dataDir)}/state` : `.edgeprobe/agents/${deviceId}`),
    heartbeatIntervalS: v.heartbeatIntervalS,
    receiptTimeoutS: v.receiptTimeoutS,
    healthFile: v.healthFile ? configPath(cfg, v.healthFile) : undefined,
    allow: { models: v.models, probes: [...new Set(v.probes.map(canonicalKind))], variants: v.variants, normsDir: v.normsDir ? configPath(cfg, v.normsDir) : undefined,
      userVariantsDir: v.userVariantsDir ? configPath(cfg, v.userVariantsDir) : undefined },
    source: cfg.path,
  };
}
