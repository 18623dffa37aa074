import type { SqlRunner } from '../store/sql-runner.ts';
import type { DataVersion } from '../store/store.ts';

/** an event lists at most this many changed devices; beyond it says null ("refetch what you show") */
export const MAX_CHANGED_DEVICES = 500;

/**
 * Which devices changed between two store versions: new results (results' primary key above the last
 * seen id) and devices seen or whose jobs moved since. Live events carry these ids and the version, so an
 * open page refetches its device page only when one of its devices changed, and the fleet summary otherwise.
 */
export async function changedSince(sql: SqlRunner, before: DataVersion, now: DataVersion): Promise<{ version: DataVersion; devices: string[] | null }> {
  const ids = new Set<string>();
  const add = (rows: Array<{ device_id: string }>): void => { for (const r of rows) ids.add(r.device_id); };
  const cap = MAX_CHANGED_DEVICES + 1;
  if (now.lastResultId > before.lastResultId) {
    add(await sql.all('SELECT DISTINCT device_id FROM results WHERE id > ? AND id <= ? LIMIT ' + cap, [before.lastResultId, now.lastResultId]));
  }
  if (now.deviceSeenMs > before.deviceSeenMs) add(await sql.all(`SELECT device_id FROM devices WHERE last_seen_ms > ? LIMIT ${cap}`, [before.deviceSeenMs]));
  if (now.jobActivityMs > before.jobActivityMs) add(await sql.all(`SELECT DISTINCT device_id FROM job_targets WHERE activity_ms > ? LIMIT ${cap}`, [before.jobActivityMs]));
  return { version: now, devices: ids.size > MAX_CHANGED_DEVICES ? null : [...ids].sort() };
}
