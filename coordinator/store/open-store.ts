import { epError } from '../../core/errors.ts';
import type { FleetStore } from './store.ts';

/** `--db` selects the engine: a postgres:// URL means PostgreSQL, anything else is a SQLite file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** A store location fit for logs and messages: a PostgreSQL URL's password is masked. */
export function redactDbUrl(db: string): string {
  return db.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** Opens (and migrates) the store; the engine modules load on demand so SQLite users never load `pg`. */
export async function openFleetStore(db: string): Promise<FleetStore> {
  if (!isPostgresUrl(db)) return (await import('./sqlite-store.ts')).openStore(db);
  const { PostgresStore } = await import('./postgres-store.ts');
  try {
    return await PostgresStore.open(db);
  } catch (err) {
    throw epError('EP_POSTGRES_UNAVAILABLE', { url: redactDbUrl(db), reason: (err as Error).message });
  }
}
