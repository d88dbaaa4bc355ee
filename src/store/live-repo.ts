import type { Kysely, Selectable } from 'kysely';
import type { Database, LiveRoomsTable } from './schema.ts';

/** A `live_rooms` row. */
export type LiveRoomRow = Selectable<LiveRoomsTable>;

/** Queries on the `live_rooms` table. */
export class LiveRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts a room; false if the id is taken. */
  async insert(row: LiveRoomRow): Promise<boolean> {
    const r = await this.db.insertInto('live_rooms').values(row).onConflict((oc) => oc.columns(['sdk_app_id', 'room_id']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** One room, or undefined. */
  async get(sdkAppId: number, roomId: string): Promise<LiveRoomRow | undefined> {
    return this.db.selectFrom('live_rooms').selectAll().where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId).executeTakeFirst();
  }

  /** Replaces a room's settings and live state, and its owner when given. */
  async update(row: Pick<LiveRoomRow, 'sdk_app_id' | 'room_id' | 'info' | 'state' | 'view_count'> & { owner?: string }): Promise<void> {
    await this.db
      .updateTable('live_rooms')
      .set({ info: row.info, state: row.state, view_count: row.view_count, ...(row.owner === undefined ? {} : { owner: row.owner }) })
      .where('sdk_app_id', '=', row.sdk_app_id)
      .where('room_id', '=', row.room_id)
      .execute();
  }

  /** Deletes a room; false if it did not exist. */
  async delete(sdkAppId: number, roomId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('live_rooms').where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Every room of every app, oldest first, for loading at start-up. */
  async all(): Promise<LiveRoomRow[]> {
    // The key breaks ties: PostgreSQL, unlike SQLite's rowid scan, returns equal rows in no particular order.
    return this.db.selectFrom('live_rooms').selectAll().orderBy('created_at').orderBy('sdk_app_id').orderBy('room_id').execute();
  }
}
