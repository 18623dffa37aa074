import type Database from 'better-sqlite3';

/**
 * Forward-only schema migrations tracked in SQLite's `user_version`: migration i brings the schema to
 * version i+1. Each runs in its own transaction, so a crash mid-upgrade leaves the previous version.
 */
export function migrate(db: Database.Database, migrations: readonly string[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`database schema version ${current} is newer than this edgeprobe (${migrations.length}); upgrade edgeprobe`);
  }
  for (let v = current; v < migrations.length; v++) {
    // IMMEDIATE, and the version read again inside: two processes opening the file at once (a coordinator and
    // a CLI command) run each step once, the second waiting for the first instead of failing or repeating it
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) !== v) return;
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return migrations.length;
}
