import type { DaemonLog } from '../core/daemon-log.ts';
import { decodeMessage } from '../core/protocol/codec.ts';
import type { Message, PayloadOf } from '../core/protocol/messages.ts';
import { parseTopic } from '../core/protocol/topics.ts';
import type { FleetStore, HeartbeatRow, ResultRow } from './store/store.ts';

export interface IngestStats { received: number; stored: number; duplicates: number; rejected: number }

/**
 * Validates and routes every device message. Results and heartbeats are buffered and committed in one
 * transaction per round (`flush`); the caller holds the PUBACKs of a round until the commit (see
 * coordinator.ts), so what the broker considers delivered is in the database. The caller awaits each
 * `handle` before the next one, so messages are applied in arrival order with either store engine.
 */
export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  private batch: ResultRow[] = [];
  private heartbeats: HeartbeatRow[] = [];
  // devices are never deleted, so "known" is cached: at scale most messages come from known devices
  // and the lookup would otherwise be one database round trip per message
  private readonly known = new Set<string>();

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog, private readonly onDeviceOnline: (deviceId: string) => void = () => {}) {}

  /** Handles one message; returns true when results or heartbeats are waiting for `flush`. */
  async handle(topic: string, raw: Uint8Array): Promise<boolean> {
    this.stats.received++;
    const now = Date.now();
    const decoded = decodeMessage(topic, raw);
    if (!decoded.ok) {
      await this.reject(topic, parseTopic(topic)?.deviceId ?? null, decoded.messageId ?? null, decoded.reason, now);
      return false;
    }
    const msg = decoded.message;
    // apply messages in arrival order: a job's "completed" must not be visible before its last results
    if (msg.type !== 'results' && msg.type !== 'heartbeat') await this.flush();
    if (msg.type !== 'register' && !(await this.isKnown(msg.deviceId))) {
      await this.reject(topic, msg.deviceId, msg.messageId, `unknown device ${msg.deviceId}: it never registered`, now);
      return false;
    }
    switch (msg.type) {
      case 'register':
        await this.store.registerDevice(msg.deviceId, (msg as Message<'register'>).payload, now);
        this.known.add(msg.deviceId);
        this.log.info('device registered', { device: msg.deviceId });
        this.onDeviceOnline(msg.deviceId);
        return false;
      case 'status': {
        const online = (msg as Message<'status'>).payload.state === 'online';
        await this.store.setOnline(msg.deviceId, online, now);
        this.log.info(online ? 'device online' : 'device offline', { device: msg.deviceId });
        if (online) this.onDeviceOnline(msg.deviceId);
        return false;
      }
      case 'heartbeat':
        this.heartbeats.push({ messageId: msg.messageId, deviceId: msg.deviceId, sentAt: msg.sentAt, heartbeat: (msg as Message<'heartbeat'>).payload });
        return true;
      case 'progress': {
        const p = (msg as Message<'progress'>).payload;
        await this.store.recordProgress(msg.deviceId, msg.seq, p, now);
        if (p.state !== 'running') this.log.info(`job ${p.state}`, { job: p.jobId, device: msg.deviceId, ...(p.detail ? { detail: p.detail } : {}) });
        return false;
      }
      case 'results': {
        const p = (msg as Message<'results'>).payload as PayloadOf<'results'>;
        this.batch.push({ messageId: msg.messageId, deviceId: msg.deviceId, seq: msg.seq, sentAt: msg.sentAt, jobId: p.jobId, recordKey: p.recordKey, record: p.record, ...(p.simulated ? { simulated: true } : {}) });
        return true;
      }
      default:
        await this.reject(topic, msg.deviceId, msg.messageId, `devices may not send ${msg.type} messages`, now);
        return false;
    }
  }

  async flush(): Promise<void> {
    if (this.heartbeats.length > 0) {
      const beats = this.heartbeats;
      this.heartbeats = [];
      await this.store.recordHeartbeats(beats, Date.now());
    }
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const { inserted, duplicates } = await this.store.ingestResults(rows, Date.now());
    this.stats.stored += inserted;
    this.stats.duplicates += duplicates;
    if (duplicates > 0) this.log.info('duplicate results ignored', { duplicates });
  }

  private async isKnown(deviceId: string): Promise<boolean> {
    if (this.known.has(deviceId)) return true;
    const known = await this.store.isKnownDevice(deviceId);
    if (known) this.known.add(deviceId);
    return known;
  }

  private async reject(topic: string, deviceId: string | null, messageId: string | null, reason: string, now: number): Promise<void> {
    this.stats.rejected++;
    await this.store.recordRejected(topic, deviceId, messageId, reason, now);
    this.log.warn('rejected message', { topic, reason });
  }
}
