import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { AccountsRepo } from './accounts-repo.ts';
import { AppsRepo } from './apps-repo.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { openSqlite, type SqliteSync } from './sqlite.ts';

/** The data layer: typed repositories over one database, the same for every dialect. */
export interface Store {
  readonly dialect: 'sqlite';
  readonly apps: AppsRepo;
  readonly accounts: AccountsRepo;
  /** Runs `fn` in one transaction with repositories bound to it. */
  transaction<T>(fn: (tx: Pick<Store, 'apps' | 'accounts'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
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
    apps: new AppsRepo(db),
    accounts: new AccountsRepo(db),
    transaction: (fn) => db.transaction().execute((trx) => fn({ apps: new AppsRepo(trx), accounts: new AccountsRepo(trx) })),
    close: () => db.destroy(),
  };
}
