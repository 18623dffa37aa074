import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, makeMessage, decodeMessage } from '../core/protocol/codec.ts';
import { MAX_MESSAGE_BYTES, type Message, type MessageType, type PayloadOf } from '../core/protocol/messages.ts';
import { deviceTopic, type TopicKind } from '../core/protocol/topics.ts';
import { SeededRandom } from '../core/numeric/seeded-random.ts';
import type { Progress } from '../core/progress.ts';
import type { ProbeRecord } from '../core/results/probe-record.ts';
import { syntheticBenchmarkRecord } from './synthetic-record.ts';

export interface SimulatorOptions {
  broker: string;
  devices: number;
  /** device ids are `<prefix>-<index>`, index from firstIndex: several processes can share one fleet */
  prefix: string;
  firstIndex: number;
  /** results messages per second across all simulated devices (0: results only when jobs ask) */
  resultRate: number;
  heartbeatS: number;
  /** new connections per second (a broker, like a real fleet after an outage, sees them spread out) */
  connectRate: number;
  /** malformed/oversized messages per second across the fleet (bad-input load), 0 for none */
  badRate: number;
  /** ms between a job's arrival and its synthetic results */
  jobDelayMs: number;
  seed: number;
  password?: string;
  /** the fleet's pre-shared registration token, sent with each register (a coordinator with admission by fleet token) */
  registrationToken?: string;
  progress: Progress;
}

export interface SimulatorStats {
  connected: number;
  /** QoS 1 results acknowledged by the broker (what the coordinator must store exactly once) */
  resultsAcked: number;
  heartbeatsSent: number;
  badSent: number;
  jobsAnswered: number;
  /** QoS 1 publishes that failed (connection lost before the PUBACK) */
  publishErrors: number;
}

const PROFILE = { hostname: 'simulated', platform: 'linux', arch: 'arm64', cpuModel: 'simulated device (edgeprobe simulate)', cores: 4, memoryBytes: 4 * 2 ** 30, nodeVersion: process.version, agentVersion: '0.1.0-simulated' };

/** One simulated device: its own client id and persistent session, last will, register on every connect. */
class SimDevice {
  seq = 0;
  records = 0;
  activeJob: string | null = null;
  readonly client: MqttClient;

  constructor(readonly id: string, private readonly sim: DeviceSimulator, opts: SimulatorOptions) {
    const will = encodeMessage(makeMessage(id, this.nextSeq(), 'status', { state: 'offline' }));
    this.client = mqtt.connect(opts.broker, {
      clientId: `edgeprobe-agent-${id}`, clean: false, username: id, password: opts.password, reconnectPeriod: 2000, connectTimeout: 30_000,
      will: { topic: deviceTopic(id, 'status'), payload: Buffer.from(will), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      sim.onConnect(this);
      this.client.subscribe(deviceTopic(id, 'jobs'), { qos: 1 });
      this.send('register', 'register', { profile: PROFILE, allowed: { models: [{ name: 'sim-model', sha256: null }], probes: ['benchmark'] } }, true);
      this.send('status', 'status', { state: 'online' }, true);
    });
    this.client.on('close', () => sim.onClose(this));
    this.client.on('error', () => undefined); // reconnects; counted through publish errors
    this.client.on('message', (topic, raw) => sim.onJobMessage(this, topic, raw));
  }

  nextSeq(): number {
    return this.seq++;
  }

  send<T extends MessageType>(kind: TopicKind, type: T, payload: PayloadOf<T>, retain = false): Promise<void> {
    const msg = makeMessage(this.id, this.nextSeq(), type, payload);
    const token = this.sim.registrationToken;
    if (type === 'register' && token) msg.registrationToken = token;
    return this.sim.publish(this, deviceTopic(this.id, kind), encodeMessage(msg), kind === 'heartbeat' ? 0 : 1, retain, kind === 'results');
  }
}

/**
 * A LOAD TOOL: N simulated devices, each an MQTT client with its own id and session like a real agent,
 * publishing registration, status with a last will, heartbeats at the agent's interval and result
 * messages of realistic size; jobs are answered with synthetic benchmark records flagged as simulated.
 * All clients share this process's event loop; run several processes (firstIndex) for large fleets.
 */
export class DeviceSimulator {
  readonly stats: SimulatorStats = { connected: 0, resultsAcked: 0, heartbeatsSent: 0, badSent: 0, jobsAnswered: 0, publishErrors: 0 };
  private readonly devices: SimDevice[] = [];
  private readonly online = new Set<SimDevice>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly rng: SeededRandom;
  private readonly pending = new Set<Promise<void>>();
  private cursor = 0;
  readonly registrationToken?: string;
  // a pool of synthetic records reused with a fresh createdAt: generating 512 Gaussian numbers per
  // message would make the load generator, not the coordinator, the bottleneck
  private readonly recordPool: ProbeRecord[];

  constructor(private readonly opts: SimulatorOptions) {
    this.rng = new SeededRandom(opts.seed);
    this.registrationToken = opts.registrationToken;
    this.recordPool = Array.from({ length: 64 }, () => syntheticBenchmarkRecord(this.rng));
  }

  private pooledRecord(): ProbeRecord {
    return { ...this.recordPool[this.rng.int(this.recordPool.length)], createdAt: new Date().toISOString() };
  }

  /** Connects the devices at `connectRate` per second; resolves when all are connected (or the timeout passes). */
  async start(timeoutMs = 600_000): Promise<void> {
    const { opts } = this;
    const perTick = Math.max(1, Math.round(opts.connectRate / 10));
    for (let i = 0; i < opts.devices; i++) {
      this.devices.push(new SimDevice(`${opts.prefix}-${opts.firstIndex + i}`, this, opts));
      if ((i + 1) % perTick === 0) await new Promise((r) => setTimeout(r, 100));
    }
    const end = Date.now() + timeoutMs;
    while (this.online.size < opts.devices && Date.now() < end) {
      opts.progress.step('devices connected', this.online.size, opts.devices);
      await new Promise((r) => setTimeout(r, 250));
    }
    opts.progress.step('devices connected', this.online.size, opts.devices);
    this.schedule();
  }

  private schedule(): void {
    const { opts } = this;
    // heartbeats: each device on its own phase, so the broker sees a steady rate, not bursts
    for (const d of this.devices) {
      const phase = this.rng.next() * opts.heartbeatS * 1000;
      this.timers.push(setTimeout(() => {
        const beat = (): void => { if (this.online.has(d)) { this.stats.heartbeatsSent++; void d.send('heartbeat', 'heartbeat', this.heartbeat(d)); } };
        beat();
        this.timers.push(setInterval(beat, opts.heartbeatS * 1000));
      }, phase));
    }
    // results and bad input: a fleet-wide rate, spread over 100 ms ticks and across the devices
    let carry = 0;
    let badCarry = 0;
    this.timers.push(setInterval(() => {
      carry += opts.resultRate / 10;
      badCarry += opts.badRate / 10;
      for (; carry >= 1; carry--) {
        const d = this.nextOnline();
        if (d) void this.sendResult(d, 'stream', `r/${d.records++}`);
      }
      for (; badCarry >= 1; badCarry--) this.sendBad();
    }, 100));
  }

  private nextOnline(): SimDevice | undefined {
    for (let tries = 0; tries < this.devices.length; tries++) {
      const d = this.devices[this.cursor++ % this.devices.length];
      if (this.online.has(d)) return d;
    }
    return undefined;
  }

  private heartbeat(d: SimDevice): PayloadOf<'heartbeat'> {
    return {
      loadPercent: 10 + this.rng.next() * 30, memUsedBytes: 900 * 2 ** 20, memTotalBytes: 4 * 2 ** 30, temperatureC: 45 + this.rng.next() * 10,
      rssBytes: 60 * 2 ** 20, uptimeS: process.uptime(), outboxPending: 0, activeJobId: d.activeJob,
    };
  }

  private sendResult(d: SimDevice, jobId: string, recordKey: string): Promise<void> {
    return d.send('results', 'results', { jobId, recordKey, record: this.pooledRecord(), simulated: true });
  }

  /** Bad input as a broken or hostile device sends it: the coordinator must reject and count each. */
  private sendBad(): void {
    const d = this.nextOnline();
    if (!d) return;
    const kind = this.stats.badSent % 4;
    this.stats.badSent++;
    const topic = deviceTopic(d.id, 'results');
    // QoS 1, so the broker delivers each one and a test can count them (QoS 0 may be dropped by design)
    if (kind === 0) void this.publish(d, topic, '{"schemaVersion": 1, "messageId": ', 1, false);
    else if (kind === 1) void this.publish(d, topic, `{"pad":"${'x'.repeat(MAX_MESSAGE_BYTES + 1024)}"}`, 1, false);
    else if (kind === 2) void this.publish(d, topic, JSON.stringify({ ...makeMessage(d.id, 0, 'results', { jobId: 'x', recordKey: 'k', record: this.pooledRecord() }), payload: { jobId: 'bad id!' } }), 1, false);
    else void this.publish(d, topic, encodeMessage(makeMessage(`${d.id}-spoofed`, 0, 'heartbeat', this.heartbeat(d))), 1, false);
  }

  /** Answers a job like an agent: accepted, synthetic records for every model x variant, completed. */
  onJobMessage(d: SimDevice, topic: string, raw: Buffer): void {
    const decoded = decodeMessage(topic, raw);
    if (!decoded.ok || decoded.message.type !== 'job') return;
    const { jobId, attempt, plan } = (decoded.message as Message<'job'>).payload;
    d.activeJob = jobId;
    void d.send('progress', 'progress', { jobId, attempt, state: 'accepted', done: 0, total: 0 });
    const items = plan.models.flatMap((m) => plan.variants.map((v) => ({ model: m.name, variant: v })));
    setTimeout(() => {
      void (async () => {
        for (const [i, it] of items.entries()) {
          await d.send('results', 'results', { jobId, recordKey: `${it.model}/${it.variant}/benchmark/0`, record: syntheticBenchmarkRecord(this.rng, it.model, it.variant), simulated: true });
          await d.send('progress', 'progress', { jobId, attempt, state: 'running', done: i + 1, total: items.length });
        }
        await d.send('progress', 'progress', { jobId, attempt, state: 'completed', done: items.length, total: items.length });
        d.activeJob = null;
        this.stats.jobsAnswered++;
      })();
    }, this.opts.jobDelayMs);
  }

  publish(d: SimDevice, topic: string, payload: string, qos: 0 | 1, retain: boolean, countsAsResult = false): Promise<void> {
    const p = d.client.publishAsync(topic, payload, { qos, retain }).then(() => {
      if (countsAsResult) this.stats.resultsAcked++;
    }, () => { if (qos === 1) this.stats.publishErrors++; });
    const tracked = p.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
    return tracked;
  }

  onConnect(d: SimDevice): void {
    if (!this.online.has(d)) { this.online.add(d); this.stats.connected = this.online.size; }
  }

  onClose(d: SimDevice): void {
    this.online.delete(d);
    this.stats.connected = this.online.size;
  }

  /** Stops sending, waits for outstanding PUBACKs, then disconnects every device (its last will fires: offline). */
  async stop(): Promise<SimulatorStats> {
    for (const t of this.timers) { clearTimeout(t); clearInterval(t); }
    await Promise.race([Promise.allSettled([...this.pending]), new Promise((r) => setTimeout(r, 30_000))]);
    await Promise.all(this.devices.map((d) => d.client.endAsync(true).catch(() => undefined)));
    return { ...this.stats };
  }
}
