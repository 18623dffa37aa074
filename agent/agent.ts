import mqtt, { type MqttClient } from 'mqtt';
import { join } from 'node:path';
import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { decodeMessage, encodeMessage } from '../core/protocol/codec.ts';
import type { Message } from '../core/protocol/messages.ts';
import { deviceTopic } from '../core/protocol/topics.ts';
import { configuredHealthFile, startHealthBeacon, type HealthBeacon } from '../core/health/health-file.ts';
import { persistentSession } from '../core/config/broker-config.ts';
import type { AgentSettings } from './config/agent-config.ts';
import { checkPlan } from './jobs/plan-check.ts';
import { probeKinds } from '../probes/index.ts';
import { variantProvider } from './jobs/variant-provider.ts';
import { OutboxPublisher } from './mqtt/outbox-publisher.ts';
import { FINAL_STATES, JobStore } from './state/job-store.ts';
import { Outbox } from './state/outbox.ts';
import { openStateDb, type StateDb } from './state/state-db.ts';
import { deviceProfile, heartbeat } from './telemetry/device-info.ts';

export interface AgentOptions {
  /** from `resolveAgentSettings` (agent/config/agent-config.ts): identity, broker options, allow-list */
  settings: AgentSettings;
  log: DaemonLog;
}

/**
 * One device: keeps an MQTT session, announces itself, runs the jobs it is sent one at a time, and
 * delivers everything through the SQLite outbox. All job state is in SQLite, so the process can be
 * killed at any point and restarted.
 */
export class Agent {
  private readonly db: StateDb;
  private readonly outbox: Outbox;
  private readonly jobs: JobStore;
  private client?: MqttClient;
  private publisher?: OutboxPublisher;
  private heartbeatTimer?: NodeJS.Timeout;
  private receiptTimer?: NodeJS.Timeout;
  private registrationTimer?: NodeJS.Timeout;
  private health?: HealthBeacon;
  private readonly queue: string[] = [];
  private active?: { jobId: string; abort: AbortController };
  private pumping?: Promise<void>;
  private stopped = false;

  constructor(private readonly opts: AgentOptions) {
    this.db = openStateDb(opts.settings.stateDir, (message, fields) => opts.log.warn(message, fields));
    this.outbox = new Outbox(this.db, opts.settings.deviceId);
    this.jobs = new JobStore(this.db);
  }

  private topic(kind: Parameters<typeof deviceTopic>[1]): string {
    return deviceTopic(this.opts.settings.deviceId, kind);
  }

  async start(): Promise<void> {
    const { settings, log } = this.opts;
    const { allow } = settings;
    // announced by their pins; a generated model without a pin is hashed on first use, not at start-up
    const allowedModels = allow.models.map((m) => ({ name: m.name, sha256: m.sha256 ?? null }));
    const probes = probeKinds().filter((p) => allow.probes.includes(p));
    const register = { profile: deviceProfile(), allowed: { models: allowedModels, probes } };
    // the coordinator's admission check consumes the token; it is never stored there
    const registerEnvelope = settings.registrationToken ? { registrationToken: settings.registrationToken } : {};

    const will = this.outbox.message('status', { state: 'offline' });
    const client = mqtt.connect(settings.brokerUrl, {
      ...settings.mqtt,
      ...persistentSession(settings.mqtt),
      clientId: `edgeprobe-agent-${settings.deviceId}`,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // mqtt-packet otherwise fills a cache of 65,536 two-byte Buffers on the first write (6.8 MB of a 10 MB
      // idle heap) to save one tiny allocation per packet header: a device publishes a few messages a second at most
      writeCache: false,
      will: { topic: this.topic('status'), payload: Buffer.from(encodeMessage(will)), qos: 1, retain: true },
    });
    this.client = client;
    this.publisher = new OutboxPublisher(client, this.outbox, log);
    client.on('connect', () => {
      log.info('connected', { broker: settings.brokerUrl, pending: this.outbox.count() });
      client.subscribe([this.topic('jobs'), this.topic('receipts')], { qos: 1 });
      // on every connect: a coordinator whose database was replaced learns about this device again
      this.outbox.enqueue(this.topic('register'), 'register', register, undefined, registerEnvelope);
      // results wait for the coordinator's registration receipt; one that sends none (down, or an older
      // version) gets them after the receipt timeout anyway, and whatever it refuses is sent again later
      this.publisher!.holdResults(true);
      clearTimeout(this.registrationTimer);
      this.registrationTimer = setTimeout(() => {
        log.warn('no registration receipt from the coordinator yet; sending results anyway (unconfirmed ones are sent again)', { afterS: settings.receiptTimeoutS });
        this.publisher?.holdResults(false);
      }, settings.receiptTimeoutS * 1000);
      this.publisher!.reset();
      this.publisher!.drain();
      const online = this.outbox.message('status', { state: 'online' });
      client.publish(this.topic('status'), encodeMessage(online), { qos: 1, retain: true });
    });
    client.on('offline', () => log.warn('broker unreachable, results stay in the outbox', { pending: this.outbox.count() }));
    client.on('error', (err) => log.warn('mqtt error', { error: err.message }));
    client.on('message', (topic, payload) => this.onMessage(topic, payload));

    this.heartbeatTimer = setInterval(() => void this.beat(), settings.heartbeatIntervalS * 1000);
    // results the broker acknowledged but the coordinator never confirmed (a broker crash, a coordinator
    // that did not know this device yet) are sent again
    this.receiptTimer = setInterval(() => this.publisher?.resendUnconfirmed(settings.receiptTimeoutS * 1000), Math.max(500, settings.receiptTimeoutS * 250));
    const healthFile = configuredHealthFile(settings.healthFile);
    if (healthFile) {
      this.health = startHealthBeacon(healthFile, 'agent', () => ({
        ok: client.connected,
        detail: `${client.connected ? `connected to ${settings.brokerUrl}` : 'broker unreachable'}; ${this.outbox.count()} messages pending`,
      }));
      client.on('connect', () => this.health?.beat());
      client.on('offline', () => this.health?.beat());
    }
    for (const job of this.jobs.unfinished()) {
      log.info('resuming job', { job: job.jobId, state: job.state });
      this.queue.push(job.jobId);
    }
    void this.pump();
  }

  private async beat(): Promise<void> {
    if (!this.client?.connected) return;
    try {
      const hb = this.outbox.message('heartbeat', await heartbeat(this.outbox.count(), this.active?.jobId ?? null));
      this.client.publish(this.topic('heartbeat'), encodeMessage(hb), { qos: 0 });
    } catch (err) {
      this.opts.log.warn('heartbeat failed', { error: errorMessage(err) });
    }
  }

  private onMessage(topic: string, raw: Buffer): void {
    const decoded = decodeMessage(topic, raw);
    if (!decoded.ok) {
      this.opts.log.warn('rejected message', { topic, reason: decoded.reason });
      return;
    }
    const msg = decoded.message;
    if (msg.deviceId !== this.opts.settings.deviceId) return;
    if (msg.type === 'receipt') this.onReceipt(msg as Message<'receipt'>);
    else if (msg.type === 'job') this.onJob(msg as Message<'job'>);
    else if (msg.type === 'job-cancel') this.onCancel(msg as Message<'job-cancel'>);
  }

  private onJob(msg: Message<'job'>): void {
    const { jobId, attempt, plan } = msg.payload;
    const progressTopic = this.topic('progress');
    const existing = this.jobs.get(jobId);
    if (existing) {
      // a redelivery or a coordinator retry: never run twice; repeat a final state the coordinator may have missed
      this.jobs.setAttempt(jobId, attempt);
      if (FINAL_STATES.includes(existing.state)) {
        this.outbox.enqueue(progressTopic, 'progress', { jobId, attempt, state: existing.state, done: 0, total: 0, detail: existing.detail ?? undefined });
        this.publisher?.drain();
      }
      this.opts.log.info('job already known', { job: jobId, state: existing.state, attempt });
      return;
    }
    const check = checkPlan(plan, this.opts.settings.allow, variantProvider());
    if (!check.ok) {
      this.outbox.enqueue(progressTopic, 'progress', { jobId, attempt, state: 'rejected', done: 0, total: 0, detail: check.reason },
        () => this.jobs.insert(jobId, attempt, plan, 'rejected', check.reason));
      this.publisher?.drain();
      this.opts.log.warn('job rejected', { job: jobId, reason: check.reason });
      return;
    }
    this.outbox.enqueue(progressTopic, 'progress', { jobId, attempt, state: 'accepted', done: 0, total: 0 },
      () => this.jobs.insert(jobId, attempt, plan, 'accepted'));
    this.publisher?.drain();
    this.opts.log.info('job accepted', { job: jobId, attempt });
    this.queue.push(jobId);
    void this.pump();
  }

  private onReceipt(msg: Message<'receipt'>): void {
    const { stored, rejected, registered } = msg.payload;
    if (registered) {
      clearTimeout(this.registrationTimer);
      this.publisher?.holdResults(false);
    }
    for (const r of rejected) this.opts.log.warn('the coordinator rejected a result for good', { messageId: r.messageId, reason: r.reason });
    this.outbox.receipt([...stored, ...rejected.map((r) => r.messageId)]);
  }

  private onCancel(msg: Message<'job-cancel'>): void {
    const { jobId } = msg.payload;
    const job = this.jobs.get(jobId);
    if (!job || FINAL_STATES.includes(job.state)) return;
    if (this.active?.jobId === jobId) this.active.abort.abort();
    this.outbox.enqueue(this.topic('progress'), 'progress', { jobId, attempt: job.attempt, state: 'cancelled', done: 0, total: 0 },
      () => this.jobs.setState(jobId, 'cancelled'));
    this.publisher?.drain();
    this.opts.log.info('job cancelled', { job: jobId });
  }

  /** Runs queued jobs one after another: a device benchmarks one thing at a time or its numbers mean nothing. */
  private pump(): Promise<void> {
    this.pumping ??= this.runQueue().finally(() => { this.pumping = undefined; });
    return this.pumping;
  }

  private async runQueue(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const jobId = this.queue.shift()!;
      const job = this.jobs.get(jobId);
      if (!job || FINAL_STATES.includes(job.state)) continue;
      const abort = new AbortController();
      this.active = { jobId, abort };
      this.opts.log.info('job started', { job: jobId });
      try {
        // loaded with the first job: model loading, onnxruntime and probes stay out of an idle agent's memory
        const { executeJob } = await import('./jobs/executor.ts');
        const state = await executeJob(job, {
          deviceId: this.opts.settings.deviceId, config: this.opts.settings.allow, jobs: this.jobs, outbox: this.outbox, log: this.opts.log,
          variantsDir: join(this.opts.settings.stateDir, 'variants'),
          queued: () => this.publisher?.drain(),
        }, abort.signal);
        this.opts.log.info('job finished', { job: jobId, state });
      } catch (err) {
        this.opts.log.error('job crashed', { job: jobId, error: errorMessage(err) });
        this.outbox.enqueue(this.topic('progress'), 'progress', { jobId, attempt: job.attempt, state: 'failed', done: 0, total: 0, detail: errorMessage(err).slice(0, 2000) },
          () => this.jobs.setState(jobId, 'failed', errorMessage(err)));
        this.publisher?.drain();
      }
      this.active = undefined;
    }
  }

  pendingMessages(): number {
    return this.outbox.count();
  }

  /** Graceful stop: announce offline (a clean disconnect does not fire the last will), then close. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.receiptTimer);
    clearTimeout(this.registrationTimer);
    this.health?.();
    this.active?.abort.abort();
    // an aborted job stops at its next record and stays unfinished in SQLite, so the next start resumes it
    await Promise.race([this.pumping, new Promise((r) => setTimeout(r, 10_000).unref())]);
    const client = this.client;
    if (client?.connected) {
      const offline = this.outbox.message('status', { state: 'offline' });
      await client.publishAsync(this.topic('status'), encodeMessage(offline), { qos: 1, retain: true }).catch(() => undefined);
    }
    await client?.endAsync().catch(() => undefined);
    this.db.close();
  }
}
