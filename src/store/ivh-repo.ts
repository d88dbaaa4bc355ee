import type { Kysely, Selectable } from 'kysely';
import type { Database, IvhAvatarsTable } from './schema.ts';

/** An `ivh_avatars` row. */
type IvhAvatarRow = Selectable<IvhAvatarsTable>;

/** Queries on digital-human avatars (projects, assets) and sessions. */
export class IvhRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Adds a project or asset; false if the id is taken. */
  async addAvatar(row: IvhAvatarRow): Promise<boolean> {
    const r = await this.db.insertInto('ivh_avatars').values(row).onConflict((oc) => oc.column('avatar_id').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Every project and asset. */
  async avatars(): Promise<IvhAvatarRow[]> {
    return this.db.selectFrom('ivh_avatars').selectAll().orderBy('created_at').orderBy('avatar_id').execute();
  }

  /** Inserts or replaces a session. */
  async saveSession(sessionId: string, sdkAppId: number, data: string, createdAt: number): Promise<void> {
    await this.db
      .insertInto('ivh_sessions')
      .values({ session_id: sessionId, sdk_app_id: sdkAppId, data, created_at: createdAt })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ data }))
      .execute();
  }

  /** Every session (JSON). */
  async sessions(): Promise<string[]> {
    return (await this.db.selectFrom('ivh_sessions').select('data').orderBy('created_at').orderBy('session_id').execute()).map((r) => r.data);
  }
}
