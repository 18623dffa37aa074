import { Type, type Static } from '@sinclair/typebox';
import type { IClientOptions } from 'mqtt';
import { epError } from '../errors.ts';
import { readReferencedFile, type LoadedConfig } from './load-config.ts';
/** Where a password comes from when no passwordFile is configured (docker/systemd secrets can set it). */
export const PASSWORD_ENV = 'EDGEPROBE_MQTT_PASSWORD';

export const BrokerConfig = Type.Object({
  url: Type.String({ pattern: '^(mqtts?|wss?)://[^\\s]+$', description: 'a broker URL such as mqtts://broker.local:8883' }),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the MQTT username (devices: the device id)' })),
  passwordFile: Type.Optional(Type.String({ minLength: 1, description: `a file holding the MQTT password (or set ${PASSWORD_ENV})` })),
  caFile: Type.Optional(Type.String({ minLength: 1, description: 'the PEM CA certificate that signed the broker certificate' })),
  certFile: Type.Optional(Type.String({ minLength: 1, description: 'a PEM client certificate (with keyFile), for brokers that require one' })),
  keyFile: Type.Optional(Type.String({ minLength: 1, description: 'the PEM key of certFile' })),
}, { additionalProperties: false });
export type BrokerConfig = Static<typeof BrokerConfig>;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** Whether a broker URL points at this machine (where plain MQTT and a password-less broker are acceptable). */
export function isLoopbackBroker(url: string): boolean {
  return LOOPBACK_HOSTS.has(new URL(url).hostname);
}

/**
 * Checks what a schema cannot: plaintext MQTT only to this machine (a password sent in clear over a
 * network is a password given away), and client cert/key given together.
 */
export function checkBrokerConfig(file: string, field: string, b: BrokerConfig): void {
  // a URL from a flag has not been through the config schema's pattern
  if (!/^(mqtts?|wss?):\/\/\S+$/.test(b.url) || !URL.canParse(b.url)) {
    throw epError('EP_BROKER_URL_INVALID', { url: b.url, source: `${file}, ${field}.url or --broker` });
  }
  const url = new URL(b.url);
  const plain = url.protocol === 'mqtt:' || url.protocol === 'ws:';
  if (plain && !isLoopbackBroker(b.url)) {
    throw epError('EP_BROKER_PLAINTEXT_REMOTE', { file, field, protocol: url.protocol, host: url.hostname });
  }
  if (plain && (b.caFile || b.certFile)) {
    throw epError('EP_BROKER_TLS_ON_PLAIN', { file, field, protocol: url.protocol });
  }
  if (Boolean(b.certFile) !== Boolean(b.keyFile)) {
    throw epError('EP_BROKER_CERT_KEY_PAIR', { file, field });
  }
}

/**
 * mqtt.js options for a configured broker: reads the password and TLS files (a coded error naming the field
 * when one is missing), MQTT v5, certificate verification always on. The password may be omitted only
 * for a broker on localhost.
 */
export function mqttClientOptions(cfg: LoadedConfig<unknown>, field: string, b: BrokerConfig, username: string,
  env: NodeJS.ProcessEnv = process.env): IClientOptions {
  const password = b.passwordFile
    ? readReferencedFile(cfg, `${field}.passwordFile`, b.passwordFile).toString('utf8').trim()
    : env[PASSWORD_ENV];
  // A broker on this machine may run without authentication (development, tests with an embedded broker);
  // a remote one never should, so a missing password there is a config mistake caught before connecting.
  if (!password && !isLoopbackBroker(b.url)) {
    throw epError('EP_BROKER_NO_PASSWORD', { file: cfg.path, username, field, env: PASSWORD_ENV });
  }
  const opts: IClientOptions = {
    username,
    ...(password ? { password } : {}),
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 5000,
    connectTimeout: 15_000,
    rejectUnauthorized: true,
  };
  if (b.caFile) opts.ca = readReferencedFile(cfg, `${field}.caFile`, b.caFile);
  if (b.certFile && b.keyFile) {
    opts.cert = readReferencedFile(cfg, `${field}.certFile`, b.certFile);
    opts.key = readReferencedFile(cfg, `${field}.keyFile`, b.keyFile);
  }
  return opts;
}

/**
 * Options for a long-lived client whose broker session must outlive a disconnect (agents and the coordinator:
 * queued jobs and results wait in the broker). MQTT 5 ends a session at disconnect unless the client asks
 * for an expiry, so with v5 the session is kept until the broker's own limit (persistent_client_expiration).
 */
export function persistentSession(base: IClientOptions): IClientOptions {
  return base.protocolVersion === 5
    ? { clean: false, properties: { ...base.properties, sessionExpiryInterval: 0xffffffff } }
    : { clean: false };
}
