import { epError } from '../../core/errors.ts';

/** One look at the work: whether it is finished, a fingerprint that changes whenever it advances, and what it is doing. */
export interface WorkSnapshot { finished: boolean; fingerprint: string; status: string }

export interface WaitOptions {
  /** what is waited for, as the user reads it ("the demo job to finish on both devices") */
  what: string;
  look: () => WorkSnapshot;
  /** give up only after this long without any change in the fingerprint: a slow device still advances */
  stallMs: number;
  /** called when the status changes, and every `reportEveryMs` while nothing changes */
  report?: (status: string, idleMs: number) => void;
  reportEveryMs?: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits as long as work advances instead of until a wall-clock deadline: a Pi-sized device or a loaded
 * machine takes longer, but its fingerprint keeps changing. Only `stallMs` without any change ends the
 * wait, with an error naming what was awaited and the last status seen.
 */
export async function waitWhileAdvancing(o: WaitOptions): Promise<void> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const reportEvery = o.reportEveryMs ?? 30_000;
  let last = o.look();
  let changedAt = now();
  let reportedAt = changedAt;
  let lastStatus = last.status;
  o.report?.(last.status, 0);
  while (!last.finished) {
    await sleep(o.pollMs ?? 100);
    const s = o.look();
    const t = now();
    if (s.fingerprint !== last.fingerprint) changedAt = t;
    if (s.status !== lastStatus || t - reportedAt >= reportEvery) {
      o.report?.(s.status, t - changedAt);
      reportedAt = t;
      lastStatus = s.status;
    }
    last = s;
    if (!s.finished && t - changedAt > o.stallMs) {
      throw epError('EP_DEMO_STALLED', { what: o.what, seconds: Math.round((t - changedAt) / 1000), status: s.status });
    }
  }
}
