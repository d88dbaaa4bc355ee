import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { AccountsRepo } from './accounts-repo.ts';
import { AppsRepo } from './apps-repo.ts';
import { CallsRepo } from './calls-repo.ts';
import { GiftsRepo } from './gifts-repo.ts';
import { IvhRepo } from './ivh-repo.ts';
import { LiveRepo } from './live-repo.ts';
import { TrtcRepo } from './trtc-repo.ts';
import { OutboxRepo } from './outbox-repo.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { openSqlite, type SqliteSync } from './sqlite.ts';

/** The data layer: typed repositories over one database, the same for every dialect. */
export interface Store {
  readonly dialect: 'sqlite';
  readonly apps: AppsRepo;
  readonly accounts: AccountsRepo;
  readonly calls: CallsRepo;
  readonly outbox: OutboxRepo;
  readonly live: LiveRepo;
  readonly gifts: GiftsRepo;
  readonly trtc: TrtcRepo;
  readonly ivh: IvhRepo;
  /** Runs `fn` in one transaction with repositories bound to it. */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The repositories, bound to the store or to one transaction. */
export type Repos = Pick<Store, 'apps' | 'accounts' | 'calls' | 'outbox' | 'live' | 'gifts' | 'trtc' | 'ivh'>;

function repos(db: Kysely<Database>): Repos {
  return {
    apps: new AppsRepo(db),
    accounts: new AccountsRepo(db),
    calls: new CallsRepo(db),
    outbox: new OutboxRepo(db),
    live: new LiveRepo(db),
    gifts: new GiftsRepo(db),
    trtc: new TrtcRepo(db),
    ivh: new IvhRepo(db),
  };
}

/** Where and how to open the store. */
export interface StoreOptions {
  dataDir: string;
  sqliteSync?: SqliteSync;
}

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings a database to the newest schema. */
export async function migrate(db: Kysely<Database>): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

/** Opens the store of a data directory and migrates it. */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const db = openSqlite(opts.dataDir, opts.sqliteSync);
  await migrate(db);
  return {
    dialect: 'sqlite',
    ...repos(db),
    transaction: (fn) => db.transaction().execute((trx) => fn(repos(trx))),
    close: () => db.destroy(),
  };
}
