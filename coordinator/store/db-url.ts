/** `--db` selects the engine: a postgres:// URL means PostgreSQL, anything else is a SQLite file path. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//.test(db);
}

/** A store location fit for logs and messages: a PostgreSQL URL's password is masked. */
export function redactDbUrl(db: string): string {
  return db.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
