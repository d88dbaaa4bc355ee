import type { Generated } from 'kysely';

/** Row of `apps`: one tenant (SDKAppID) with its credentials; mutable settings live in `settings` (JSON). */
export interface AppsTable {
  sdk_app_id: number;
  secret_key: string;
  cloud_secret_id: string;
  cloud_secret_key: string;
  ivh_app_key: string;
  ivh_access_token: string;
  settings: string;
  created_at: number;
  updated_at: number;
  revision: number;
}

/** Row of `accounts`: a UserID imported into an app (im_open_login_svc). */
interface AccountsTable {
  sdk_app_id: number;
  user_id: string;
  nick: string;
  face_url: string;
  created_at: number;
  updated_at: number;
}

/** Row of `calls`: one TUICallKit call, active (result '') or ended; members as JSON. */
export interface CallsTable {
  call_id: string;
  sdk_app_id: number;
  caller: string;
  media_type: string;
  call_type: string;
  chat_group_id: string;
  room_id: string;
  room_id_type: number;
  user_data: string;
  ring_timeout_ms: number;
  robot: number;
  start_time: number;
  accept_time: number;
  end_time: number;
  result: string;
  members: string;
  invited: string;
}

/** Row of `callback_outbox`: one third-party callback to deliver, in order per `order_key`. */
export interface CallbackOutboxTable {
  id: Generated<number>;
  sdk_app_id: number;
  command: string;
  order_key: string;
  body: string;
  client_ip: string;
  platform: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number;
  last_status: number;
  last_error: string;
}

/** Row of `callback_attempts`: one delivery attempt of a callback_outbox row. */
export interface CallbackAttemptsTable {
  outbox_id: number;
  /** 1 for the first attempt. */
  attempt: number;
  attempted_at: number;
  duration_ms: number;
  /** The HTTP status, 0 when none came back (connection refused, timeout). */
  status: number;
  error: string;
}

/** Row of `live_rooms`: a TUILiveKit room; its settings and live state (seats, robots, mutes, bans, metadata) as JSON. */
export interface LiveRoomsTable {
  sdk_app_id: number;
  room_id: string;
  owner: string;
  info: string;
  state: string;
  view_count: number;
  created_at: number;
}

/** Row of `gifts`: a gift of an app's catalogue, with its translations, as JSON. */
interface GiftsTable {
  sdk_app_id: number;
  gift_id: string;
  info: string;
  created_at: number;
}

/** Row of `gift_categories`: a category, its translations and its gift ids, as JSON. */
interface GiftCategoriesTable {
  sdk_app_id: number;
  category_id: string;
  info: string;
  created_at: number;
}

/** Row of `gift_records`: one accepted send_gift. */
export interface GiftRecordsTable {
  id: Generated<number>;
  sdk_app_id: number;
  room_id: string;
  gift_id: string;
  from_account: string;
  receivers: string;
  count: number;
  coins: number;
  created_at: number;
}

/** Row of `iot_rooms`: a room handed out by IoT Explorer CreateTRTCSignaturesWithRoomId. */
export interface IotRoomsTable {
  sdk_app_id: number;
  room_id: string;
  user_ids: string;
  created_at: number;
  expires_at: number;
}

/** Row of `trtc_rooms`: one life of a TRTC room (CommId), for DescribeRoomInfo. Times in unix seconds; 0 while open. */
export interface TrtcRoomsTable {
  comm_id: string;
  sdk_app_id: number;
  room_id: string;
  str_room: number;
  creator: string;
  created_at: number;
  destroyed_at: number;
}

/** Row of `trtc_users`: one stay of a user in a TRTC room, for DescribeUserInfo. */
export interface TrtcUsersTable {
  id: Generated<number>;
  comm_id: string;
  sdk_app_id: number;
  room_id: string;
  user_id: string;
  join_ts: number;
  leave_ts: number;
  device_type: string;
  sdk_version: string;
  client_ip: string;
}

/** Row of `ivh_avatars`: a digital-human project (VirtualmanProjectId) or asset (AssetVirtualmanKey). */
export interface IvhAvatarsTable {
  avatar_id: string;
  sdk_app_id: number;
  kind: string;
  name: string;
  concurrency: number;
  created_at: number;
}

/** Row of `ivh_sessions`: one digital-human session, as JSON. */
interface IvhSessionsTable {
  session_id: string;
  sdk_app_id: number;
  data: string;
  created_at: number;
}

/** Row of `chat_c2c_messages`: one C2C message; `id` is the recipient's sync cursor. Times in unix seconds. */
export interface ChatC2cMessagesTable {
  id: Generated<number>;
  sdk_app_id: number;
  from_user: string;
  to_user: string;
  msg_seq: number;
  msg_random: number;
  msg_time: number;
  client_time: number;
  body: string;
  cloud_custom_data: string;
}

/** Row of `chat_cursors`: the last C2C message id delivered to a user (openim getmsg). */
interface ChatCursorsTable {
  sdk_app_id: number;
  user_id: string;
  delivered_id: number;
}

/** Row of `chat_c2c_read`: a user's read mark in the C2C conversation with `peer` (openim msgreaded). */
interface ChatC2cReadTable {
  sdk_app_id: number;
  user_id: string;
  peer: string;
  /** Messages from the peer up to this time (unix s) are read. */
  read_time: number;
}

/** Row of `chat_groups`: one Chat group; `id` orders groups for get_appid_group_list's Next. Times in unix seconds. */
export interface ChatGroupsTable {
  id: Generated<number>;
  sdk_app_id: number;
  group_id: string;
  type: string;
  name: string;
  owner: string;
  introduction: string;
  notification: string;
  face_url: string;
  max_member_num: number;
  apply_join_option: string;
  create_time: number;
  next_msg_seq: number;
  info_seq: number;
  last_info_time: number;
  last_msg_time: number;
}

/** Row of `chat_group_members`: one member of a group. */
export interface ChatGroupMembersTable {
  sdk_app_id: number;
  group_id: string;
  user_id: string;
  role: string;
  join_time: number;
}

/** Row of `chat_group_messages`: one group message, numbered by the group's own sequence. */
export interface ChatGroupMessagesTable {
  sdk_app_id: number;
  group_id: string;
  msg_seq: number;
  from_user: string;
  msg_random: number;
  client_seq: number;
  msg_time: number;
  body: string;
  cloud_custom_data: string;
  priority: string;
}

/** Every table the store holds, for the typed query builder. */
export interface Database {
  chat_c2c_messages: ChatC2cMessagesTable;
  chat_cursors: ChatCursorsTable;
  chat_c2c_read: ChatC2cReadTable;
  chat_groups: ChatGroupsTable;
  chat_group_members: ChatGroupMembersTable;
  chat_group_messages: ChatGroupMessagesTable;
  ivh_avatars: IvhAvatarsTable;
  ivh_sessions: IvhSessionsTable;
  iot_rooms: IotRoomsTable;
  trtc_rooms: TrtcRoomsTable;
  trtc_users: TrtcUsersTable;
  live_rooms: LiveRoomsTable;
  gifts: GiftsTable;
  gift_categories: GiftCategoriesTable;
  gift_records: GiftRecordsTable;
  apps: AppsTable;
  accounts: AccountsTable;
  calls: CallsTable;
  callback_outbox: CallbackOutboxTable;
  callback_attempts: CallbackAttemptsTable;
}
