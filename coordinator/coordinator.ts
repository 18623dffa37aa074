import mqtt, { type MqttClient } from 'mqtt';
import type { Duplex } from 'node:stream';
import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { coordinatorSubscriptions, replicaSubscriptions } from '../core/protocol/topics.ts';
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
  /**
   * Set when several coordinators share one PostgreSQL store: each replica needs its own stable id
   * (its MQTT client id and session), and they split the device traffic through a shared subscription.
   */
  replicaId?: string;
  /** shared subscription group of the replicas */
  shareGroup?: string;
  /** how long the dispatch/timeout duty stays with a replica that stops renewing it */
  leaseTtlMs?: number;
  /** heartbeat history older than this is deleted (by the replica holding the duty lease) */
  heartbeatRetentionDays?: number;
}

export const COORDINATOR_USERNAME = 'coordinator';
export const DEFAULT_SHARE_GROUP = 'edgeprobe-coordinators';
export const DEFAULT_LEASE_TTL_MS = 5000;
export const DEFAULT_HEARTBEAT_RETENTION_DAYS = 7;
const DUTY_LEASE = 'dispatch';
const PRUNE_EVERY_MS = 60_000;

/** `persistent`: the broker keeps the session's subscriptions and queued messages while the client is away. */
export function connectCoordinatorClient(broker: string, clientId: string, opts: { persistent: boolean; username?: string; password?: string }): MqttClient {
  return mqtt.connect(broker, { clientId, clean: !opts.persistent, reconnectPeriod: 1000, connectTimeout: 10_000, username: opts.username ?? COORDINATOR_USERNAME, password: opts.password });
}

/**
 * Subscribes to every device topic, ingests into the store, and dispatches jobs. Several replicas can
 * run against one PostgreSQL store: ingest is idempotent (unique message ids), and the dispatch and
 * timeout duty belongs to whichever replica holds the `dispatch` lease row.
 */
export class Coordinator {
  readonly ingest: Ingest;
  private client?: MqttClient;
  private timer?: NodeJS.Timeout;
  private dispatching = false;
  private ownsDuty = false;
  private lastPruneMs = 0;
  private readonly clientId: string;
  // Messages are applied one after another (store calls may be asynchronous) on this chain.
  private chain: Promise<void> = Promise.resolve();
  private arrived = 0;
  private commitScheduled = false;
  private corked?: Duplex;

  constructor(private readonly opts: CoordinatorOptions) {
    this.ingest = new Ingest(opts.store, opts.log, () => this.dispatchSoon());
    this.clientId = opts.replicaId ? `edgeprobe-coordinator-${opts.replicaId}` : 'edgeprobe-coordinator';
  }

  start(): Promise<void> {
    const { opts } = this;
    const client = connectCoordinatorClient(opts.broker, this.clientId, { persistent: true, username: opts.username, password: opts.password });
    this.client = client;
    client.on('message', (topic, payload) => {
      // hold the PUBACKs (mqtt.js writes them right after this handler) until the round is committed
      if (!this.corked) {
        this.corked = client.stream as Duplex;
        this.corked.cork();
      }
      this.arrived++;
      this.chain = this.chain.then(() => this.ingest.handle(topic, payload)).then(() => undefined, (err) => this.storeFailed(err));
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        setImmediate(() => this.commitRound());
      }
    });
    client.on('offline', () => opts.log.warn('broker unreachable, reconnecting'));
    client.on('error', (err) => opts.log.warn('mqtt error', { error: err.message }));
    this.timer = setInterval(() => this.dispatchSoon(), opts.dispatchIntervalMs ?? 1000);
    const subscriptions = opts.replicaId ? replicaSubscriptions(opts.shareGroup ?? DEFAULT_SHARE_GROUP) : coordinatorSubscriptions();
    return new Promise((resolve) => {
      client.on('connect', () => {
        client.subscribe(subscriptions, { qos: 1 }, () => {
          opts.log.info('coordinator listening', { broker: opts.broker, ...(opts.replicaId ? { replica: opts.replicaId } : {}) });
          this.dispatchSoon();
          resolve();
        });
      });
    });
  }

  /**
   * Commits what this round handled, then releases the held PUBACKs. Reading from the socket pauses
   * meanwhile, so a steady stream (heartbeats are QoS 0 and never wait for acks) cannot keep new
   * messages arriving forever; and the PUBACKs go out only when every message that arrived is committed.
   */
  private commitRound(): void {
    this.commitScheduled = false;
    const upTo = this.arrived;
    const stream = this.corked;
    stream?.pause();
    this.chain = this.chain.then(() => this.ingest.flush()).then(() => undefined, (err) => this.storeFailed(err)).then(() => {
      if (this.arrived !== upTo) {
        if (!this.commitScheduled) { this.commitScheduled = true; setImmediate(() => this.commitRound()); }
        return;
      }
      this.corked = undefined;
      stream?.uncork();
      stream?.resume();
    });
  }

  /** Without a commit the PUBACKs must not go out: drop the connection so the broker redelivers. */
  private storeFailed(err: unknown): void {
    this.opts.log.error('store write failed, dropping connection so the broker redelivers', { error: errorMessage(err) });
    this.corked = undefined;
    this.client?.stream.destroy();
  }

  /** Renews (or takes over) the duty lease; only its holder dispatches, expires and prunes. */
  dispatchSoon(): void {
    if (this.dispatching || !this.client?.connected) return;
    this.dispatching = true;
    const { store, log } = this.opts;
    (async () => {
      const now = Date.now();
      const owns = await store.acquireLease(DUTY_LEASE, this.clientId, this.opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, now);
      if (owns !== this.ownsDuty) log.info(owns ? 'dispatch lease acquired' : 'dispatch lease lost', { owner: this.clientId });
      this.ownsDuty = owns;
      if (!owns) return;
      await dispatchQueued(store, this.client!, log);
      if (now - this.lastPruneMs >= PRUNE_EVERY_MS) {
        this.lastPruneMs = now;
        const deleted = await store.pruneHeartbeats(now - (this.opts.heartbeatRetentionDays ?? DEFAULT_HEARTBEAT_RETENTION_DAYS) * 86_400_000);
        if (deleted > 0) log.info('heartbeat history pruned', { rows: deleted });
      }
    })()
      .catch((err) => log.warn('dispatch failed', { error: errorMessage(err) }))
      .finally(() => { this.dispatching = false; });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    // hand the duty over now instead of after the lease TTL (expired leases pass on the next round)
    if (this.ownsDuty) await Promise.resolve(this.opts.store.acquireLease(DUTY_LEASE, this.clientId, -1, Date.now())).catch(() => undefined);
    await this.chain;
    await this.ingest.flush();
    this.corked?.uncork();
    await this.client?.endAsync().catch(() => undefined);
    await this.opts.store.close();
  }
}
