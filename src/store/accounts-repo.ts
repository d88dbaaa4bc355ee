import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** An account to import: UserID plus the optional profile fields the import APIs carry. */
export interface AccountInput {
  userId: string;
  nick?: string;
  faceUrl?: string;
}

/** Queries on the `accounts` table. */
export class AccountsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts accounts; existing ones keep their row and take only the profile fields given. */
  async upsert(sdkAppId: number, accounts: AccountInput[], now = Date.now()): Promise<void> {
    for (const a of accounts) {
      const update: { nick?: string; face_url?: string; updated_at: number } = { updated_at: now };
      if (a.nick !== undefined) update.nick = a.nick;
      if (a.faceUrl !== undefined) update.face_url = a.faceUrl;
      await this.db
        .insertInto('accounts')
        .values({ sdk_app_id: sdkAppId, user_id: a.userId, nick: a.nick ?? '', face_url: a.faceUrl ?? '', created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['sdk_app_id', 'user_id']).doUpdateSet(update))
        .execute();
    }
  }

  /** Deletes accounts and returns the UserIDs that existed. */
  async delete(sdkAppId: number, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.db
      .deleteFrom('accounts')
      .where('sdk_app_id', '=', sdkAppId)
      .where('user_id', 'in', userIds)
      .returning('user_id')
      .execute();
    return new Set(rows.map((r) => r.user_id));
  }

  /** The subset of `userIds` that are imported. */
  async existing(sdkAppId: number, userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('accounts')
      .select('user_id')
      .where('sdk_app_id', '=', sdkAppId)
      .where('user_id', 'in', userIds)
      .execute();
    return new Set(rows.map((r) => r.user_id));
  }

  /** How many accounts an app has. */
  async count(sdkAppId: number): Promise<number> {
    const r = await this.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('sdk_app_id', '=', sdkAppId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}
