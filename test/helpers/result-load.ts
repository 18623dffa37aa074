import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { encodeMessage, makeMessage } from '../../core/protocol/codec.ts';
import { deviceTopic } from '../../core/protocol/topics.ts';
import { SeededRandom } from '../../core/numeric/seeded-random.ts';
import { syntheticBenchmarkRecord } from '../../sim/synthetic-record.ts';

const PROFILE = { hostname: 'load', platform: 'linux', arch: 'x64', cpuModel: 'test load', cores: 1, memoryBytes: 1, nodeVersion: process.version, agentVersion: 'test' };

/**
 * Devices for crash tests: each registers, then streams QoS 1 results (a window of `inflight` unacknowledged
 * publishes per device) and remembers the message id of every result the broker acknowledged: the set the
 * coordinator must store exactly once, whatever is killed meanwhile.
 */
export class ResultLoad {
  readonly acked = new Set<string>();
  readonly clients: MqttClient[] = [];
  publishErrors = 0;
  private running = false;
  private loops: Array<Promise<void>> = [];
  private readonly rng = new SeededRandom(7);
  private readonly record = syntheticBenchmarkRecord(this.rng);
  // record keys stay unique across stop/start (a repeated key would be a duplicate by design)
  private next = 0;

  constructor(readonly url: string, readonly deviceIds: string[], private readonly opts: {
    jobId?: string; inflight?: number; pauseMs?: number; connect?: (id: string) => IClientOptions;
  } = {}) {}

  async connect(): Promise<void> {
    for (const id of this.deviceIds) {
      const c = await mqtt.connectAsync(this.url, { clientId: `edgeprobe-agent-${id}`, username: id, clean: false, protocolVersion: 5, reconnectPeriod: 500, ...this.opts.connect?.(id) });
      c.on('error', () => undefined);
      await c.publishAsync(deviceTopic(id, 'register'), encodeMessage(makeMessage(id, 0, 'register', { profile: PROFILE, allowed: { models: [], probes: ['benchmark'] } })), { qos: 1, retain: true });
      this.clients.push(c);
    }
  }

  /** Starts streaming; `stop` waits until every publish in flight is acknowledged (or failed). */
  start(): void {
    this.running = true;
    const window = this.opts.inflight ?? 8;
    this.loops = this.clients.flatMap((c, d) => Array.from({ length: window }, (_, w) => this.loop(c, this.deviceIds[d], w)));
  }

  private async loop(c: MqttClient, id: string, lane: number): Promise<void> {
    while (this.running) {
      const n = this.next++;
      const msg = makeMessage(id, 1 + n, 'results', { jobId: this.opts.jobId ?? 'load', recordKey: `r/${lane}/${n}`, record: { ...this.record, createdAt: new Date().toISOString() }, simulated: true });
      try {
        await c.publishAsync(deviceTopic(id, 'results'), encodeMessage(msg), { qos: 1 });
        this.acked.add(msg.messageId);
      } catch {
        this.publishErrors++;
      }
      if (this.opts.pauseMs) await new Promise((r) => setTimeout(r, this.opts.pauseMs));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

/**
 * Fills a (new or existing) agent state directory's outbox with `n` results, as an agent that computed them
 * while the broker was unreachable would have; returns their message ids. The agent process started on
 * that directory delivers them (agent/mqtt/outbox-publisher.ts).
 */
export async function fillOutbox(stateDir: string, deviceId: string, n: number, jobId = 'load'): Promise<string[]> {
  const { openStateDb } = await import('../../agent/state/state-db.ts');
  const { Outbox } = await import('../../agent/state/outbox.ts');
  const db = openStateDb(stateDir);
  try {
    const outbox = new Outbox(db, deviceId);
    const record = syntheticBenchmarkRecord(new SeededRandom(11));
    const ids: string[] = [];
    db.transaction(() => {
      for (let i = 0; i < n; i++) ids.push(outbox.enqueue(deviceTopic(deviceId, 'results'), 'results', { jobId, recordKey: `pending/${i}`, record, simulated: true }).messageId);
    })();
    return ids;
  } finally {
    db.close();
  }
}

/** Rows left in an agent's outbox (results awaiting a receipt included). */
export async function outboxRows(stateDir: string): Promise<number> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(`${stateDir}/agent.sqlite`, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
