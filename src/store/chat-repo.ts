import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ChatC2cMessagesTable, ChatGroupMembersTable, ChatGroupMessagesTable, ChatGroupsTable, Database } from './schema.ts';

/** A `chat_c2c_messages` row. */
export type C2cRow = Selectable<ChatC2cMessagesTable>;
/** A `chat_groups` row. */
export type GroupRow = Selectable<ChatGroupsTable>;
/** A `chat_group_members` row. */
export type GroupMemberRow = Selectable<ChatGroupMembersTable>;
/** A `chat_group_messages` row. */
export type GroupMessageRow = Selectable<ChatGroupMessagesTable>;

/** Queries on Chat messages (C2C and group), delivery cursors, groups and their members. */
export class ChatRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a C2C message; returns its id (the recipient's sync cursor). */
  async insertC2c(row: Omit<Insertable<ChatC2cMessagesTable>, 'id'>): Promise<number> {
    const r = await this.db.insertInto('chat_c2c_messages').values(row).returning('id').executeTakeFirstOrThrow();
    return Number(r.id);
  }

  /** Up to `limit` C2C messages to a user with an id above `afterId`, oldest first. */
  async c2cAfter(sdkAppId: number, toUser: string, afterId: number, limit: number): Promise<C2cRow[]> {
    return this.db
      .selectFrom('chat_c2c_messages')
      .selectAll()
      .where('sdk_app_id', '=', sdkAppId)
      .where('to_user', '=', toUser)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** The highest MsgSeq a user has sent (0 when none). */
  async maxC2cSeq(sdkAppId: number, fromUser: string): Promise<number> {
    const r = await this.db
      .selectFrom('chat_c2c_messages')
      .select((eb) => eb.fn.max('msg_seq').as('seq'))
      .where('sdk_app_id', '=', sdkAppId)
      .where('from_user', '=', fromUser)
      .executeTakeFirst();
    return Number(r?.seq ?? 0);
  }

  /** The id of the last C2C message delivered to a user (0 when none). */
  async cursor(sdkAppId: number, userId: string): Promise<number> {
    const r = await this.db.selectFrom('chat_cursors').select('delivered_id').where('sdk_app_id', '=', sdkAppId).where('user_id', '=', userId).executeTakeFirst();
    return Number(r?.delivered_id ?? 0);
  }

  /** Moves a user's delivered cursor to `id`, never backwards. */
  async advanceCursor(sdkAppId: number, userId: string, id: number): Promise<void> {
    await this.db
      .insertInto('chat_cursors')
      .values({ sdk_app_id: sdkAppId, user_id: userId, delivered_id: id })
      .onConflict((oc) => oc.columns(['sdk_app_id', 'user_id']).doUpdateSet({ delivered_id: id }).where('chat_cursors.delivered_id', '<', id))
      .execute();
  }

  /** Stores a new group; returns its row id, or undefined when the app already has that GroupId. */
  async insertGroup(row: Omit<Insertable<ChatGroupsTable>, 'id'>): Promise<number | undefined> {
    const r = await this.db
      .insertInto('chat_groups')
      .values(row)
      .onConflict((oc) => oc.columns(['sdk_app_id', 'group_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return r ? Number(r.id) : undefined;
  }

  /** Every group of every app, oldest first, for loading at start-up. */
  async groups(): Promise<GroupRow[]> {
    return this.db.selectFrom('chat_groups').selectAll().orderBy('id').execute();
  }

  /** One group. */
  async group(sdkAppId: number, groupId: string): Promise<GroupRow | undefined> {
    return this.db.selectFrom('chat_groups').selectAll().where('sdk_app_id', '=', sdkAppId).where('group_id', '=', groupId).executeTakeFirst();
  }

  /** Members of one group, or of every group when no group is named, in join order. */
  async members(group?: { sdkAppId: number; groupId: string }): Promise<GroupMemberRow[]> {
    let q = this.db.selectFrom('chat_group_members').selectAll();
    if (group) q = q.where('sdk_app_id', '=', group.sdkAppId).where('group_id', '=', group.groupId);
    return q.orderBy('join_time').orderBy('user_id').execute();
  }

  /** Adds members; ones already in the group keep their row. */
  async addMembers(rows: Array<Insertable<ChatGroupMembersTable>>): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('chat_group_members')
      .values(rows)
      .onConflict((oc) => oc.columns(['sdk_app_id', 'group_id', 'user_id']).doNothing())
      .execute();
  }

  /** Removes members; returns the UserIDs that were members. */
  async removeMembers(sdkAppId: number, groupId: string, userIds: string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.db
      .deleteFrom('chat_group_members')
      .where('sdk_app_id', '=', sdkAppId)
      .where('group_id', '=', groupId)
      .where('user_id', 'in', userIds)
      .returning('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Deletes a group with its members and messages; false if it did not exist. */
  async deleteGroup(sdkAppId: number, groupId: string): Promise<boolean> {
    await this.db.deleteFrom('chat_group_messages').where('sdk_app_id', '=', sdkAppId).where('group_id', '=', groupId).execute();
    await this.db.deleteFrom('chat_group_members').where('sdk_app_id', '=', sdkAppId).where('group_id', '=', groupId).execute();
    const r = await this.db.deleteFrom('chat_groups').where('sdk_app_id', '=', sdkAppId).where('group_id', '=', groupId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Takes the group's next message sequence number and records `time` as its last message time, in one statement
   * (so nodes sharing the database never hand out the same number); undefined when the group does not exist.
   */
  async takeGroupSeq(sdkAppId: number, groupId: string, time: number): Promise<number | undefined> {
    const r = await this.db
      .updateTable('chat_groups')
      .set((eb) => ({ next_msg_seq: eb('next_msg_seq', '+', 1), last_msg_time: time }))
      .where('sdk_app_id', '=', sdkAppId)
      .where('group_id', '=', groupId)
      .returning('next_msg_seq')
      .executeTakeFirst();
    return r ? Number(r.next_msg_seq) - 1 : undefined;
  }

  /** Stores a group message. */
  async insertGroupMessage(row: Insertable<ChatGroupMessagesTable>): Promise<void> {
    await this.db.insertInto('chat_group_messages').values(row).execute();
  }

  /** Up to `limit` messages of a group with a sequence below `beforeSeq`, newest first. */
  async groupMessages(sdkAppId: number, groupId: string, beforeSeq: number, limit: number): Promise<GroupMessageRow[]> {
    return this.db
      .selectFrom('chat_group_messages')
      .selectAll()
      .where('sdk_app_id', '=', sdkAppId)
      .where('group_id', '=', groupId)
      .where('msg_seq', '<', beforeSeq)
      .orderBy('msg_seq', 'desc')
      .limit(limit)
      .execute();
  }
}
