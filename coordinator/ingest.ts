import { EventEmitter } from 'node:events';
import type { DaemonLog } from '../core/daemon-log.ts';
import { validateMessage } from '../core/protocol/codec.ts';
import type { Message, PayloadOf } from '../core/protocol/messages.ts';
import { checkRecord } from '../probes/index.ts';
import type { CoordinatorConfig } from './config/coordinator-config.ts';
import { screenDeviceMessage, type Accepted, type AdmittedVia, type InboundMessage, type Refused } from './security/index.ts';
import { StoreGuard, StoreRefused } from './store-guard.ts';
import type { Awaitable, FleetStore, HeartbeatRow, RejectedRow, ResultRow } from './store/store.ts';
import { RejectionLog } from './rejection-log.ts';

/** What one device is told after a commit (core/protocol/messages.ts, ReceiptPayload). */
export interface Receipt { stored: string[]; rejected: Array<{ messageId: string; reason: string }>; registered?: boolean }

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a committed change touched; the dashboard pushes it to browsers (server-sent events). */
export type IngestChange = 'results' | 'progress' | 'device';

/** What the security screen needs from the coordinator's settings (CoordinatorSettings has both). */
export interface IngestSecurity {
  config: Pick<CoordinatorConfig, 'admission' | 'limits' | 'identity'>;
  openAdmission: boolean;
  /**
   * Load testing only (`edgeprobe coordinator --load-test`, off by default): results marked simulated are
   * stored without a job that targets their sender, so a load tool can stream under made-up job ids.
   */
  loadTest?: boolean;
}

// (job, device) pairs known to be job targets; a job's targets never change once it is created
const MAX_TARGETS_CACHED = 100_000;

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
  private rejections: RejectedRow[] = [];
  // "rejected for good" receipts of messages whose rejection row is not committed yet
  private rejectedReceipts: Array<[string, Receipt['rejected'][number]]> = [];
  private flushing: Promise<void> = Promise.resolve();
  private readonly knownTargets = new Set<string>();
  // what the devices hear after the commit: results stored (or already stored) and rejected for good
  private receipts = new Map<string, Receipt>();
  private readonly rejectionLog: RejectionLog;
  // registrations (admission route) of devices seen by this process: at scale most messages come from
  // registered devices and the lookup would otherwise be one database round trip per message
  private readonly registrations = new Map<string, { via: AdmittedVia }>();
  // retries a store that is down, tells it from a store that refuses one message (store-guard.ts)
  private readonly guard: StoreGuard;

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog, private readonly security: IngestSecurity,
    private readonly onDeviceOnline: (deviceId: string) => void = () => {}) {
    this.guard = new StoreGuard(store, log);
    this.rejectionLog = new RejectionLog(log);
  }

  /** Stops waiting for a store that is down (the coordinator is stopping): pending writes fail, nothing more is acked. */
  close(): void {
    this.guard.close();
  }

  /**
   * One write of one message through the guard; a store that refuses it for good turns it into a
   * rejection (recorded, and acknowledged like any rejected message) instead of a redelivery loop.
   */
  private async write(topic: string, deviceId: string, messageId: string, what: string, fn: () => Awaitable<unknown>, now: number): Promise<boolean> {
    try {
      await this.guard.run(what, fn);
      return true;
    } catch (err) {
      if (!(err instanceof StoreRefused)) throw err;
      await this.reject(topic, deviceId, messageId, `store-refused: ${err.message}`, now);
      return false;
    }
  }

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
      // resending cannot fix a message that breaks the schema: tell the agent to stop
      if (screened.kind === 'results' && decoded.messageId && UUID_RE.test(decoded.messageId)) this.rejectedReceipts.push([screened.deviceId, { messageId: decoded.messageId, reason: decoded.reason.slice(0, 2000) }]);
      return false;
    }
    const msg = decoded.message;
    // apply messages in arrival order: a job's "completed" must not be visible before its last results
    if (msg.type !== 'results' && msg.type !== 'heartbeat') await this.flush();
    switch (msg.type) {
      case 'register': {
        const via = screened.admittedVia as AdmittedVia;
        if (!await this.write(topic, msg.deviceId, msg.messageId, `the registration of ${msg.deviceId}`,
          () => this.store.registerDevice(msg.deviceId, (msg as Message<'register'>).payload, via, now), now)) return false;
        this.registrations.set(msg.deviceId, { via });
        this.receipt(msg.deviceId).registered = true;
        this.log.info('device registered', { device: msg.deviceId, admittedVia: via });
        this.changes.emit('change', 'device');
        this.onDeviceOnline(msg.deviceId);
        return false;
      }
      case 'status': {
        const online = (msg as Message<'status'>).payload.state === 'online';
        if (!await this.write(topic, msg.deviceId, msg.messageId, `the status of ${msg.deviceId}`, () => this.store.setOnline(msg.deviceId, online, now), now)) return false;
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
        if (!await this.write(topic, msg.deviceId, msg.messageId, `progress of ${p.jobId} from ${msg.deviceId}`,
          () => this.store.recordProgress(msg.deviceId, msg.seq, p, now), now)) return false;
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
        // only a job that targets the sender gets its results (a device cannot write into another's job)
        if (!(p.simulated && this.security.loadTest) && !await this.targetsSender(p.jobId, msg.deviceId)) {
          const reason = `not-a-target: job ${p.jobId} does not exist or does not target ${msg.deviceId}`;
          await this.reject(topic, msg.deviceId, msg.messageId, reason, now);
          if (UUID_RE.test(msg.messageId)) this.rejectedReceipts.push([msg.deviceId, { messageId: msg.messageId, reason }]);
          return false;
        }
        // the screened text of the record is stored as is when the contract check took the record unchanged (no upgrade)
        const recordJson = checked.value === p.record ? screened.recordText : undefined;
        this.batch.push({ messageId: msg.messageId, deviceId: msg.deviceId, seq: msg.seq, sentAt: msg.sentAt, jobId: p.jobId, recordKey: p.recordKey, record: checked.value,
          ...(recordJson !== undefined ? { recordJson } : {}), ...(p.simulated ? { simulated: true } : {}) });
        return true;
      }
      default:
        await this.reject(topic, msg.deviceId, msg.messageId, `devices may not send ${msg.type} messages`, now);
        return false;
    }
  }

  /**
   * Commits everything handled so far. Calls are serialised (one transaction at a time, in call
   * order), so `handle` may go on with the next messages while a round commits: a flush takes the
   * rows handled by the time it starts, which includes every row of the rounds it was called for.
   */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushNow());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushNow(): Promise<void> {
    if (this.rejections.length > 0) {
      const rejections = this.rejections;
      const receipts = this.rejectedReceipts;
      this.rejections = [];
      this.rejectedReceipts = [];
      await this.commitEach(rejections, 'rejection', (rows) => this.store.recordRejectedMany(rows, Date.now()),
        // it holds nothing of the payload, so this is not expected: the log keeps it
        (row, err) => this.log.error('rejection not recorded', { topic: row.topic, error: err.message }));
      for (const [deviceId, r] of receipts) this.receipt(deviceId).rejected.push(r);
    }
    if (this.heartbeats.length > 0) {
      const beats = this.heartbeats;
      this.heartbeats = [];
      await this.commitEach(beats, 'heartbeat', (rows) => this.store.recordHeartbeats(rows, Date.now()), (row, err) => this.refusedRow('heartbeat', row, err));
    }
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    let inserted = 0;
    let duplicates = 0;
    const refused = new Set<string>();
    await this.commitEach(rows, 'results', async (some) => {
      const r = await this.store.ingestResults(some, Date.now());
      inserted += r.inserted;
      duplicates += r.duplicates;
    }, (row, err) => {
      refused.add(row.messageId);
      this.receipt(row.deviceId).rejected.push({ messageId: row.messageId, reason: `store-refused: ${err.message}`.slice(0, 2000) });
      this.refusedRow('results', row, err);
    });
    for (const r of rows) if (!refused.has(r.messageId)) this.receipt(r.deviceId).stored.push(r.messageId);
    // rows the store refused became rejections of this round: committed before its PUBACKs go out
    if (this.rejections.length > 0) await this.flushNow();
    this.stats.stored += inserted;
    this.stats.duplicates += duplicates;
    if (duplicates > 0) this.log.info('duplicate results ignored', { duplicates });
    if (inserted > 0) this.changes.emit('change', 'results');
  }

  /**
   * Commits a batch in one transaction. When the store refuses it, each row is tried alone so that
   * one message the store cannot take (the screen should have caught it) is rejected and recorded
   * while the rest of the round is stored; the round's PUBACKs go out only after all of it.
   */
  private async commitEach<R>(rows: R[], kind: string, commit: (rows: R[]) => Awaitable<void | unknown>, refused: (row: R, err: StoreRefused) => void): Promise<void> {
    try {
      await this.guard.run(`${rows.length} ${kind} rows`, () => commit(rows));
      return;
    } catch (err) {
      if (!(err instanceof StoreRefused)) throw err;
      if (rows.length === 1) {
        refused(rows[0], err);
        return;
      }
      this.log.warn(`the store refused a batch of ${rows.length} ${kind} rows; committing them one by one`, { error: err.message });
    }
    for (const row of rows) await this.commitEach([row], kind, commit, refused);
  }

  private refusedRow(kind: 'results' | 'heartbeat', row: { messageId: string; deviceId: string }, err: StoreRefused): void {
    this.queueRejection(`edgeprobe/v1/devices/${row.deviceId}/${kind}`, row.deviceId, row.messageId, `store-refused: ${err.message}`);
  }

  /** Cached per (job, device): a job's results cost one lookup, not one per message. */
  private async targetsSender(jobId: string, deviceId: string): Promise<boolean> {
    const key = `${jobId}\u0000${deviceId}`;
    if (this.knownTargets.has(key)) return true;
    if (!await this.guard.run(`the job target lookup of ${jobId} for ${deviceId}`, () => this.store.isJobTarget(jobId, deviceId))) return false;
    if (this.knownTargets.size >= MAX_TARGETS_CACHED) this.knownTargets.clear();
    this.knownTargets.add(key);
    return true;
  }

  private receipt(deviceId: string): Receipt {
    let r = this.receipts.get(deviceId);
    if (!r) this.receipts.set(deviceId, r = { stored: [], rejected: [] });
    return r;
  }

  /**
   * The receipts of everything committed so far, per device (and forgets them): the coordinator sends
   * them after the round's commit. Rejections recorded in the same round are committed by then too.
   */
  takeReceipts(): Map<string, Receipt> {
    const out = this.receipts;
    this.receipts = new Map();
    return out;
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
    const id = missed;
    const stored = await this.guard.run(`the registration lookup of ${id}`, () => this.store.registrationOf(id));
    if (!stored) return first;
    this.registrations.set(missed, stored);
    return screenDeviceMessage(msg, ctx);
  }

  /**
   * Logs the rejection (a budget per sender, rejection-log.ts) and keeps a row of it (topic, device,
   * reason: never the payload or a token), written with the round so its PUBACK waits for the row.
   */
  private async reject(topic: string, deviceId: string | null, messageId: string | null, reason: string, _now: number, logLine?: string): Promise<void> {
    this.queueRejection(topic, deviceId, messageId, reason, logLine);
  }

  private queueRejection(topic: string, deviceId: string | null, messageId: string | null, reason: string, logLine?: string): void {
    this.stats.rejected++;
    this.rejections.push({ topic, deviceId, messageId: messageId?.slice(0, 64) ?? null, reason });
    this.rejectionLog.warn(deviceId ?? topic, logLine ? { reason: logLine } : { topic, reason });
  }
}
