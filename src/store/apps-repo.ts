import type { Kysely, Selectable } from 'kysely';
import type { AppsTable, Database } from './schema.ts';

/** An `apps` row as read back from the store. */
export type AppRow = Selectable<AppsTable>;

/** Queries on the `apps` table. */
export class AppsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts a new app; the revision is one past the highest in the table. */
  async insert(row: Omit<AppRow, 'revision'>): Promise<AppRow> {
    const revision = (await this.maxRevision()) + 1;
    const full = { ...row, revision };
    await this.db.insertInto('apps').values(full).execute();
    return full;
  }

  /** Replaces an app's settings JSON and bumps its revision; false if the app does not exist. */
  async updateSettings(sdkAppId: number, settings: string, extra: Partial<Pick<AppRow, 'secret_key'>> = {}): Promise<boolean> {
    const revision = (await this.maxRevision()) + 1;
    const res = await this.db
      .updateTable('apps')
      .set({ settings, updated_at: Date.now(), revision, ...extra })
      .where('sdk_app_id', '=', sdkAppId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** One app by SDKAppID. */
  async get(sdkAppId: number): Promise<AppRow | undefined> {
    return this.db.selectFrom('apps').selectAll().where('sdk_app_id', '=', sdkAppId).executeTakeFirst();
  }

  /** Apps whose revision is above `revision`, oldest change first. */
  async changedSince(revision: number): Promise<AppRow[]> {
    return this.db.selectFrom('apps').selectAll().where('revision', '>', revision).orderBy('revision').execute();
  }

  /** The highest SDKAppID in use, or 0. */
  async maxSdkAppId(): Promise<number> {
    const r = await this.db.selectFrom('apps').select((eb) => eb.fn.max('sdk_app_id').as('m')).executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  private async maxRevision(): Promise<number> {
    const r = await this.db.selectFrom('apps').select((eb) => eb.fn.max('revision').as('m')).executeTakeFirst();
    return Number(r?.m ?? 0);
  }
}
