import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/** Connections the pool opens at most when the configuration does not say. */
export const DEFAULT_PG_POOL_SIZE = 10;
/** How long a query waits for a connection (a free one from the pool, or a new one) before it fails, ms. */
const PG_CONNECT_TIMEOUT_MS = 5000;

const INT8 = 20;
const NUMERIC = 1700;

/**
 * bigint columns, COUNT(*) and SUM() come back from PostgreSQL as strings; the store's values (ms timestamps,
 * SDKAppIDs, counters) fit in a double, so read them as numbers like SQLite does. Per pool, not pg's global table.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

// PostgreSQL text cannot hold U+0000, which SQLite stores and the APIs accept in free text (nicknames, room names):
// write it as ESC '0' (and ESC itself as ESC ESC, a private-use character), read it back, so both stores agree.
const NUL = '\u0000';
const ESC = '\uE000';

function encode(v: unknown): unknown {
  // eslint-disable-next-line no-control-regex -- matching U+0000 is the point
  return typeof v === 'string' && (v.includes(NUL) || v.includes(ESC)) ? v.replace(/[\u0000\uE000]/g, (c) => (c === NUL ? `${ESC}0` : ESC + ESC)) : v;
}

function decodeRows<R>(rows: R[]): R[] {
  for (const row of rows as Array<Record<string, unknown>>) {
    for (const k in row) {
      const v = row[k];
      if (typeof v === 'string' && v.includes(ESC)) row[k] = v.replace(/\uE000([0\uE000])/g, (_, c: string) => (c === '0' ? NUL : ESC));
    }
  }
  return rows;
}

/** Most prepared statements kept per connection; statements beyond them are parsed each time they run. */
const PREPARED_PER_CONNECTION = 256;

/**
 * The names statements are prepared under on one connection. PostgreSQL then parses and plans a statement once per
 * connection instead of at every execution (about a third of a small upsert's time). Statements without parameters
 * (migrations' DDL, pings, BEGIN/COMMIT) are never prepared; the statements the store builds differ only by how many
 * rows or list items they carry, so the bound is rarely reached.
 */
class PreparedNames {
  private readonly names = new Map<string, string>();
  private generation = 0;
  private off = false;

  /** The name to run `sql` under, or undefined to send it unnamed (parsed each time). */
  name(sql: string, params: readonly unknown[]): string | undefined {
    if (params.length === 0 || this.off) return undefined;
    const known = this.names.get(sql);
    if (known !== undefined || this.names.size >= PREPARED_PER_CONNECTION) return known;
    const name = `trtcd_${this.generation}_${this.names.size}`;
    this.names.set(sql, name);
    return name;
  }

  /** Forgets every name, so each statement is prepared again under a new one (the old ones last until the connection closes). */
  reset(): void {
    this.names.clear();
    this.generation++;
  }

  /** Prepares nothing more on this connection. */
  disable(): void {
    this.off = true;
    this.names.clear();
  }
}

/**
 * A statement prepared on this connection that the server does not know: a pooler between trtcd and PostgreSQL
 * (PgBouncer in transaction mode before 1.21) sent the connection's statements to another server connection.
 */
function isLostStatement(err: unknown): boolean {
  return (err as { code?: unknown }).code === '26000';
}

/**
 * A prepared statement whose result columns changed under it: a table it reads (`SELECT *`) was altered since, as when
 * a newer node migrates the schema during a rolling upgrade. PostgreSQL refuses to run it again.
 */
function isStalePlan(err: unknown): boolean {
  return (err as { code?: unknown }).code === '0A000' && /cached plan must not change result type/.test(String((err as Error).message));
}

/** The pool as Kysely sees it, with U+0000 escaped on the way in and out, and statements prepared per connection. */
function escapingPool(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        const prepared = new PreparedNames();
        let inTransaction = false;
        w = {
          // Only the (sql, parameters) form: the store does not stream results through cursors.
          query: (async (sql: string, params: readonly unknown[]) => {
            const values = params.map(encode);
            if (params.length === 0) {
              if (/^\s*(begin|start transaction)\b/i.test(sql)) inTransaction = true;
              else if (/^\s*(commit|rollback)\s*;?\s*$/i.test(sql)) inTransaction = false;
            }
            let r: pg.QueryResult;
            try {
              r = await client.query({ name: prepared.name(sql, params), text: sql, values });
            } catch (err) {
              if (isLostStatement(err)) prepared.disable();
              else if (isStalePlan(err)) prepared.reset();
              else throw err;
              // Inside a transaction the failure aborted it: the caller's transaction fails, and the next one prepares anew.
              if (inTransaction) throw err;
              r = await client.query({ name: prepared.name(sql, params), text: sql, values });
            }
            return { ...r, rows: decodeRows(r.rows) };
          }) as unknown as PostgresPoolClient['query'],
          release: () => client.release(),
        };
        wrapped.set(client, w);
      }
      return w;
    },
    end: () => pool.end(),
  };
}

/** Opens a connection pool on a PostgreSQL URL (postgres://user:password@host:port/database?options=…). */
export function openPostgres(url: string, poolSize = DEFAULT_PG_POOL_SIZE): Kysely<Database> {
  // An unreachable server fails requests after PG_CONNECT_TIMEOUT_MS instead of holding them; TCP keep-alive finds
  // connections whose server vanished without closing them.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, keepAlive: true });
  // A pooled connection that breaks while idle is discarded by the pool and replaced on the next query; without a
  // listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  // pg-pool listens for a connection's errors only while it is idle: one cut while checked out (a query or a
  // transaction under way when PostgreSQL restarts or ends the backend) would emit an unhandled 'error' and end the
  // process. Its queries fail on their own, and the pool discards it on release because it is no longer queryable.
  // The listener is added when the pool hands out a new connection, synchronously: an error that arrives in the same
  // read as the connection's ReadyForQuery is emitted before any later callback could add one.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: escapingPool(pool) }) });
}
