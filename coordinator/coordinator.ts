import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { persistentSession } from '../core/config/broker-config.ts';
import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { configuredHealthFile, startHealthBeacon, type HealthBeacon } from '../core/health/health-file.ts';
import { encodeMessage, makeMessage } from '../core/protocol/codec.ts';
import type { PayloadOf } from '../core/protocol/messages.ts';
import { coordinatorSubscriptions, deviceTopic, replicaSubscriptions } from '../core/protocol/topics.ts';
import type { CoordinatorSettings } from './config/coordinator-config.ts';
import { dispatchQueued } from './dispatch.ts';
import { AckRounds } from './ack-rounds.ts';
import { Ingest } from './ingest.ts';
import type { FleetStore } from './store/store.ts';
import { Monitor, type MonitoringOptions } from './monitoring/monitor.ts';
import { ScheduleStore } from './monitoring/schedules.ts';
import { RolloutStore } from './rollouts/rollouts.ts';

export interface CoordinatorOptions {
  /** from `resolveCoordinatorSettings` (coordinator/config/coordinator-config.ts) */
  settings: Pick<CoordinatorSettings, 'brokerUrl' | 'mqtt' | 'config' | 'openAdmission' | 'healthFile'>;
  store: FleetStore;
  log: DaemonLog;
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
  /** load testing only: simulated results are stored without a job (IngestSecurity.loadTest); off by default */
  loadTest?: boolean;
  /** regression alerts (coordinator/monitoring); on by default, `false` turns the duty off */
  monitoring?: MonitoringOptions | false;
}

export const DEFAULT_SHARE_GROUP = 'edgeprobe-coordinators';
export const DEFAULT_LEASE_TTL_MS = 5000;
export const DEFAULT_HEARTBEAT_RETENTION_DAYS = 7;
const DUTY_LEASE = 'dispatch';
const PRUNE_EVERY_MS = 60_000;
const MAX_BACKLOG = 5000;
// message ids per receipt: 4096 ids of 36 characters stay far below the message size limit
const RECEIPT_CHUNK = 2048;

/**
 * `persistent`: the broker keeps the session's subscriptions and queued messages while the client is away.
 * `mqttOptions` (credentials, TLS CA, protocol version) come from CoordinatorSettings.mqtt.
 */
export function connectCoordinatorClient(brokerUrl: string, mqttOptions: IClientOptions, clientId: string, persistent: boolean): MqttClient {
  return mqtt.connect(brokerUrl, {
    ...mqttOptions, ...(persistent ? persistentSession(mqttOptions) : { clean: true }), clientId, reconnectPeriod: 1000, connectTimeout: 10_000,
  });
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
  private commitScheduled = false;
  private commit: Promise<void> = Promise.resolve();
  private stopping = false;
  // a commit round is on the chain and not finished: the next round closes when it is (group commit)
  private committing = false;
  // PUBACKs of messages received since the last round was closed, in arrival order (see AckRounds)
  private readonly acks = new AckRounds();
  // messages received but not yet handled; above MAX_BACKLOG the socket pauses (backpressure to the broker)
  private backlog = 0;
  private health?: HealthBeacon;
  readonly monitor?: Monitor;
  // the monitoring round in flight: not awaited by dispatch (a first evaluation of a long history takes
  // seconds, longer than the duty lease's TTL), one at a time, awaited by stop() before the store closes
  private monitoring?: Promise<void>;
  readonly schedules: ScheduleStore;
  readonly rollouts: RolloutStore;

  constructor(private readonly opts: CoordinatorOptions) {
    this.schedules = new ScheduleStore(opts.store.sql());
    this.rollouts = new RolloutStore(opts.store.sql());
    if (opts.monitoring !== false) this.monitor = new Monitor(opts.store, opts.log, opts.monitoring ?? {});
    this.ingest = new Ingest(opts.store, opts.log, { ...opts.settings, loadTest: opts.loadTest }, () => this.dispatchSoon());
    this.clientId = opts.replicaId ? `edgeprobe-coordinator-${opts.replicaId}` : 'edgeprobe-coordinator';
  }

  start(): Promise<void> {
    const { opts } = this;
    const { brokerUrl } = opts.settings;
    const client = connectCoordinatorClient(brokerUrl, opts.settings.mqtt, this.clientId, true);
    this.client = client;
    const healthFile = configuredHealthFile(opts.settings.healthFile);
    if (healthFile) {
      this.health = startHealthBeacon(healthFile, 'coordinator', () => ({
        ok: client.connected, detail: client.connected ? `connected to ${brokerUrl}` : 'broker unreachable',
      }));
      client.on('connect', () => this.health?.beat());
      client.on('offline', () => this.health?.beat());
    }
    if (opts.loadTest) opts.log.warn('LOAD TEST mode: results marked simulated are stored without a job that targets their sender (never run a real fleet like this)');
    if (opts.settings.openAdmission) opts.log.warn('no coordinator config: every device that registers is admitted (allowed only with a broker on this machine)');
    this.holdPubacks(client);
    client.on('close', () => this.acks.connectionLost()); // their message ids mean nothing on the next connection
    client.on('message', (topic, payload, packet) => {
      if (++this.backlog === MAX_BACKLOG) client.stream.pause();
      const userProperties = packet.properties?.userProperties;
      this.chain = this.chain.then(() => this.ingest.handle(topic, payload, userProperties)).then(() => undefined, (err) => this.storeFailed(err)).then(() => {
        if (--this.backlog === MAX_BACKLOG / 2) client.stream.resume();
      });
      this.scheduleRound();
    });
    client.on('offline', () => opts.log.warn('broker unreachable, reconnecting'));
    client.on('error', (err) => opts.log.warn('mqtt error', { error: err.message }));
    this.timer = setInterval(() => this.dispatchSoon(), opts.dispatchIntervalMs ?? 1000);
    const subscriptions = opts.replicaId ? replicaSubscriptions(opts.shareGroup ?? DEFAULT_SHARE_GROUP) : coordinatorSubscriptions();
    return new Promise((resolve) => {
      client.on('connect', () => {
        client.subscribe(subscriptions, { qos: 1 }, () => {
          opts.log.info('coordinator listening', { broker: brokerUrl, ...(opts.replicaId ? { replica: opts.replicaId } : {}) });
          this.dispatchSoon();
          resolve();
        });
      });
    });
  }

  /**
   * mqtt.js sends a QoS 1 message's PUBACK right after emitting it, and its public hook for delaying
   * that (`handleMessage`) also stalls parsing of the next packet, which would make every commit a
   * batch of one. So the PUBACK packets themselves are held here and sent after the commit of the
   * round that handled their messages: what the broker considers delivered is in the database, while
   * later messages keep arriving and form the next batch (group commit). `_sendPacket` is internal to
   * mqtt.js 5; the check below fails loudly if a future version drops it.
   */
  private holdPubacks(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket: (packet: { cmd: string }, cb?: () => void, ...rest: unknown[]) => void };
    if (typeof internal._sendPacket !== 'function') throw new Error('mqtt.js without _sendPacket: the coordinator cannot hold PUBACKs until commit');
    const send = internal._sendPacket.bind(client);
    internal._sendPacket = (packet, cb, ...rest) => {
      if (packet.cmd !== 'puback') { send(packet, cb, ...rest); return; }
      this.acks.hold(() => send(packet, undefined, ...rest));
      this.scheduleRound(); // a held PUBACK always has a round coming
      cb?.(); // lets mqtt.js parse the next packet now
    };
  }

  /**
   * Closes the round: the PUBACKs held so far belong to messages whose `handle` is already on the chain
   * (mqtt.js emits a message before it sends its PUBACK), so committing after them and then sending
   * exactly this round's PUBACKs acknowledges only stored rows. The next round collects its own list.
   */
  private commitRound(): void {
    this.commitScheduled = false;
    this.committing = true;
    const round = this.acks.close();
    // the commit waits for the round's messages to be handled, but the chain does not wait for the
    // commit: the next messages are checked while this round's rows are written (Ingest.flush serialises)
    this.commit = this.chain.then(() => this.ingest.flush()).then(() => {
      round.send();
      this.sendReceipts();
    }, (err) => this.storeFailed(err)).finally(() => {
      this.committing = false;
      if (this.acks.pending > 0) this.scheduleRound();
    });
  }

  /**
   * One commit round in flight at a time. Rounds used to close on every event-loop turn, so each held
   * only the few messages of one socket read and paid a WAL flush of its own (about 480 results/s on
   * PostgreSQL); now the messages that arrive while a round commits form the next round, whose size
   * grows with the load up to the broker's in-flight window (the PUBACKs it holds).
   */
  private scheduleRound(): void {
    // stopping: stop() commits and acknowledges the last round itself
    if (this.commitScheduled || this.committing || this.stopping) return;
    this.commitScheduled = true;
    setImmediate(() => this.commitRound());
  }

  /**
   * Tells each device which of its results are committed (core/protocol/messages.ts, ReceiptPayload):
   * the agent keeps a result until then, so one the broker lost in a crash is sent again. A receipt
   * lost on the way costs only a resend, which the store absorbs by message id.
   */
  private sendReceipts(): void {
    const client = this.client;
    if (!client) return;
    const send = (deviceId: string, payload: PayloadOf<'receipt'>): void => {
      client.publish(deviceTopic(deviceId, 'receipts'), encodeMessage(makeMessage(deviceId, 0, 'receipt', payload)), { qos: 1 }, () => undefined);
    };
    for (const [deviceId, r] of this.ingest.takeReceipts()) {
      if (r.registered) send(deviceId, { stored: [], rejected: [], registered: true });
      for (let i = 0; i < r.stored.length; i += RECEIPT_CHUNK) send(deviceId, { stored: r.stored.slice(i, i + RECEIPT_CHUNK), rejected: [] });
      // a reason is up to 2,000 characters: fewer per message
      for (let i = 0; i < r.rejected.length; i += 64) send(deviceId, { stored: [], rejected: r.rejected.slice(i, i + 64) });
    }
  }

  /**
   * Ingest retries a store that is down and rejects what a store refuses for good, so this is reached
   * only by an unexpected error. Without a commit the PUBACKs must not go out: drop the connection so
   * the broker redelivers.
   */
  private storeFailed(err: unknown): void {
    this.opts.log.error('store write failed, dropping connection so the broker redelivers', { error: errorMessage(err) });
    this.acks.connectionLost();
    this.client?.stream.destroy();
  }

  /** Renews (or takes over) the duty lease; only its holder dispatches, expires and prunes. */
  dispatchSoon(): void {
    if (this.dispatching || !this.client?.connected) return;
    this.dispatching = true;
    const { store, log, settings } = this.opts;
    // open admission (no config, loopback broker) has no job policy either
    const policy = settings.openAdmission ? undefined : settings.config.policy;
    (async () => {
      const now = Date.now();
      const owns = await store.acquireLease(DUTY_LEASE, this.clientId, this.opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, now);
      if (owns !== this.ownsDuty) log.info(owns ? 'dispatch lease acquired' : 'dispatch lease lost', { owner: this.clientId });
      this.ownsDuty = owns;
      if (!owns) return;
      // scheduled runs become queued jobs first, so this round dispatches them
      const ran = await this.schedules.runDue(store, now).catch((err) => {
        log.warn('scheduled runs failed', { error: errorMessage(err) });
        return { jobs: [], skipped: 0, caughtUp: 0 };
      });
      if (ran.jobs.length || ran.skipped) log.info('scheduled runs', { jobs: ran.jobs.join(','), skipped: ran.skipped, caughtUp: ran.caughtUp });
      // a rollout's next wave is released (or the rollout aborted) before dispatch, so this round sends it
      const waves = await this.rollouts.advance(now).catch((err) => {
        log.warn('rollout round failed', { error: errorMessage(err) });
        return [];
      });
      for (const e of waves) (e.action === 'aborted' ? log.warn : log.info).call(log, `rollout ${e.action}`, { job: e.jobId, detail: e.detail });
      await dispatchQueued(store, this.client!, log, policy);
      this.monitorSoon(now);
      if (now - this.lastPruneMs >= PRUNE_EVERY_MS) {
        this.lastPruneMs = now;
        const deleted = await store.pruneHeartbeats(now - (this.opts.heartbeatRetentionDays ?? DEFAULT_HEARTBEAT_RETENTION_DAYS) * 86_400_000);
        if (deleted > 0) log.info('heartbeat history pruned', { rows: deleted });
      }
    })()
      .catch((err) => log.warn('dispatch failed', { error: errorMessage(err) }))
      .finally(() => { this.dispatching = false; });
  }

  /** Starts a monitoring round unless one is running; its failure never stops dispatching. */
  private monitorSoon(now: number): void {
    const client = this.client;
    if (!this.monitor || this.monitoring || !client) return;
    this.monitoring = this.monitor.tick((topic, payload, o) => client.publishAsync(topic, payload, o), now)
      .catch((err) => this.opts.log.warn('monitoring failed', { error: errorMessage(err) }))
      .finally(() => { this.monitoring = undefined; });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    this.health?.();
    this.ingest.close(); // a store that is down is not waited for: what is not committed is not acked
    // hand the duty over now instead of after the lease TTL (expired leases pass on the next round)
    if (this.ownsDuty) await Promise.resolve(this.opts.store.acquireLease(DUTY_LEASE, this.clientId, -1, Date.now())).catch(() => undefined);
    await this.commit;
    await this.monitoring;
    // the last round: closed only when every message received so far is handled (messages keep arriving
    // until the client ends, each appending to the chain), so it acknowledges only what this flush commits
    let handled: Promise<void>;
    do { handled = this.chain; await handled; } while (handled !== this.chain);
    const last = this.acks.close();
    // a store still down at stop: nothing more commits, so nothing more is acked (the broker keeps it)
    await this.ingest.flush().then(() => { last.send(); this.sendReceipts(); }, (err) => this.opts.log.warn('last round not committed', { error: errorMessage(err) }));
    await this.client?.endAsync().catch(() => undefined);
    await this.opts.store.close();
  }
}
