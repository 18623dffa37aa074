import type Database from 'better-sqlite3';
import type pg from 'pg';

/**
 * The few SQL calls the monitoring tables need, the same on both engines: statements are written once
 * with `?` placeholders (PostgreSQL's `$1..$n` are filled in here), rows come back as plain objects.
 * BIGINT columns already arrive as numbers (postgres-store.ts sets the type parser).
 */
export interface SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** returns the rows changed */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export function sqliteRunner(db: Database.Database): SqlRunner {
  return {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as T[],
    run: async (sql: string, params: readonly unknown[] = []) => db.prepare(sql).run(...params).changes,
  };
}

const numbered = (sql: string): string => { let i = 0; return sql.replace(/\?/g, () => `$${++i}`); };

export function postgresRunner(pool: pg.Pool): SqlRunner {
  return {
    dialect: 'postgres',
    all: async <T>(sql: string, params: readonly unknown[] = []) => (await pool.query(numbered(sql), [...params])).rows as T[],
    run: async (sql: string, params: readonly unknown[] = []) => (await pool.query(numbered(sql), [...params])).rowCount ?? 0,
  };
}
