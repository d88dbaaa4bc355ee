import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The PostgreSQL server the tests may use (e.g. postgres://postgres@127.0.0.1:5432/test), if any. */
export const PG_URL: string | undefined = process.env.TRTCD_TEST_PG_URL || undefined;

/** Why PostgreSQL cases did not run. */
export const PG_SKIP = 'TRTCD_TEST_PG_URL not set: PostgreSQL store tests skipped';

/** A schema of its own on the test PostgreSQL. */
export interface PgSchema {
  /** A `--store` URL whose connections work in the schema. */
  url: string;
  name: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates a fresh schema on TRTCD_TEST_PG_URL so that each test run starts from an empty database. */
export async function pgSchema(): Promise<PgSchema> {
  if (!PG_URL) throw new Error(PG_SKIP);
  const name = `trtcd_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE SCHEMA ${name}`));
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.toString(), name, drop: () => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined) };
}

/** The stores that end-to-end tests run on: SQLite always, PostgreSQL when TRTCD_TEST_PG_URL is set. */
export const STORES: ReadonlyArray<'sqlite' | 'postgres'> = PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A fresh, empty store of one kind, as `trtcd` arguments. */
export interface FreshStore {
  /** `--data-dir D` for SQLite; `--store postgres://… --data-dir D` for PostgreSQL. */
  args: string[];
  /** Removes the store's data. */
  drop(): Promise<void>;
}

/** Makes a fresh store (a temporary data directory, or a PostgreSQL schema of its own). */
export async function freshStore(kind: 'sqlite' | 'postgres'): Promise<FreshStore> {
  const dir = mkdtempSync(join(tmpdir(), 'trtcd-test-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  if (kind === 'sqlite') return { args: ['--data-dir', dir], drop: async () => removeDir() };
  const schema = await pgSchema();
  return {
    args: ['--store', schema.url, '--data-dir', dir],
    drop: async () => {
      removeDir();
      await schema.drop();
    },
  };
}
