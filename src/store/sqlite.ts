import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDialectConfig } from 'kysely';
import { prepareDataDir, privateDbFiles, type StoreLog } from './data-dir.ts';
import type { Database } from './schema.ts';

/** How hard SQLite syncs a commit: NORMAL survives a killed process, FULL also survives power loss. */
export type SqliteSync = 'NORMAL' | 'FULL';

/** Opens (creating if needed) the SQLite database file of a data directory, in WAL mode, readable by its owner only. */
export function openSqlite(dataDir: string, sync: SqliteSync = 'NORMAL', log?: StoreLog): Kysely<Database> {
  prepareDataDir(dataDir, log);
  const file = join(dataDir, 'trtcd.db');
  privateDbFiles(file, log);
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${sync}`);
  // The CLI writes to the same file while a server runs: wait for the other writer instead of failing.
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

/**
 * Kysely prepares every query anew, and preparing costs more than running a small query: reuse statements by SQL
 * text. Safe because better-sqlite3 runs a statement to completion synchronously before the next one starts.
 */
function withStatementCache(db: SqliteDatabase.Database, max = 500): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        stmt = db.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}
