import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Writable } from 'node:stream';
import { persistentSession } from '../core/config/broker-config.ts';
import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { configuredHealthFile, startHealthBeacon, type HealthBeacon } from '../core/health/health-file.ts';
import { coordinatorSubscriptions } from '../core/protocol/topics.ts';
import type { CoordinatorSettings } from './config/coordinator-config.ts';
import { dispatchQueued } from './dispatch.ts';
import { Ingest } from './ingest.ts';
import type { FleetStore } from './store/store.ts';

export interface CoordinatorOptions {
  /** from `resolveCoordinatorSettings` (coordinator/config/coordinator-config.ts) */
  settings: Pick<CoordinatorSettings, 'brokerUrl' | 'mqtt' | 'config' | 'openAdmission' | 'healthFile'>;
  store: FleetStore;
  log: DaemonLog;
  /** how often queued jobs are dispatched and silent ones expired */
  dispatchIntervalMs?: number;
}

/**
 * `persistent`: the broker keeps the session's subscriptions and queued messages while the client is away.
 * `mqttOptions` (credentials, TLS CA, protocol version) come from CoordinatorSettings.mqtt.
 */
export function connectCoordinatorClient(brokerUrl: string, mqttOptions: IClientOptions, clientId: string, persistent: boolean): MqttClient {
  return mqtt.connect(brokerUrl, {
    ...mqttOptions, ...(persistent ? persistentSession(mqttOptions) : { clean: true }), clientId, reconnectPeriod: 1000, connectTimeout: 10_000,
  });
}

/** Subscribes to every device topic, ingests into the store, and dispatches jobs. */
export class Coordinator {
  readonly ingest: Ingest;
  private client?: MqttClient;
  private timer?: NodeJS.Timeout;
  private dispatching = false;
  private corked?: Writable;
  private health?: HealthBeacon;

  constructor(private readonly opts: CoordinatorOptions) {
    this.ingest = new Ingest(opts.store, opts.log, opts.settings, () => this.dispatchSoon());
  }

  start(): Promise<void> {
    const { opts } = this;
    const { brokerUrl } = opts.settings;
    const client = connectCoordinatorClient(brokerUrl, opts.settings.mqtt, 'edgeprobe-coordinator', true);
    this.client = client;
    const healthFile = configuredHealthFile(opts.settings.healthFile);
    if (healthFile) {
      this.health = startHealthBeacon(healthFile, 'coordinator', () => ({
        ok: client.connected, detail: client.connected ? `connected to ${brokerUrl}` : 'broker unreachable',
      }));
      client.on('connect', () => this.health?.beat());
      client.on('offline', () => this.health?.beat());
    }
    if (opts.settings.openAdmission) opts.log.warn('no coordinator config: every device that registers is admitted (allowed only with a broker on this machine)');
    client.on('message', (topic, payload, packet) => {
      // hold this turn's PUBACKs (mqtt.js writes them after this handler) until the batch is committed
      if (!this.corked) {
        this.corked = client.stream as unknown as Writable;
        this.corked.cork();
        setImmediate(() => this.commit());
      }
      this.ingest.handle(topic, payload, packet.properties?.userProperties);
    });
    client.on('offline', () => opts.log.warn('broker unreachable, reconnecting'));
    client.on('error', (err) => opts.log.warn('mqtt error', { error: err.message }));
    this.timer = setInterval(() => this.dispatchSoon(), opts.dispatchIntervalMs ?? 1000);
    return new Promise((resolve) => {
      client.on('connect', () => {
        client.subscribe(coordinatorSubscriptions(), { qos: 1 }, () => {
          opts.log.info('coordinator listening', { broker: brokerUrl });
          this.dispatchSoon();
          resolve();
        });
      });
    });
  }

  private commit(): void {
    try {
      this.ingest.flush();
    } catch (err) {
      // without a commit the PUBACKs must not go out: drop the connection so the broker redelivers
      this.opts.log.error('store write failed, dropping connection so the broker redelivers', { error: errorMessage(err) });
      this.client?.stream.destroy();
    } finally {
      const s = this.corked;
      this.corked = undefined;
      s?.uncork();
    }
  }

  dispatchSoon(): void {
    if (this.dispatching || !this.client?.connected) return;
    this.dispatching = true;
    // open admission (no config, loopback broker) has no job policy either
    dispatchQueued(this.opts.store, this.client, this.opts.log, this.opts.settings.openAdmission ? undefined : this.opts.settings.config.policy)
      .catch((err) => this.opts.log.warn('dispatch failed', { error: errorMessage(err) }))
      .finally(() => { this.dispatching = false; });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.health?.();
    this.ingest.flush();
    await this.client?.endAsync().catch(() => undefined);
    this.opts.store.close();
  }
}
