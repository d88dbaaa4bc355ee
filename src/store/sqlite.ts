import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';

/** How hard SQLite syncs a commit: NORMAL survives a killed process, FULL also survives power loss. */
export type SqliteSync = 'NORMAL' | 'FULL';

/** Opens (creating if needed) the SQLite database file of a data directory, in WAL mode. */
export function openSqlite(dataDir: string, sync: SqliteSync = 'NORMAL'): Kysely<Database> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'trtcd.db');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${sync}`);
  // The CLI writes to the same file while a server runs: wait for the other writer instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
