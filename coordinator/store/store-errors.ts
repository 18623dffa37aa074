/**
 * Whether a failed store write can succeed when tried again. The coordinator's rule: a store that is
 * down (PostgreSQL restarting, disk full, database locked) is waited for with the PUBACKs held; a
 * message the store refuses for a reason redelivery cannot change is rejected, recorded and acked.
 */
export type StoreFailure = 'unavailable' | 'refused' | 'unknown';

// SQLSTATE classes: 08 connection, 40 rollback (serialization, deadlock), 53 insufficient resources
// (disk full, out of memory, too many connections), 55 object not in prerequisite state (lock not
// available), 57 operator intervention (shutdown, cannot connect now), 58 system error (I/O)
const PG_UNAVAILABLE = new Set(['08', '40', '53', '55', '57', '58']);
// 22 data exception (value out of range, invalid encoding), 23 integrity constraint, 54 program limit
const PG_REFUSED = new Set(['22', '23', '54']);
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|PROTOCOL|INTERRUPT)/;
const SQLITE_REFUSED = /^SQLITE_(TOOBIG|MISMATCH|CONSTRAINT|RANGE)/;

export function classifyStoreError(err: unknown): StoreFailure {
  // JSON.stringify of a value it cannot write (nesting beyond the stack, a string beyond the heap)
  if (err instanceof RangeError) return 'refused';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const cls = code.slice(0, 2);
      if (PG_UNAVAILABLE.has(cls)) return 'unavailable';
      if (PG_REFUSED.has(cls)) return 'refused';
    }
    if (SQLITE_UNAVAILABLE.test(code)) return 'unavailable';
    if (SQLITE_REFUSED.test(code)) return 'refused';
    if (/^E[A-Z]+$/.test(code)) return 'unavailable'; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOSPC ...
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(message)) return 'unavailable';
  return 'unknown';
}
