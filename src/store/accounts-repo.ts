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

  /**
   * Inserts accounts; existing ones keep their row and take only the profile fields given. A UserID listed twice
   * takes the fields of each entry in order. One statement per combination of fields given (usually one in all).
   */
  async upsert(sdkAppId: number, accounts: AccountInput[], now = Date.now()): Promise<void> {
    const merged = new Map<string, AccountInput>();
    for (const a of accounts) {
      const prev = merged.get(a.userId);
      merged.set(a.userId, prev ? { userId: a.userId, nick: a.nick ?? prev.nick, faceUrl: a.faceUrl ?? prev.faceUrl } : a);
    }
    const shapes = new Map<string, AccountInput[]>();
    for (const a of merged.values()) {
      const shape = `${a.nick !== undefined}${a.faceUrl !== undefined}`;
      shapes.set(shape, [...(shapes.get(shape) ?? []), a]);
    }
    for (const rows of shapes.values()) {
      const { nick, faceUrl } = rows[0]!;
      await this.db
        .insertInto('accounts')
        .values(rows.map((a) => ({ sdk_app_id: sdkAppId, user_id: a.userId, nick: a.nick ?? '', face_url: a.faceUrl ?? '', created_at: now, updated_at: now })))
        .onConflict((oc) =>
          oc.columns(['sdk_app_id', 'user_id']).doUpdateSet((eb) => ({
            updated_at: eb.ref('excluded.updated_at'),
            ...(nick !== undefined ? { nick: eb.ref('excluded.nick') } : {}),
            ...(faceUrl !== undefined ? { face_url: eb.ref('excluded.face_url') } : {}),
          })),
        )
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
