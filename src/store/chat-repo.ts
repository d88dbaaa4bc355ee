import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ChatC2cMessagesTable, ChatGroupMembersTable, ChatGroupMessagesTable, ChatGroupsTable, Database } from './schema.ts';

/** A `chat_c2c_messages` row. */
export type C2cRow = Selectable<ChatC2cMessagesTable>;
/** The last message of a user's C2C conversation, with the peer it was exchanged with. */
type C2cConversationRow = C2cRow & { peer: string };

/** Where a page of the messages between two users starts (they are ordered by time, then id). */
export interface C2cBound {
  /** Towards older messages (newest of them first) or newer ones (oldest first). */
  older: boolean;
  /** The message the previous page ended at: the page starts right past it. */
  past?: { time: number; id: number };
  /** Without `past`: older pages hold messages at or before this time, newer pages messages after it. */
  time?: number;
}
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

  /**
   * The last message of each of a user's C2C conversations (peers they sent to or received from) whose last message
   * is at or after `since`, newest first, from `offset`, at most `limit`.
   */
  async c2cConversations(sdkAppId: number, userId: string, o: { since: number; offset: number; limit: number }): Promise<C2cConversationRow[]> {
    const sent = this.db
      .selectFrom('chat_c2c_messages')
      .select('to_user as peer')
      .select((eb) => eb.fn.max('id').as('last_id'))
      .where('sdk_app_id', '=', sdkAppId)
      .where('from_user', '=', userId)
      .groupBy('to_user');
    const received = this.db
      .selectFrom('chat_c2c_messages')
      .select('from_user as peer')
      .select((eb) => eb.fn.max('id').as('last_id'))
      .where('sdk_app_id', '=', sdkAppId)
      .where('to_user', '=', userId)
      .groupBy('from_user');
    return this.db
      .with('ends', () => sent.unionAll(received))
      .with('last', (qc) => qc.selectFrom('ends').select('peer').select((eb) => eb.fn.max('last_id').as('last_id')).groupBy('peer'))
      .selectFrom('last')
      .innerJoin('chat_c2c_messages as m', 'm.id', 'last.last_id')
      .selectAll('m')
      .select('last.peer')
      .where('m.msg_time', '>=', o.since)
      .orderBy('m.msg_time', 'desc')
      .orderBy('m.id', 'desc')
      .limit(o.limit)
      .offset(o.offset)
      .execute();
  }

  /** Up to `limit` messages between users `a` and `b` (either way) from `bound`: newest first for older pages, else oldest first. */
  async c2cBetween(sdkAppId: number, a: string, b: string, bound: C2cBound, limit: number): Promise<C2cRow[]> {
    const dir = bound.older ? 'desc' : 'asc';
    const cmp = bound.older ? '<' : '>';
    const side = (from: string, to: string) => {
      let q = this.db.selectFrom('chat_c2c_messages').selectAll().where('sdk_app_id', '=', sdkAppId).where('from_user', '=', from).where('to_user', '=', to);
      const past = bound.past;
      // The first condition bounds the index range; the second drops the messages of that second up to `past`.
      if (past) q = q.where('msg_time', bound.older ? '<=' : '>=', past.time).where((eb) => eb.or([eb('msg_time', cmp, past.time), eb('id', cmp, past.id)]));
      else if (bound.time !== undefined) q = q.where('msg_time', bound.older ? '<=' : '>', bound.time);
      return q.orderBy('msg_time', dir).orderBy('id', dir).limit(limit).execute();
    };
    // One query per direction, each along the pair index, merged here.
    const rows = a === b ? await side(a, a) : [...(await side(a, b)), ...(await side(b, a))];
    const sign = bound.older ? -1 : 1;
    rows.sort((x, y) => sign * (Number(x.msg_time) - Number(y.msg_time) || Number(x.id) - Number(y.id)));
    return rows.slice(0, limit);
  }

  /** The message between `a` and `b` (either way) named by its MsgKey parts, if any. */
  async c2cByKey(sdkAppId: number, a: string, b: string, key: { seq: number; random: number; time: number }): Promise<C2cRow | undefined> {
    const side = (from: string, to: string) =>
      this.db
        .selectFrom('chat_c2c_messages')
        .selectAll()
        .where('sdk_app_id', '=', sdkAppId)
        .where('from_user', '=', from)
        .where('to_user', '=', to)
        .where('msg_time', '=', key.time)
        .where('msg_seq', '=', key.seq)
        .where('msg_random', '=', key.random)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
    return (await side(a, b)) ?? (a === b ? undefined : await side(b, a));
  }

  /** How many messages each peer sent `userId` after the time in `after` (peer → unix s); peers with none are left out. */
  async c2cUnread(sdkAppId: number, userId: string, after: Map<string, number>): Promise<Map<string, number>> {
    const peers = [...after].filter(([peer]) => peer !== userId);
    const counts = new Map<string, number>();
    const one = ([peer, time]: [string, number]) =>
      this.db
        .selectFrom('chat_c2c_messages')
        .select('from_user')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('sdk_app_id', '=', sdkAppId)
        .where('to_user', '=', userId)
        .where('from_user', '=', peer)
        .where('msg_time', '>', time)
        .groupBy('from_user');
    // One range of the pair index per peer, 50 peers a statement.
    for (let i = 0; i < peers.length; i += 50) {
      const [first, ...rest] = peers.slice(i, i + 50).map(one);
      const rows = await rest.reduce((q, r) => q.unionAll(r), first!).execute();
      for (const r of rows) counts.set(r.from_user, Number(r.n));
    }
    return counts;
  }

  /** Read marks: for each pair of `userIds` × `peers`, when the user read the peer's messages up to (pairs without one are left out). */
  async readMarks(sdkAppId: number, userIds: string[], peers: string[]): Promise<Array<{ userId: string; peer: string; time: number }>> {
    if (userIds.length === 0 || peers.length === 0) return [];
    const rows = await this.db
      .selectFrom('chat_c2c_read')
      .select(['user_id', 'peer', 'read_time'])
      .where('sdk_app_id', '=', sdkAppId)
      .where('user_id', 'in', userIds)
      .where('peer', 'in', peers)
      .execute();
    return rows.map((r) => ({ userId: r.user_id, peer: r.peer, time: Number(r.read_time) }));
  }

  /** Moves a user's read mark in the conversation with `peer` to `time`, never backwards. */
  async advanceReadMark(sdkAppId: number, userId: string, peer: string, time: number): Promise<void> {
    await this.db
      .insertInto('chat_c2c_read')
      .values({ sdk_app_id: sdkAppId, user_id: userId, peer, read_time: time })
      .onConflict((oc) => oc.columns(['sdk_app_id', 'user_id', 'peer']).doUpdateSet({ read_time: time }).where('chat_c2c_read.read_time', '<', time))
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

  /** Changes a group's profile fields (or its owner); false if it does not exist. */
  async updateGroup(
    sdkAppId: number,
    groupId: string,
    set: Partial<Pick<Insertable<ChatGroupsTable>, 'name' | 'introduction' | 'notification' | 'face_url' | 'apply_join_option' | 'owner' | 'info_seq' | 'last_info_time'>>,
  ): Promise<boolean> {
    const r = await this.db.updateTable('chat_groups').set(set).where('sdk_app_id', '=', sdkAppId).where('group_id', '=', groupId).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
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
