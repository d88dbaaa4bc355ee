import { Migrator, sql, type Kysely, type MigrationProvider } from 'kysely';
import { AccountsRepo } from './accounts-repo.ts';
import { AppsRepo } from './apps-repo.ts';
import { CallsRepo } from './calls-repo.ts';
import { ChatRepo } from './chat-repo.ts';
import { GiftsRepo } from './gifts-repo.ts';
import { IvhRepo } from './ivh-repo.ts';
import { LiveRepo } from './live-repo.ts';
import { TrtcRepo } from './trtc-repo.ts';
import { OutboxRepo } from './outbox-repo.ts';
import { GroupCommit } from './group-commit.ts';
import { migrations } from './migrations/index.ts';
import { dialectOf, type DialectName, type SqlDialect } from './dialect.ts';
import type { Database } from './schema.ts';
import type { StoreLog } from './data-dir.ts';
import { openSqlite, type SqliteSync } from './sqlite.ts';
import { redactedUrl } from '../redacted-url.ts';

/** The data layer: typed repositories over one database, the same for every dialect. */
export interface Store {
  readonly dialect: DialectName;
  /**
   * How many independent writes (statements that commit by themselves) are worth having in flight at once: 1 on
   * SQLite (one connection, writes are synchronous), more on PostgreSQL (a commit waits for its WAL flush, and
   * concurrent commits share one).
   */
  readonly parallelWrites: number;
  readonly apps: AppsRepo;
  readonly accounts: AccountsRepo;
  readonly calls: CallsRepo;
  readonly outbox: OutboxRepo;
  readonly live: LiveRepo;
  readonly gifts: GiftsRepo;
  readonly trtc: TrtcRepo;
  readonly ivh: IvhRepo;
  readonly chat: ChatRepo;
  /** Runs `fn` in one transaction with repositories bound to it. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The repositories, bound to the store or to one transaction. */
export type Repos = Pick<Store, 'apps' | 'accounts' | 'calls' | 'outbox' | 'live' | 'gifts' | 'trtc' | 'ivh' | 'chat'>;

function repos(db: Kysely<Database>, dialect: SqlDialect): Repos {
  return {
    apps: new AppsRepo(db),
    accounts: new AccountsRepo(db),
    calls: new CallsRepo(db),
    outbox: new OutboxRepo(db),
    live: new LiveRepo(db),
    gifts: new GiftsRepo(db, dialect),
    trtc: new TrtcRepo(db),
    ivh: new IvhRepo(db),
    chat: new ChatRepo(db),
  };
}

/** Where and how to open the store (the same names as the configuration keys). */
export interface StoreOptions {
  /** `sqlite` (the default: a file in `dataDir`) or a PostgreSQL URL, postgres://… */
  store?: string;
  dataDir: string;
  sqliteSync?: SqliteSync;
  /** Most connections to PostgreSQL at once. */
  pgPoolSize?: number;
}

/** Independent writes in flight at once on PostgreSQL, at most (and at most half the pool). */
const PG_PARALLEL_WRITES = 4;

/** Whether a `store` setting names PostgreSQL rather than SQLite. */
function isPostgresUrl(store: string | undefined): store is string {
  return store !== undefined && /^postgres(ql)?:\/\//.test(store);
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Times a migration is tried when another schema of the database vanished under it (see `otherSchemaGone`). */
const MIGRATE_TRIES = 3;

/**
 * Whether a migration failed because a schema other than `ours` was dropped while it ran: Kysely's migrator looks for
 * its table by listing the tables of every schema (`has_schema_privilege`, `pg_get_serial_sequence` by name), which
 * fails with invalid_schema_name (3F000) when another store sharing the database drops its schema at that moment.
 */
export function otherSchemaGone(err: unknown, ours: string | undefined): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  return code === '3F000' && ours !== undefined && !message.includes(`"${ours}"`);
}

/** Brings a database to the newest schema. */
async function migrate(db: Kysely<Database>): Promise<void> {
  const migrationTableSchema = await dialectOf(db).migrationSchema(db);
  for (let tried = 1; ; tried++) {
    const { error } = await new Migrator({ db, provider, migrationTableSchema }).migrateToLatest();
    if (!error) return;
    if (tried < MIGRATE_TRIES && otherSchemaGone(error, migrationTableSchema)) continue;
    throw error instanceof Error ? error : new Error(String(error));
  }
}

/** Opens the store (SQLite in the data directory, or PostgreSQL) and migrates it; `log` hears of loose file modes. */
export async function openStore(opts: StoreOptions, log?: StoreLog): Promise<Store> {
  if (opts.store !== undefined && opts.store !== 'sqlite' && !isPostgresUrl(opts.store)) throw new Error('store must be sqlite or a postgres:// URL');
  // pg is loaded only when used: the CLI on SQLite starts without it.
  const pgUrl = isPostgresUrl(opts.store) ? opts.store : undefined;
  const pg = pgUrl ? await import('./postgres.ts') : undefined;
  const pgPoolSize = opts.pgPoolSize ?? pg?.DEFAULT_PG_POOL_SIZE ?? 0;
  const db = pg && pgUrl ? pg.openPostgres(pgUrl, pgPoolSize) : openSqlite(opts.dataDir, opts.sqliteSync, log);
  const dialect = dialectOf(db);
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    if (!isPostgresUrl(opts.store)) throw err;
    throw new Error(`cannot open PostgreSQL at ${redactedUrl(opts.store)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // PostgreSQL commits concurrent transactions in groups (one fsync for many writes); SQLite commits are cheap.
  const groups = dialect.name === 'postgres' ? new GroupCommit<Repos>(db, (trx) => repos(trx, dialect)) : null;
  return {
    dialect: dialect.name,
    parallelWrites: dialect.name === 'postgres' ? Math.max(1, Math.min(PG_PARALLEL_WRITES, Math.floor(pgPoolSize / 2))) : 1,
    ...repos(db, dialect),
    transaction: (fn) => (groups ? groups.run(fn) : db.transaction().execute((trx) => fn(repos(trx, dialect)))),
    ping: async () => {
      await sql`SELECT 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
