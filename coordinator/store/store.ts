import type { DeviceProfile, JobState, PayloadOf } from '../../core/protocol/messages.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';
import type { AdmittedVia } from '../security/admission.ts';
import type { RolloutSpec } from '../rollouts/rollout-spec.ts';
import type { SqlRunner } from './sql-runner.ts';

/** Where a job stands on one device; the agent's JobState plus the coordinator's own states ('held': a later rollout wave, not yet sent). */
export type TargetState = 'queued' | 'held' | 'dispatched' | JobState | 'timed-out';
export const FINAL_TARGET_STATES: readonly TargetState[] = ['completed', 'failed', 'rejected', 'cancelled', 'timed-out'];

export interface ResultRow {
  messageId: string;
  deviceId: string;
  seq: number;
  sentAt: string;
  jobId: string;
  recordKey: string;
  record: ProbeRecord;
  /** `record` as JSON text when the device's own text is known to parse to exactly it (security screen); else JSON.stringify(record) is stored */
  recordJson?: string;
  /** produced by `edgeprobe simulate` (a load tool), not by a real agent */
  simulated?: boolean;
}

/** A refused message as kept in rejected_messages: where it came from and why, never its payload. */
export interface RejectedRow { topic: string; deviceId: string | null; messageId: string | null; reason: string }

export interface HeartbeatRow { messageId: string; deviceId: string; sentAt: string; heartbeat: PayloadOf<'heartbeat'> }

/** Engines answer synchronously (SQLite) or with a promise (PostgreSQL); callers always await. */
export type Awaitable<T> = T | Promise<T>;

export interface DeviceRow {
  deviceId: string;
  profile: DeviceProfile;
  allowed: PayloadOf<'register'>['allowed'];
  firstSeen: string;
  lastSeen: string;
  online: boolean;
  heartbeat: PayloadOf<'heartbeat'> | null;
  /** how the coordinator admitted it; absent for a registration older than admission (not admitted) */
  admittedVia?: AdmittedVia;
}

export interface JobTargetRow {
  jobId: string;
  deviceId: string;
  state: TargetState;
  attempt: number;
  done: number;
  total: number;
  detail: string | null;
  /** the target's rollout wave (0 for a job without a rollout) */
  wave: number;
  createdAt: string;
}

export interface NewJob {
  jobId: string; plan: JobPlan; devices: string[]; timeoutS: number; maxAttempts: number;
  /** a staged rollout (coordinator/rollouts): the wave of each device (same order); waves after the first start 'held' */
  rollout?: { spec: RolloutSpec; waves: number[] };
}
export interface Dispatch { jobId: string; deviceId: string; attempt: number; plan: JobPlan; seq: number }
export interface StoredResult extends ResultRow { receivedAt: string }
/** Highest result id and latest job / device activity (ms); equal versions mean nothing new to show. */
export interface DataVersion { lastResultId: number; jobActivityMs: number; deviceSeenMs: number }

/**
 * Everything the coordinator keeps. One implementation per database engine (SQLite, PostgreSQL) with
 * the same schema migrations (migrations.ts); all SQL lives in the implementation, so the ingest, jobs
 * and report code never changes with the engine.
 */
export interface FleetStore {
  /** Inserts results in one transaction; a message id or (device, job, record key) seen before is skipped. */
  ingestResults(rows: ResultRow[], nowMs: number): Awaitable<{ inserted: number; duplicates: number }>;
  isKnownDevice(deviceId: string): Awaitable<boolean>;
  /** Whether job `jobId` exists and targets device `deviceId` (the only results ingest stores, see ingest.ts). */
  isJobTarget(jobId: string, deviceId: string): Awaitable<boolean>;
  /** The admission route of a registered device, for `checkRegistered`; undefined if it never was admitted. */
  registrationOf(deviceId: string): Awaitable<{ via: AdmittedVia } | undefined>;
  /** Stores (or refreshes) a device that the admission check let in, with how it was admitted. */
  registerDevice(deviceId: string, payload: PayloadOf<'register'>, admittedVia: AdmittedVia, nowMs: number): Awaitable<void>;
  setOnline(deviceId: string, online: boolean, nowMs: number): Awaitable<void>;
  /** Stores each heartbeat once (by message id) in the history and makes it the device's latest. */
  recordHeartbeats(rows: HeartbeatRow[], nowMs: number): Awaitable<void>;
  /** Deletes heartbeat history received before `beforeMs`; returns the rows deleted. */
  pruneHeartbeats(beforeMs: number): Awaitable<number>;
  /**
   * Takes or renews the named lease for `owner` until nowMs + ttlMs; true when `owner` holds it. A lease
   * held by another owner passes only after it expires, so one coordinator replica at a time owns a duty.
   */
  acquireLease(name: string, owner: string, ttlMs: number, nowMs: number): Awaitable<boolean>;
  /** Applies a progress message unless a newer one (by sequence number) was applied already. */
  recordProgress(deviceId: string, seq: number, p: PayloadOf<'progress'>, nowMs: number): Awaitable<void>;
  recordRejected(topic: string, deviceId: string | null, messageId: string | null, reason: string, nowMs: number): Awaitable<void>;
  /** Many rejections in one transaction (the ingest writes a round's rejections together, so a flood costs one commit per round). */
  recordRejectedMany(rows: RejectedRow[], nowMs: number): Awaitable<void>;

  createJob(job: NewJob, nowMs: number): Awaitable<void>;
  /** Queued targets on online devices, marked dispatched with attempt + 1 (atomically: one dispatcher wins). */
  claimDispatches(nowMs: number): Awaitable<Dispatch[]>;
  /** A claimed target the coordinator will not send (its plan breaks the job policy): final state 'rejected'. */
  refuseDispatch(jobId: string, deviceId: string, reason: string, nowMs: number): Awaitable<void>;
  /** Targets silent for longer than their job's timeout: back to queued while attempts remain, else timed-out. */
  expireSilent(nowMs: number): Awaitable<{ retried: number; timedOut: number }>;

  /** Marks the job's unfinished targets cancelled; returns the devices to notify, with their next sequence number. */
  cancelJob(jobId: string, nowMs: number): Awaitable<Array<{ deviceId: string; seq: number }>>;

  devices(): Awaitable<DeviceRow[]>;
  jobTargets(jobId?: string): Awaitable<JobTargetRow[]>;
  results(): Awaitable<StoredResult[]>;
  counts(): Awaitable<{ results: number; rejected: number; devices: number }>;
  rejected(limit: number): Awaitable<Array<{ topic: string; deviceId: string | null; reason: string; receivedAt: string }>>;

  // --- dashboard queries (coordinator/dashboard) ---
  /** Changes whenever a result, job progress or device state is written: the read-only dashboard polls it. */
  dataVersion(): Awaitable<DataVersion>;
  /** A trivial query: whether the store answers at all (the ingest tells "down" from "refused this data" with it). */
  ping(): Awaitable<void>;
  /** plain SQL on this engine, for the monitoring tables (alerts, schedules: coordinator/monitoring) */
  sql(): SqlRunner;
  close(): Awaitable<void>;
}
