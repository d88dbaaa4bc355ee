import type { Kysely, Migration } from 'kysely';
import { dialectOf } from '../dialect.ts';

/** Schema migrations in order; written with Kysely's schema builder so every dialect runs the same steps (text and ids: see dialect.ts). */
export const migrations: Record<string, Migration> = {
  '0001_apps_accounts': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text } = dialectOf(db);
      await db.schema
        .createTable('apps')
        .addColumn('sdk_app_id', 'bigint', (c) => c.primaryKey())
        .addColumn('secret_key', text, (c) => c.notNull())
        .addColumn('cloud_secret_id', text, (c) => c.notNull().unique())
        .addColumn('cloud_secret_key', text, (c) => c.notNull())
        .addColumn('ivh_app_key', text, (c) => c.notNull().unique())
        .addColumn('ivh_access_token', text, (c) => c.notNull())
        .addColumn('settings', text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('revision', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('accounts')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('nick', text, (c) => c.notNull().defaultTo(''))
        .addColumn('face_url', text, (c) => c.notNull().defaultTo(''))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('accounts_pk', ['sdk_app_id', 'user_id'])
        .execute();
    },
  },

  '0002_calls_callbacks': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text, idType, idColumn } = dialectOf(db);
      await db.schema
        .createTable('calls')
        .addColumn('call_id', text, (c) => c.primaryKey())
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('caller', text, (c) => c.notNull())
        .addColumn('media_type', text, (c) => c.notNull())
        .addColumn('call_type', text, (c) => c.notNull())
        .addColumn('chat_group_id', text, (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('room_id_type', 'integer', (c) => c.notNull())
        .addColumn('user_data', text, (c) => c.notNull())
        .addColumn('ring_timeout_ms', 'integer', (c) => c.notNull())
        .addColumn('robot', 'integer', (c) => c.notNull())
        .addColumn('start_time', 'bigint', (c) => c.notNull())
        .addColumn('accept_time', 'bigint', (c) => c.notNull())
        .addColumn('end_time', 'bigint', (c) => c.notNull())
        .addColumn('result', text, (c) => c.notNull())
        .addColumn('members', text, (c) => c.notNull())
        .addColumn('invited', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('calls_app_start').on('calls').columns(['sdk_app_id', 'start_time']).execute();
      await db.schema.createIndex('calls_active').on('calls').columns(['result']).execute();
      await db.schema
        .createTable('callback_outbox')
        .addColumn('id', idType, idColumn)
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('command', text, (c) => c.notNull())
        .addColumn('order_key', text, (c) => c.notNull())
        .addColumn('body', text, (c) => c.notNull())
        .addColumn('client_ip', text, (c) => c.notNull())
        .addColumn('platform', text, (c) => c.notNull())
        .addColumn('status', text, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint', (c) => c.notNull())
        .addColumn('last_status', 'integer', (c) => c.notNull())
        .addColumn('last_error', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('callback_outbox_pending').on('callback_outbox').columns(['status', 'order_key', 'id']).execute();
    },
  },

  '0003_live_gifts': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text, idType, idColumn } = dialectOf(db);
      await db.schema
        .createTable('live_rooms')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('info', text, (c) => c.notNull())
        .addColumn('state', text, (c) => c.notNull())
        .addColumn('view_count', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('live_rooms_pk', ['sdk_app_id', 'room_id'])
        .execute();
      for (const [table, key] of [['gifts', 'gift_id'], ['gift_categories', 'category_id']] as const) {
        await db.schema
          .createTable(table)
          .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
          .addColumn(key, text, (c) => c.notNull())
          .addColumn('info', text, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint(`${table}_pk`, ['sdk_app_id', key])
          .execute();
      }
      await db.schema
        .createTable('gift_records')
        .addColumn('id', idType, idColumn)
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('gift_id', text, (c) => c.notNull())
        .addColumn('from_account', text, (c) => c.notNull())
        .addColumn('receivers', text, (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('coins', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('gift_records_room').on('gift_records').columns(['sdk_app_id', 'room_id', 'from_account']).execute();
    },
  },

  '0004_iot_trtc_rooms': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text, idType, idColumn } = dialectOf(db);
      await db.schema
        .createTable('iot_rooms')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('user_ids', text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('iot_rooms_pk', ['sdk_app_id', 'room_id'])
        .execute();
      await db.schema
        .createTable('trtc_rooms')
        .addColumn('comm_id', text, (c) => c.primaryKey())
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('str_room', 'integer', (c) => c.notNull())
        .addColumn('creator', text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('destroyed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trtc_rooms_app_created').on('trtc_rooms').columns(['sdk_app_id', 'created_at']).execute();
      await db.schema
        .createTable('trtc_users')
        .addColumn('id', idType, idColumn)
        .addColumn('comm_id', text, (c) => c.notNull())
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('room_id', text, (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('join_ts', 'bigint', (c) => c.notNull())
        .addColumn('leave_ts', 'bigint', (c) => c.notNull())
        .addColumn('device_type', text, (c) => c.notNull())
        .addColumn('sdk_version', text, (c) => c.notNull())
        .addColumn('client_ip', text, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trtc_users_comm').on('trtc_users').columns(['comm_id', 'join_ts']).execute();
    },
  },

  '0005_ivh': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text } = dialectOf(db);
      await db.schema
        .createTable('ivh_avatars')
        .addColumn('avatar_id', text, (c) => c.primaryKey())
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('concurrency', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ivh_sessions')
        .addColumn('session_id', text, (c) => c.primaryKey())
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('data', text, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },

  '0006_chat': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text, idType, idColumn } = dialectOf(db);
      await db.schema
        .createTable('chat_c2c_messages')
        .addColumn('id', idType, idColumn)
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('from_user', text, (c) => c.notNull())
        .addColumn('to_user', text, (c) => c.notNull())
        .addColumn('msg_seq', 'bigint', (c) => c.notNull())
        .addColumn('msg_random', 'bigint', (c) => c.notNull())
        .addColumn('msg_time', 'bigint', (c) => c.notNull())
        .addColumn('client_time', 'bigint', (c) => c.notNull())
        .addColumn('body', text, (c) => c.notNull())
        .addColumn('cloud_custom_data', text, (c) => c.notNull())
        .execute();
      // A recipient's sync walks its messages by id; a sender's default MsgSeq continues from its highest one.
      await db.schema.createIndex('chat_c2c_to').on('chat_c2c_messages').columns(['sdk_app_id', 'to_user', 'id']).execute();
      await db.schema.createIndex('chat_c2c_from').on('chat_c2c_messages').columns(['sdk_app_id', 'from_user', 'msg_seq']).execute();
      await db.schema
        .createTable('chat_cursors')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('delivered_id', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_cursors_pk', ['sdk_app_id', 'user_id'])
        .execute();
      await db.schema
        .createTable('chat_groups')
        .addColumn('id', idType, idColumn)
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('group_id', text, (c) => c.notNull())
        .addColumn('type', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('introduction', text, (c) => c.notNull())
        .addColumn('notification', text, (c) => c.notNull())
        .addColumn('face_url', text, (c) => c.notNull())
        .addColumn('max_member_num', 'bigint', (c) => c.notNull())
        .addColumn('apply_join_option', text, (c) => c.notNull())
        .addColumn('create_time', 'bigint', (c) => c.notNull())
        .addColumn('next_msg_seq', 'bigint', (c) => c.notNull())
        .addColumn('info_seq', 'bigint', (c) => c.notNull())
        .addColumn('last_info_time', 'bigint', (c) => c.notNull())
        .addColumn('last_msg_time', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('chat_groups_app_group', ['sdk_app_id', 'group_id'])
        .execute();
      await db.schema
        .createTable('chat_group_members')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('group_id', text, (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('join_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_group_members_pk', ['sdk_app_id', 'group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('chat_group_members_user').on('chat_group_members').columns(['sdk_app_id', 'user_id']).execute();
      await db.schema
        .createTable('chat_group_messages')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('group_id', text, (c) => c.notNull())
        .addColumn('msg_seq', 'bigint', (c) => c.notNull())
        .addColumn('from_user', text, (c) => c.notNull())
        .addColumn('msg_random', 'bigint', (c) => c.notNull())
        .addColumn('client_seq', 'bigint', (c) => c.notNull())
        .addColumn('msg_time', 'bigint', (c) => c.notNull())
        .addColumn('body', text, (c) => c.notNull())
        .addColumn('cloud_custom_data', text, (c) => c.notNull())
        .addColumn('priority', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_group_messages_pk', ['sdk_app_id', 'group_id', 'msg_seq'])
        .execute();
    },
  },
  '0007_chat_conversations': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text } = dialectOf(db);
      // The messages between two users, by time, from either side (history, the MsgKey of a page, unread counts);
      // the second also lists the peers a user received from (conversations) without reading the rows.
      await db.schema.createIndex('chat_c2c_pair').on('chat_c2c_messages').columns(['sdk_app_id', 'from_user', 'to_user', 'msg_time', 'id']).execute();
      await db.schema.createIndex('chat_c2c_pair_in').on('chat_c2c_messages').columns(['sdk_app_id', 'to_user', 'from_user', 'msg_time', 'id']).execute();
      // A user's read mark in a C2C conversation: messages from `peer` up to `read_time` (unix s) are read.
      await db.schema
        .createTable('chat_c2c_read')
        .addColumn('sdk_app_id', 'bigint', (c) => c.notNull())
        .addColumn('user_id', text, (c) => c.notNull())
        .addColumn('peer', text, (c) => c.notNull())
        .addColumn('read_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_c2c_read_pk', ['sdk_app_id', 'user_id', 'peer'])
        .execute();
    },
  },
  '0008_callback_attempts': {
    async up(db: Kysely<unknown>): Promise<void> {
      const { text } = dialectOf(db);
      // Each delivery attempt of a callback (the developer console's log): when, how long, the HTTP status (0 when
      // none came back) and the error.
      await db.schema
        .createTable('callback_attempts')
        .addColumn('outbox_id', 'bigint', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('attempted_at', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('error', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('callback_attempts_pk', ['outbox_id', 'attempt'])
        .execute();
    },
  },
};
