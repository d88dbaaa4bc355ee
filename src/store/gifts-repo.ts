import { sql, type Insertable, type Kysely } from 'kysely';
import type { SqlDialect } from './dialect.ts';
import type { Database, GiftRecordsTable } from './schema.ts';

/** A catalogue entry (gift or category) as stored: id plus JSON info. */
interface CatalogueRow {
  id: string;
  info: string;
}

/** Gifts one user received in a room, read in one statement so the numbers agree with each other. */
interface ReceivedStats {
  /** Sum of Count over the accepted sends that named the user as a receiver. */
  count: number;
  /** Sum of Count × Coins (one gift's price) over those sends. */
  coins: number;
  /** Distinct senders among those sends. */
  senders: number;
  /** Accepted sends in the room (to anyone) in the same window: a counter that only grows. */
  roomRecords: number;
}

/** Sums of accepted gifts. */
export interface GiftTotals {
  count: number;
  coins: number;
  senders: number;
  records: number;
}

/** Which catalogue table: `gifts` or `gift_categories`. */
type CatalogueKind = 'gift' | 'category';

/** Queries on the gift catalogue (gifts, categories) and the accepted-gift records. */
export class GiftsRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  /** Inserts or replaces a gift or category. */
  async put(kind: CatalogueKind, sdkAppId: number, id: string, info: string, now = Date.now()): Promise<void> {
    if (kind === 'gift') {
      await this.db.insertInto('gifts').values({ sdk_app_id: sdkAppId, gift_id: id, info, created_at: now }).onConflict((oc) => oc.columns(['sdk_app_id', 'gift_id']).doUpdateSet({ info })).execute();
    } else {
      await this.db
        .insertInto('gift_categories')
        .values({ sdk_app_id: sdkAppId, category_id: id, info, created_at: now })
        .onConflict((oc) => oc.columns(['sdk_app_id', 'category_id']).doUpdateSet({ info }))
        .execute();
    }
  }

  /** Deletes a gift or category; false if it did not exist. */
  async delete(kind: CatalogueKind, sdkAppId: number, id: string): Promise<boolean> {
    const r =
      kind === 'gift'
        ? await this.db.deleteFrom('gifts').where('sdk_app_id', '=', sdkAppId).where('gift_id', '=', id).executeTakeFirst()
        : await this.db.deleteFrom('gift_categories').where('sdk_app_id', '=', sdkAppId).where('category_id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Every gift or category of an app, oldest first. */
  async list(kind: CatalogueKind, sdkAppId: number): Promise<CatalogueRow[]> {
    if (kind === 'gift') {
      const rows = await this.db.selectFrom('gifts').select(['gift_id', 'info']).where('sdk_app_id', '=', sdkAppId).orderBy('created_at').orderBy('gift_id').execute();
      return rows.map((r) => ({ id: r.gift_id, info: r.info }));
    }
    const rows = await this.db.selectFrom('gift_categories').select(['category_id', 'info']).where('sdk_app_id', '=', sdkAppId).orderBy('created_at').orderBy('category_id').execute();
    return rows.map((r) => ({ id: r.category_id, info: r.info }));
  }

  /** Every gift and category of every app, for loading at start-up. */
  async all(): Promise<{ gifts: Array<CatalogueRow & { sdkAppId: number }>; categories: Array<CatalogueRow & { sdkAppId: number }> }> {
    const gifts = await this.db.selectFrom('gifts').select(['sdk_app_id', 'gift_id', 'info']).orderBy('created_at').orderBy('gift_id').execute();
    const categories = await this.db.selectFrom('gift_categories').select(['sdk_app_id', 'category_id', 'info']).orderBy('created_at').orderBy('category_id').execute();
    return {
      gifts: gifts.map((r) => ({ sdkAppId: Number(r.sdk_app_id), id: r.gift_id, info: r.info })),
      categories: categories.map((r) => ({ sdkAppId: Number(r.sdk_app_id), id: r.category_id, info: r.info })),
    };
  }

  /** Records one accepted gift. */
  async record(row: Omit<Insertable<GiftRecordsTable>, 'id'>): Promise<void> {
    await this.db.insertInto('gift_records').values(row).execute();
  }

  /** Totals of a room's accepted gifts, optionally of one sender. */
  async totals(sdkAppId: number, roomId: string, from?: string): Promise<GiftTotals> {
    let q = this.db.selectFrom('gift_records').where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId);
    if (from !== undefined) q = q.where('from_account', '=', from);
    const r = await q
      .select((eb) => [
        eb.fn.coalesce(eb.fn.sum<number>('count'), eb.lit(0)).as('count'),
        eb.fn.coalesce(eb.fn.sum<number>(eb('count', '*', eb.ref('coins'))), eb.lit(0)).as('coins'),
        eb.fn.count<number>('from_account').distinct().as('senders'),
        eb.fn.countAll<number>().as('records'),
      ])
      .executeTakeFirst();
    return { count: Number(r?.count ?? 0), coins: Number(r?.coins ?? 0), senders: Number(r?.senders ?? 0), records: Number(r?.records ?? 0) };
  }

  /**
   * What one user received in a room from accepted sends recorded at or after `sinceMs`, plus how many sends the
   * room accepted in that window. One SQL statement, so a concurrent insert is either wholly in or wholly out.
   */
  async receivedStats(sdkAppId: number, roomId: string, receiver: string, sinceMs = 0): Promise<ReceivedStats> {
    const r = await sql<{ records: number | bigint; count: number | bigint; coins: number | bigint; senders: number | bigint }>`
      SELECT COUNT(*) AS records,
             COALESCE(SUM(CASE WHEN hit THEN count ELSE 0 END), 0) AS count,
             COALESCE(SUM(CASE WHEN hit THEN count * coins ELSE 0 END), 0) AS coins,
             COUNT(DISTINCT CASE WHEN hit THEN from_account END) AS senders
      FROM (
        SELECT count, coins, from_account, ${this.dialect.jsonArrayHas('receivers', receiver)} AS hit
        FROM gift_records
        WHERE sdk_app_id = ${sdkAppId} AND room_id = ${roomId} AND created_at >= ${sinceMs}
      ) AS r`.execute(this.db);
    const row = r.rows[0];
    return { count: Number(row?.count ?? 0), coins: Number(row?.coins ?? 0), senders: Number(row?.senders ?? 0), roomRecords: Number(row?.records ?? 0) };
  }

  /** Accepted gifts received by one user in a room (count and coins). */
  async received(sdkAppId: number, roomId: string, receiver: string): Promise<{ count: number; coins: number }> {
    const rows = await this.db.selectFrom('gift_records').select(['receivers', 'count', 'coins']).where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId).execute();
    let count = 0;
    let coins = 0;
    for (const r of rows) {
      if ((JSON.parse(r.receivers) as string[]).includes(receiver)) {
        count += Number(r.count);
        coins += Number(r.count) * Number(r.coins);
      }
    }
    return { count, coins };
  }
}
