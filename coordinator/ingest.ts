import { EventEmitter } from 'node:events';
import type { DaemonLog } from '../core/daemon-log.ts';
import { decodeMessage } from '../core/protocol/codec.ts';
import type { Message, PayloadOf } from '../core/protocol/messages.ts';
import { parseTopic } from '../core/protocol/topics.ts';
import type { FleetStore, ResultRow } from './store/store.ts';

/** What a committed change touched; the dashboard pushes it to browsers (server-sent events). */
export type IngestChange = 'results' | 'progress' | 'device';

export interface IngestStats { received: number; stored: number; duplicates: number; rejected: number }

/**
 * Validates and routes every device message. Results are buffered and committed in one transaction
 * per event-loop turn (`flushSoon`); the caller holds the PUBACKs of a turn until the commit (see
 * coordinator.ts), so what the broker considers delivered is in the database.
 */
export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  /** emits 'change' (IngestChange) after each write the dashboard shows, results once per committed batch */
  readonly changes = new EventEmitter<{ change: [IngestChange] }>();
  private batch: ResultRow[] = [];

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog, private readonly onDeviceOnline: (deviceId: string) => void = () => {}) {}

  /** Handles one message; returns true when results are waiting for `flush`. */
  handle(topic: string, raw: Uint8Array): boolean {
    this.stats.received++;
    const now = Date.now();
    const decoded = decodeMessage(topic, raw);
    if (!decoded.ok) {
      this.reject(topic, parseTopic(topic)?.deviceId ?? null, decoded.messageId ?? null, decoded.reason, now);
      return false;
    }
    const msg = decoded.message;
    // apply messages in arrival order: a job's "completed" must not be visible before its last results
    if (msg.type !== 'results') this.flush();
    if (msg.type !== 'register' && !this.store.isKnownDevice(msg.deviceId)) {
      this.reject(topic, msg.deviceId, msg.messageId, `unknown device ${msg.deviceId}: it never registered`, now);
      return false;
    }
    switch (msg.type) {
      case 'register':
        this.store.registerDevice(msg.deviceId, (msg as Message<'register'>).payload, now);
        this.log.info('device registered', { device: msg.deviceId });
        this.changes.emit('change', 'device');
        this.onDeviceOnline(msg.deviceId);
        return false;
      case 'status': {
        const online = (msg as Message<'status'>).payload.state === 'online';
        this.store.setOnline(msg.deviceId, online, now);
        this.log.info(online ? 'device online' : 'device offline', { device: msg.deviceId });
        this.changes.emit('change', 'device');
        if (online) this.onDeviceOnline(msg.deviceId);
        return false;
      }
      case 'heartbeat':
        this.store.recordHeartbeat(msg.deviceId, (msg as Message<'heartbeat'>).payload, now);
        return false;
      case 'progress': {
        const p = (msg as Message<'progress'>).payload;
        this.store.recordProgress(msg.deviceId, msg.seq, p, now);
        this.changes.emit('change', 'progress');
        if (p.state !== 'running') this.log.info(`job ${p.state}`, { job: p.jobId, device: msg.deviceId, ...(p.detail ? { detail: p.detail } : {}) });
        return false;
      }
      case 'results': {
        const p = (msg as Message<'results'>).payload as PayloadOf<'results'>;
        this.batch.push({ messageId: msg.messageId, deviceId: msg.deviceId, seq: msg.seq, sentAt: msg.sentAt, jobId: p.jobId, recordKey: p.recordKey, record: p.record });
        return true;
      }
      default:
        this.reject(topic, msg.deviceId, msg.messageId, `devices may not send ${msg.type} messages`, now);
        return false;
    }
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const { inserted, duplicates } = this.store.ingestResults(rows, Date.now());
    this.stats.stored += inserted;
    this.stats.duplicates += duplicates;
    if (duplicates > 0) this.log.info('duplicate results ignored', { duplicates });
    if (inserted > 0) this.changes.emit('change', 'results');
  }

  private reject(topic: string, deviceId: string | null, messageId: string | null, reason: string, now: number): void {
    this.stats.rejected++;
    this.store.recordRejected(topic, deviceId, messageId, reason, now);
    this.log.warn('rejected message', { topic, reason });
  }
}
