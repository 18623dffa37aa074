import type { DaemonLog } from '../core/daemon-log.ts';
import { errorMessage } from '../core/errors.ts';
import { classifyStoreError } from './store/store-errors.ts';
import type { Awaitable, FleetStore } from './store/store.ts';

/** The store refused this data for a reason that will not change when the message is delivered again. */
export class StoreRefused extends Error {
  constructor(readonly what: string, readonly original: unknown) {
    super(`the store refused ${what}: ${errorMessage(original)}`);
  }
}

/** The coordinator is stopping while the store is unavailable: nothing more is written or acked. */
export class StoreClosed extends Error {}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/**
 * Every store call of the ingest path goes through `run`. A store that is unavailable is retried with
 * backoff, as long as it takes: meanwhile nothing commits, so no PUBACK goes out and the socket pauses
 * at the coordinator's backlog limit (backpressure to the broker, which keeps the messages). That
 * replaces dropping the connection, which made the broker redeliver in a loop. A failure that is
 * neither clearly "unavailable" nor clearly "refused" is decided by a ping: a store that answers it
 * refused the data.
 */
export class StoreGuard {
  private closed = false;
  private down = false;

  constructor(private readonly store: FleetStore, private readonly log: DaemonLog, private readonly sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))) {}

  async run<T>(what: string, fn: () => Awaitable<T>): Promise<T> {
    let delay = FIRST_RETRY_MS;
    for (;;) {
      try {
        const out = await fn();
        if (this.down) {
          this.down = false;
          this.log.info('store available again, ingest resumes');
        }
        return out;
      } catch (err) {
        let kind = classifyStoreError(err);
        if (kind === 'unknown') kind = (await this.answers()) ? 'refused' : 'unavailable';
        if (kind === 'refused') throw new StoreRefused(what, err);
        if (this.closed) throw new StoreClosed(`stopping while the store is unavailable (${errorMessage(err)})`);
        if (!this.down) {
          this.down = true;
          this.log.error('store unavailable: holding acknowledgements and retrying', { during: what, error: errorMessage(err) });
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  /** Stops retrying: a call that fails from now on throws StoreClosed. */
  close(): void {
    this.closed = true;
  }

  private async answers(): Promise<boolean> {
    try {
      await this.store.ping();
      return true;
    } catch {
      return false;
    }
  }
}
