import { epError } from '../../core/errors.ts';
import { isPostgresUrl, redactDbUrl } from './db-url.ts';
import type { FleetStore } from './store.ts';

export { isPostgresUrl, redactDbUrl };

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
