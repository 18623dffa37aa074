import type { DeviceProfile, JobState, PayloadOf } from '../../core/protocol/messages.ts';
import type { JobPlan } from '../../core/protocol/plan.ts';
import type { ProbeRecord } from '../../core/results/probe-record.ts';

/** Where a job stands on one device; the agent's JobState plus the coordinator's own states. */
export type TargetState = 'queued' | 'dispatched' | JobState | 'timed-out';
export const FINAL_TARGET_STATES: readonly TargetState[] = ['completed', 'failed', 'rejected', 'cancelled', 'timed-out'];

export interface ResultRow {
  messageId: string;
  deviceId: string;
  seq: number;
  sentAt: string;
  jobId: string;
  recordKey: string;
  record: ProbeRecord;
}

export interface DeviceRow {
  deviceId: string;
  profile: DeviceProfile;
  allowed: PayloadOf<'register'>['allowed'];
  firstSeen: string;
  lastSeen: string;
  online: boolean;
  heartbeat: PayloadOf<'heartbeat'> | null;
}

export interface JobTargetRow {
  jobId: string;
  deviceId: string;
  state: TargetState;
  attempt: number;
  done: number;
  total: number;
  detail: string | null;
  createdAt: string;
}

export interface NewJob { jobId: string; plan: JobPlan; devices: string[]; timeoutS: number; maxAttempts: number }
export interface Dispatch { jobId: string; deviceId: string; attempt: number; plan: JobPlan; seq: number }
export interface StoredResult extends ResultRow { receivedAt: string }
/** Highest result id and latest job / device activity (ms); equal versions mean nothing new to show. */
export interface DataVersion { lastResultId: number; jobActivityMs: number; deviceSeenMs: number }

/**
 * Everything the coordinator keeps. One implementation per database engine (SQLite now); all SQL
 * lives in the implementation, so the ingest, jobs and report code never changes with the engine.
 */
export interface FleetStore {
  /** Inserts results in one transaction; a message id or (device, job, record key) seen before is skipped. */
  ingestResults(rows: ResultRow[], nowMs: number): { inserted: number; duplicates: number };
  isKnownDevice(deviceId: string): boolean;
  registerDevice(deviceId: string, payload: PayloadOf<'register'>, nowMs: number): void;
  setOnline(deviceId: string, online: boolean, nowMs: number): void;
  recordHeartbeat(deviceId: string, hb: PayloadOf<'heartbeat'>, nowMs: number): void;
  /** Applies a progress message unless a newer one (by sequence number) was applied already. */
  recordProgress(deviceId: string, seq: number, p: PayloadOf<'progress'>, nowMs: number): void;
  recordRejected(topic: string, deviceId: string | null, messageId: string | null, reason: string, nowMs: number): void;

  createJob(job: NewJob, nowMs: number): void;
  /** Queued targets on online devices, marked dispatched with attempt + 1 (atomically: one dispatcher wins). */
  claimDispatches(nowMs: number): Dispatch[];
  /** Targets silent for longer than their job's timeout: back to queued while attempts remain, else timed-out. */
  expireSilent(nowMs: number): { retried: number; timedOut: number };

  /** Marks the job's unfinished targets cancelled; returns the devices to notify, with their next sequence number. */
  cancelJob(jobId: string, nowMs: number): Array<{ deviceId: string; seq: number }>;

  devices(): DeviceRow[];
  jobTargets(jobId?: string): JobTargetRow[];
  results(): StoredResult[];
  counts(): { results: number; rejected: number; devices: number };
  rejected(limit: number): Array<{ topic: string; deviceId: string | null; reason: string; receivedAt: string }>;

  // --- dashboard queries (coordinator/dashboard) ---
  /** Changes whenever a result, job progress or device state is written: the read-only dashboard polls it. */
  dataVersion(): DataVersion;
  close(): void;
}
