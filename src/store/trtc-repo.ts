import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, IotRoomsTable, TrtcRoomsTable, TrtcUsersTable } from './schema.ts';

/** A `trtc_rooms` row. */
export type TrtcRoomRow = Selectable<TrtcRoomsTable>;
/** A `trtc_users` row. */
export type TrtcUserRow = Selectable<TrtcUsersTable>;
/** An `iot_rooms` row. */
type IotRoomRow = Selectable<IotRoomsTable>;

/** Queries on TRTC room history (rooms and user stays) and on IoT Explorer rooms. */
export class TrtcRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a room opening. */
  async openRoom(row: TrtcRoomRow): Promise<void> {
    await this.db.insertInto('trtc_rooms').values(row).execute();
  }

  /** Whether a room life with this CommId was recorded. */
  async hasRoom(commId: string): Promise<boolean> {
    return (await this.db.selectFrom('trtc_rooms').select('comm_id').where('comm_id', '=', commId).executeTakeFirst()) !== undefined;
  }

  /** Records a room closing. */
  async closeRoom(commId: string, at: number): Promise<void> {
    await this.db.updateTable('trtc_rooms').set({ destroyed_at: at }).where('comm_id', '=', commId).execute();
  }

  /** Records a user entering; returns the stay's id. */
  async join(row: Omit<Insertable<TrtcUsersTable>, 'id'>): Promise<number> {
    const r = await this.db.insertInto('trtc_users').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  }

  /** Records a user leaving. */
  async leave(id: number, at: number): Promise<void> {
    await this.db.updateTable('trtc_users').set({ leave_ts: at }).where('id', '=', id).execute();
  }

  /** Closes what a previous run left open (a restart ends every stay). */
  async closeDangling(at: number): Promise<void> {
    await this.db.updateTable('trtc_rooms').set({ destroyed_at: at }).where('destroyed_at', '=', 0).execute();
    await this.db.updateTable('trtc_users').set({ leave_ts: at }).where('leave_ts', '=', 0).execute();
  }

  /** Rooms of an app created in [from, to] (unix s), optionally one RoomId, newest first, with the total. */
  async rooms(f: { sdkAppId: number; from: number; to: number; roomId?: string; limit: number; offset: number }): Promise<{ rows: TrtcRoomRow[]; total: number }> {
    let q = this.db.selectFrom('trtc_rooms').where('sdk_app_id', '=', f.sdkAppId).where('created_at', '>=', f.from).where('created_at', '<=', f.to);
    if (f.roomId !== undefined) q = q.where('room_id', '=', f.roomId);
    const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const rows = await q.selectAll().orderBy('created_at', 'desc').orderBy('comm_id').limit(f.limit).offset(f.offset).execute();
    return { rows, total: Number(total?.n ?? 0) };
  }

  /** User stays of one room life that overlap [from, to] (unix s), optionally some users, with the total. */
  async users(f: { sdkAppId: number; commId: string; from: number; to: number; userIds?: string[]; limit: number; offset: number }): Promise<{ rows: TrtcUserRow[]; total: number }> {
    let q = this.db
      .selectFrom('trtc_users')
      .where('sdk_app_id', '=', f.sdkAppId)
      .where('comm_id', '=', f.commId)
      .where('join_ts', '<=', f.to)
      .where((eb) => eb.or([eb('leave_ts', '=', 0), eb('leave_ts', '>=', f.from)]));
    if (f.userIds && f.userIds.length) q = q.where('user_id', 'in', f.userIds);
    const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const rows = await q.selectAll().orderBy('join_ts').orderBy('id').limit(f.limit).offset(f.offset).execute();
    return { rows, total: Number(total?.n ?? 0) };
  }

  /** An IoT room, if handed out and not yet expired at `now` (unix s). */
  async iotRoom(sdkAppId: number, roomId: string, now: number): Promise<IotRoomRow | undefined> {
    return this.db.selectFrom('iot_rooms').selectAll().where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId).where('expires_at', '>', now).executeTakeFirst();
  }

  /** Hands out an IoT room (replacing an expired one with the same id). */
  async putIotRoom(row: IotRoomRow): Promise<void> {
    await this.db
      .insertInto('iot_rooms')
      .values(row)
      .onConflict((oc) => oc.columns(['sdk_app_id', 'room_id']).doUpdateSet({ user_ids: row.user_ids, created_at: row.created_at, expires_at: row.expires_at }))
      .execute();
  }

  /** Frees an IoT room; false if there was none. */
  async deleteIotRoom(sdkAppId: number, roomId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('iot_rooms').where('sdk_app_id', '=', sdkAppId).where('room_id', '=', roomId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
