import mqtt, { type MqttClient } from 'mqtt';
import type { Writable } from 'node:stream';
import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { coordinatorSubscriptions } from '../core/protocol/topics.ts';
import { dispatchQueued } from './dispatch.ts';
import { Ingest } from './ingest.ts';
import type { FleetStore } from './store/store.ts';

export interface CoordinatorOptions {
  broker: string;
  store: FleetStore;
  log: DaemonLog;
  username?: string;
  password?: string;
  /** how often queued jobs are dispatched and silent ones expired */
  dispatchIntervalMs?: number;
}

export const COORDINATOR_USERNAME = 'coordinator';

/** `persistent`: the broker keeps the session's subscriptions and queued messages while the client is away. */
export function connectCoordinatorClient(broker: string, clientId: string, opts: { persistent: boolean; username?: string; password?: string }): MqttClient {
  return mqtt.connect(broker, { clientId, clean: !opts.persistent, reconnectPeriod: 1000, connectTimeout: 10_000, username: opts.username ?? COORDINATOR_USERNAME, password: opts.password });
}

/** Subscribes to every device topic, ingests into the store, and dispatches jobs. */
export class Coordinator {
  readonly ingest: Ingest;
  private client?: MqttClient;
  private timer?: NodeJS.Timeout;
  private dispatching = false;
  private corked?: Writable;

  constructor(private readonly opts: CoordinatorOptions) {
    this.ingest = new Ingest(opts.store, opts.log, () => this.dispatchSoon());
  }

  start(): Promise<void> {
    const { opts } = this;
    const client = connectCoordinatorClient(opts.broker, 'edgeprobe-coordinator', { persistent: true, username: opts.username, password: opts.password });
    this.client = client;
    client.on('message', (topic, payload) => {
      // hold this turn's PUBACKs (mqtt.js writes them after this handler) until the batch is committed
      if (!this.corked) {
        this.corked = client.stream as unknown as Writable;
        this.corked.cork();
        setImmediate(() => this.commit());
      }
      this.ingest.handle(topic, payload);
    });
    client.on('offline', () => opts.log.warn('broker unreachable, reconnecting'));
    client.on('error', (err) => opts.log.warn('mqtt error', { error: err.message }));
    this.timer = setInterval(() => this.dispatchSoon(), opts.dispatchIntervalMs ?? 1000);
    return new Promise((resolve) => {
      client.on('connect', () => {
        client.subscribe(coordinatorSubscriptions(), { qos: 1 }, () => {
          opts.log.info('coordinator listening', { broker: opts.broker });
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
    dispatchQueued(this.opts.store, this.client, this.opts.log)
      .catch((err) => this.opts.log.warn('dispatch failed', { error: errorMessage(err) }))
      .finally(() => { this.dispatching = false; });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.ingest.flush();
    await this.client?.endAsync().catch(() => undefined);
    this.opts.store.close();
  }
}
