import type { DaemonLog } from '../core/daemon-log.ts';

const LINES_PER_WINDOW = 5;
const WINDOW_MS = 10_000;

/**
 * Logs rejected messages with a per-sender budget: the first few per sender and window are logged in
 * full, the rest are counted and summed up in one line when the sender's next window opens. A device
 * flooding bad messages must not turn the coordinator's log (a pipe or journald, which can block the
 * process when it fills) into the bottleneck that stalls everyone else; every rejection is still
 * stored in rejected_messages.
 */
export class RejectionLog {
  private readonly senders = new Map<string, { windowStart: number; logged: number; suppressed: number }>();

  constructor(private readonly log: DaemonLog, private readonly now = () => Date.now()) {}

  warn(sender: string, fields: Record<string, unknown>): void {
    const t = this.now();
    let s = this.senders.get(sender);
    if (!s || t - s.windowStart >= WINDOW_MS) {
      if (s && s.suppressed > 0) this.log.warn('rejected messages not logged one by one', { sender, count: s.suppressed, seconds: Math.round((t - s.windowStart) / 1000) });
      s = { windowStart: t, logged: 0, suppressed: 0 };
      this.senders.set(sender, s);
      // forget idle senders so a stream of one-off topics cannot grow the map without bound
      if (this.senders.size > 10_000) for (const [k, v] of this.senders) if (t - v.windowStart >= WINDOW_MS) this.senders.delete(k);
    }
    if (s.logged < LINES_PER_WINDOW) {
      s.logged++;
      this.log.warn('rejected message', fields);
    } else s.suppressed++;
  }
}
