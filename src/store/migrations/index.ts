import type { Kysely, Migration } from 'kysely';

/** Schema migrations in order; written with Kysely's schema builder so every dialect runs the same steps. */
export const migrations: Record<string, Migration> = {
  '0001_apps_accounts': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('apps')
        .addColumn('sdk_app_id', 'bigint', (c) => c.primaryKey())
        .addColumn('secret_key', 'text', (c) => c.notNull())
        .addColumn('cloud_secret_id', 'text', (c) => c.notNull().unique())
        .addColumn('cloud_secret_key', 'text', (c) => c.notNull())
        .addColumn('ivh_app_key', 'text', (c) => c.notNull().unique())
        .addColumn('ivh_access_token', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('revision', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('nick', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('face_url', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('accounts_pk', ['sdk_app_id', 'user_id'])
        .execute();
    },
  },
};
