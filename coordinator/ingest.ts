import { EventEmitter } from 'node:events';
import type { DaemonLog } from '../core/daemon-log.ts';
import { validateMessage } from '../core/protocol/codec.ts';
import type { Message, PayloadOf } from '../core/protocol/messages.ts';
import { checkRecord } from '../probes/index.ts';
import type { CoordinatorConfig } from './config/coordinator-config.ts';
import { screenDeviceMessage, type Accepted, type AdmittedVia, type InboundMessage, type Refused } from './security/index.ts';
import type { FleetStore, HeartbeatRow, ResultRow } from './store/store.ts';

/** What a committed change touched; the dashboard pushes it to browsers (server-sent events). */
export type IngestChange = 'results' | 'progress' | 'device';

/** What the security screen needs from the coordinator's settings (CoordinatorSettings has both). */
export interface IngestSecurity {
  config: Pick<CoordinatorConfig, 'admission' | 'limits' | 'identity'>;
  openAdmission: boolean;
}

export interface IngestStats { received: number; stored: number; duplicates: number; rejected: number }

/**
 * Validates and routes every device message. Results and heartbeats are buffered and committed in one
 * transaction per round (`flush`); the caller holds the PUBACKs of a round until the commit (see
 * coordinator.ts), so what the broker considers delivered is in the database. The caller awaits each
 * `handle` before the next one, so messages are applied in arrival order with either store engine.
 */
export class Ingest {
  readonly stats: IngestStats = { received: 0, stored: 0, duplicates: 0, rejected: 0 };
  /** emits 'change' (IngestChange) after each write the dashboard shows, results once per committed batch */
  readonly changes = new EventEmitter<{ change: [IngestChange] }>();
  private batch: ResultRow[] = [];
  private heartbeats: HeartbeatRow[] = [];
  // registrations (admission route) of devices seen by this process: at scale most messages come from
  // registered devices and the lookup would otherwise be one database round trip per message
  private readonly registrations = new Map<string, { via: AdmittedVia }>();

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog, private readonly security: IngestSecurity,
    private readonly onDeviceOnline: (deviceId: string) => void = () => {}) {}

  /** Handles one message; returns true when results or heartbeats are waiting for `flush`. */
  async handle(topic: string, raw: Uint8Array, userProperties?: Record<string, string | string[]>): Promise<boolean> {
    this.stats.received++;
    const now = Date.now();
    // First, before anything is parsed further or stored (docs/security.md): topic, size, JSON, identity,
    // then admission (register) or registration (everything else). Refused: logged, nothing of it stored.
    const screened = await this.screen({ topic, payload: raw, userProperties });
    if (!screened.ok) {
      await this.reject(topic, screened.deviceId ?? null, null, `${screened.code}: ${screened.reason}`, now, screened.logLine);
      return false;
    }
    const decoded = validateMessage(topic, screened.body);
    if (!decoded.ok) {
      await this.reject(topic, screened.deviceId, decoded.messageId ?? null, decoded.reason, now);
      return false;
    }
    const msg = decoded.message;
    // apply messages in arrival order: a job's "completed" must not be visible before its last results
    if (msg.type !== 'results' && msg.type !== 'heartbeat') await this.flush();
    switch (msg.type) {
      case 'register': {
        const via = screened.admittedVia as AdmittedVia;
        await this.store.registerDevice(msg.deviceId, (msg as Message<'register'>).payload, via, now);
        this.registrations.set(msg.deviceId, { via });
        this.log.info('device registered', { device: msg.deviceId, admittedVia: via });
        this.changes.emit('change', 'device');
        this.onDeviceOnline(msg.deviceId);
        return false;
      }
      case 'status': {
        const online = (msg as Message<'status'>).payload.state === 'online';
        await this.store.setOnline(msg.deviceId, online, now);
        this.log.info(online ? 'device online' : 'device offline', { device: msg.deviceId });
        this.changes.emit('change', 'device');
        if (online) this.onDeviceOnline(msg.deviceId);
        return false;
      }
      case 'heartbeat':
        this.heartbeats.push({ messageId: msg.messageId, deviceId: msg.deviceId, sentAt: msg.sentAt, heartbeat: (msg as Message<'heartbeat'>).payload });
        return true;
      case 'progress': {
        const p = (msg as Message<'progress'>).payload;
        await this.store.recordProgress(msg.deviceId, msg.seq, p, now);
        this.changes.emit('change', 'progress');
        if (p.state !== 'running') this.log.info(`job ${p.state}`, { job: p.jobId, device: msg.deviceId, ...(p.detail ? { detail: p.detail } : {}) });
        return false;
      }
      case 'results': {
        const p = (msg as Message<'results'>).payload as PayloadOf<'results'>;
        // `data` is the probe's: checked against its contract (probes/index.ts), so every stored record can be read
        const checked = checkRecord(p.record);
        if (!checked.ok) {
          await this.reject(topic, msg.deviceId, msg.messageId, `bad-record: ${checked.reason}`, now);
          return false;
        }
        this.batch.push({ messageId: msg.messageId, deviceId: msg.deviceId, seq: msg.seq, sentAt: msg.sentAt, jobId: p.jobId, recordKey: p.recordKey, record: checked.value, ...(p.simulated ? { simulated: true } : {}) });
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
    if (inserted > 0) this.changes.emit('change', 'results');
  }

  /**
   * Runs the security screen. Its registration check needs the device's stored registration, which is
   * cached (registrations are refreshed by this process, and a config change takes effect at restart)
   * so that known devices cost no database round trip; on a cache miss the store is asked and the
   * message screened again, so every cheaper check still runs before the database is touched.
   */
  private async screen(msg: InboundMessage): Promise<Accepted | Refused> {
    let missed: string | undefined;
    const ctx = {
      config: this.security.config, openAdmission: this.security.openAdmission,
      registrationOf: (id: string) => {
        const r = this.registrations.get(id);
        if (!r) missed = id;
        return r;
      },
    };
    const first = screenDeviceMessage(msg, ctx);
    if (first.ok || missed === undefined) return first;
    const stored = await this.store.registrationOf(missed);
    if (!stored) return first;
    this.registrations.set(missed, stored);
    return screenDeviceMessage(msg, ctx);
  }

  /** Logs the rejection and keeps a row of it (topic, device, reason: never the payload or a token). */
  private async reject(topic: string, deviceId: string | null, messageId: string | null, reason: string, now: number, logLine?: string): Promise<void> {
    this.stats.rejected++;
    await this.store.recordRejected(topic, deviceId, messageId, reason, now);
    this.log.warn('rejected message', logLine ? { reason: logLine } : { topic, reason });
  }
}
