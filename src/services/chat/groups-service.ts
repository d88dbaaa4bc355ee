import { randomInt } from 'node:crypto';
import type { Bus } from '../../bus/bus.ts';
import type { GroupMemberRow, GroupMessageRow, GroupRow } from '../../store/chat-repo.ts';
import type { Store } from '../../store/store.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import { DomainError } from '../errors.ts';
import { SerialPerApp } from '../serial.ts';
import {
  APPLY_JOIN_OPTIONS,
  CREATE_TYPES,
  DEFAULT_APPLY_JOIN,
  DEFAULT_MAX_MEMBERS,
  GROUP_FIELD_LIMITS,
  groupIdProblem,
  MAX_MEMBER_NUM,
  PRIORITIES,
  randomGroupId,
} from './group-rules.ts';
import { bodyProblem, CHAT_TOPIC, MAX_MESSAGE_BYTES, messageTooLarge, type ChatEvent, type Group, type GroupMessage, type GroupRole, type GroupType, type MsgElement } from './message.ts';
import { groupKey, userKey, type UserKey, type GroupKey } from '../tenant-keys.ts';

/** Bus topic of group changes (created, members added or removed, profile updated, destroyed): other nodes reload the group. */
export const GROUP_TOPIC = 'chat.group';

/** A group change as published on GROUP_TOPIC. */
export interface GroupChanged {
  kind: 'created' | 'members-added' | 'members-removed' | 'updated' | 'destroyed';
  sdkAppId: number;
  groupId: string;
  /** The members added or removed (every member for `created` and `destroyed`; none for `updated`). */
  userIds: string[];
  /** Who made the change, when a member did (a Chat SDK user); absent for the app's own (REST) changes. */
  operator?: string;
  /** members-added / members-removed: the users joined or quit themselves (rather than being added or removed). */
  self?: boolean;
  /** The change asked for no group tips (`Silence` of add/delete member). */
  silent?: boolean;
  /** Except for `created`: the group right after the change, so pushes need not wait for other nodes' reload. */
  group?: GroupSnapshot;
  /** updated: the fields changed, with their new values. */
  profile?: GroupProfileUpdate;
}

/** What a GroupChanged tells of the group after the change. */
interface GroupSnapshot {
  type: GroupType;
  name: string;
  /** Its members after the change (before it, for `destroyed`). */
  members: string[];
  nextMsgSeq: number;
}

/** The profile fields `update` changes (absent: unchanged). */
export interface GroupProfileUpdate {
  name?: string;
  introduction?: string;
  notification?: string;
  faceUrl?: string;
  applyJoinOption?: string;
}

/** Who did a membership change, and whether it may be announced (see GroupChanged). */
interface ChangeBy {
  operator?: string;
  silent?: boolean;
}

/** What `create` needs. */
interface CreateGroup {
  sdkAppId: number;
  /** Private, Work, Public, ChatRoom, Meeting, AVChatRoom or Community. */
  type: string;
  name: string;
  owner?: string;
  groupId?: string;
  /** Initial members: UserIDs, or UserIDs with a role (Member by default). */
  members?: Array<string | { userId: string; role?: 'Admin' | 'Member' }>;
  introduction?: string;
  notification?: string;
  faceUrl?: string;
  maxMemberNum?: number;
  applyJoinOption?: string;
}

/** What `sendMessage` needs. */
interface SendGroupMessage {
  sdkAppId: number;
  groupId: string;
  /** The sender; '' for a message from the app itself. */
  from: string;
  /** Sent by an app administrator (REST): the sender need not be a member. */
  admin?: boolean;
  random?: number;
  clientSeq?: number;
  body: MsgElement[];
  cloudCustomData?: string;
  priority?: string;
  /** Deliver to connected members only: not stored, gets no sequence number (0). */
  onlineOnly?: boolean;
}

interface Entry {
  group: Group;
  /** The store row id: orders groups for `list`'s `next`. */
  rowId: number;
  memberIds: Set<string>;
}

const now = () => Math.floor(Date.now() / 1000);

function fromRows(r: GroupRow, members: GroupMemberRow[]): Entry {
  const group: Group = {
    sdkAppId: Number(r.sdk_app_id),
    groupId: r.group_id,
    type: r.type as GroupType,
    name: r.name,
    owner: r.owner,
    introduction: r.introduction,
    notification: r.notification,
    faceUrl: r.face_url,
    maxMemberNum: Number(r.max_member_num),
    applyJoinOption: r.apply_join_option,
    createTime: Number(r.create_time),
    nextMsgSeq: Number(r.next_msg_seq),
    infoSeq: Number(r.info_seq),
    lastInfoTime: Number(r.last_info_time),
    lastMsgTime: Number(r.last_msg_time),
    members: members.map((m) => ({ userId: m.user_id, role: m.role as GroupRole, joinTime: Number(m.join_time) })),
  };
  return { group, rowId: Number(r.id), memberIds: new Set(group.members.map((m) => m.userId)) };
}

function messageFromRow(r: GroupMessageRow): GroupMessage {
  return {
    sdkAppId: Number(r.sdk_app_id),
    groupId: r.group_id,
    seq: Number(r.msg_seq),
    from: r.from_user,
    random: Number(r.msg_random),
    clientSeq: Number(r.client_seq),
    time: Number(r.msg_time),
    body: JSON.parse(r.body) as MsgElement[],
    cloudCustomData: r.cloud_custom_data,
    priority: r.priority,
    onlineOnly: false,
  };
}

const snapshot = (g: Group): GroupSnapshot => ({ type: g.type, name: g.name, members: g.members.map((m) => m.userId), nextMsgSeq: g.nextMsgSeq });

/** Types whose ApplyJoinOption may change (the SDK sends joinOption only for these). */
const JOIN_OPTION_TYPES: ReadonlySet<GroupType> = new Set(['Public', 'Community']);

function invalid(message: string, detail?: string): never {
  throw new DomainError('INVALID_ARGUMENT', message, detail);
}

/**
 * Chat groups: profiles and members in memory (loaded at start, written through to the store before a change is
 * acknowledged), group messages stored with the group's own sequence, then published on the bus with the members
 * they go to. Changes made by other nodes arrive on GROUP_TOPIC and are read again from the store.
 */
export class GroupsService {
  /** sdkAppId → groupId → entry. */
  private readonly groups = new Map<number, Map<string, Entry>>();
  /** `${sdkAppId}\n${userId}` → ids of the groups the user is a member of. */
  private readonly byUser = new Map<UserKey, Set<string>>();
  private readonly serial = new SerialPerApp();
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly bus: Bus,
  ) {}

  /** Follows the groups and group messages of other nodes, then loads every group. */
  async start(): Promise<void> {
    if (this.unsubscribe.length > 0) return;
    const bus = this.bus;
    this.unsubscribe = [
      bus.subscribe(GROUP_TOPIC, (p, remote) => {
        const e = p as GroupChanged;
        if (remote) void this.serial.run(e.sdkAppId, () => this.reload(e.sdkAppId, e.groupId)).catch(() => undefined);
      }),
      // Messages sent through other nodes moved the group's sequence on.
      bus.subscribe(CHAT_TOPIC, (p, remote) => {
        const e = p as ChatEvent;
        if (!remote || e.kind !== 'group' || e.message.onlineOnly) return;
        const entry = this.groups.get(e.message.sdkAppId)?.get(e.message.groupId);
        if (entry && entry.group.nextMsgSeq <= e.message.seq) this.remember({ ...entry, group: { ...entry.group, nextMsgSeq: e.message.seq + 1, lastMsgTime: e.message.time } });
      }),
    ];
    await this.load();
  }

  /** Loads every group and its members from the store. */
  private async load(): Promise<void> {
    const members = new Map<GroupKey, GroupMemberRow[]>();
    for (const m of await this.store.chat.members()) {
      const k = groupKey(Number(m.sdk_app_id), m.group_id);
      const list = members.get(k);
      if (list) list.push(m);
      else members.set(k, [m]);
    }
    for (const r of await this.store.chat.groups()) this.remember(fromRows(r, members.get(groupKey(Number(r.sdk_app_id), r.group_id)) ?? []));
  }

  /** Stops following other nodes. */
  stop(): void {
    this.unsubscribe.forEach((off) => off());
    this.unsubscribe = [];
  }

  /** A group, or NOT_FOUND (detail NO_GROUP). */
  get(sdkAppId: number, groupId: string): Group {
    return this.entry(sdkAppId, groupId).group;
  }

  /** Whether a user is a member of a group (false when the group does not exist). */
  isMember(sdkAppId: number, groupId: string, userId: string): boolean {
    return this.groups.get(sdkAppId)?.get(groupId)?.memberIds.has(userId) ?? false;
  }

  /** A page of an app's GroupIds in creation order, optionally of one type; `next` 0 starts, a returned 0 means done. */
  list(sdkAppId: number, f: { limit: number; next: number; type?: string }): { groupIds: string[]; total: number; next: number } {
    const type = f.type === undefined ? undefined : CREATE_TYPES[f.type];
    if (f.type !== undefined && !type) invalid(`unknown group type ${JSON.stringify(f.type)}`);
    const all = [...(this.groups.get(sdkAppId)?.values() ?? [])].filter((e) => !type || e.group.type === type).sort((a, b) => a.rowId - b.rowId);
    const page = all.filter((e) => e.rowId > f.next).slice(0, f.limit);
    const last = page.at(-1);
    return { groupIds: page.map((e) => e.group.groupId), total: all.length, next: last && last !== all.at(-1) ? last.rowId : 0 };
  }

  /** The groups a user is a member of. */
  joined(sdkAppId: number, userId: string): Group[] {
    const ids = this.byUser.get(userKey(sdkAppId, userId)) ?? new Set<string>();
    return [...ids].map((id) => this.groups.get(sdkAppId)?.get(id)?.group).filter((g): g is Group => g !== undefined);
  }

  /** Creates a group; the owner (if any) and the initial members must be imported accounts. */
  async create(c: CreateGroup): Promise<Group> {
    const type = CREATE_TYPES[c.type];
    if (!type) invalid(`unknown group type ${JSON.stringify(c.type)}`, 'BAD_TYPE');
    const idProblem = c.groupId === undefined ? null : groupIdProblem(c.groupId, type);
    if (idProblem) invalid(idProblem, 'BAD_GROUP_ID');
    if (c.name.length === 0) invalid('Name is empty');
    for (const [field, limit] of Object.entries(GROUP_FIELD_LIMITS)) {
      const v = c[field as keyof typeof GROUP_FIELD_LIMITS];
      if (v !== undefined && Buffer.byteLength(v) > limit) invalid(`${field} is longer than ${limit} bytes`);
    }
    if (c.applyJoinOption !== undefined && !APPLY_JOIN_OPTIONS.has(c.applyJoinOption)) invalid(`unknown ApplyJoinOption ${JSON.stringify(c.applyJoinOption)}`);
    if (c.maxMemberNum !== undefined && (!Number.isInteger(c.maxMemberNum) || c.maxMemberNum < 0 || c.maxMemberNum > MAX_MEMBER_NUM)) {
      invalid(`MaxMemberNum must be 0-${MAX_MEMBER_NUM}`);
    }
    const owner = c.owner ?? '';
    const initial = (c.members ?? []).map((m) => (typeof m === 'string' ? { userId: m } : m)).filter((m, i, all) => m.userId !== owner && all.findIndex((o) => o.userId === m.userId) === i);
    if (type === 'AVChatRoom' && initial.length) throw new DomainError('PERMISSION_DENIED', 'members cannot be added to an AVChatRoom when it is created', 'AVCHATROOM_MEMBERS');
    const wanted = [...(owner ? [owner] : []), ...initial.map((m) => m.userId)];
    const have = await this.accounts.existing(c.sdkAppId, wanted);
    const missing = wanted.filter((u) => !have.has(u));
    if (missing.length) invalid(`accounts not imported: ${missing.join(', ')}`, 'UNKNOWN_ACCOUNT');
    const maxMemberNum = c.maxMemberNum || DEFAULT_MAX_MEMBERS[type];
    // An AVChatRoom's owner is not a member until they join (as Tencent's create_group page says).
    const joinTime = now();
    const members: Group['members'] = [
      ...(owner && type !== 'AVChatRoom' ? [{ userId: owner, role: 'Owner' as const, joinTime }] : []),
      ...initial.map((m) => ({ userId: m.userId, role: m.role ?? ('Member' as const), joinTime })),
    ];
    if (maxMemberNum > 0 && members.length > maxMemberNum) throw new DomainError('LIMIT_EXCEEDED', `more than ${maxMemberNum} members`, 'GROUP_FULL');
    return this.serial.run(c.sdkAppId, async () => {
      const group: Group = {
        sdkAppId: c.sdkAppId,
        groupId: c.groupId ?? this.newId(c.sdkAppId, type),
        type,
        name: c.name,
        owner,
        introduction: c.introduction ?? '',
        notification: c.notification ?? '',
        faceUrl: c.faceUrl ?? '',
        maxMemberNum,
        applyJoinOption: c.applyJoinOption ?? DEFAULT_APPLY_JOIN[type],
        createTime: joinTime,
        nextMsgSeq: 1,
        infoSeq: 1,
        lastInfoTime: joinTime,
        lastMsgTime: 0,
        members,
      };
      const rowId = await this.store.transaction(async (tx) => {
        const id = await tx.chat.insertGroup({
          sdk_app_id: group.sdkAppId,
          group_id: group.groupId,
          type: group.type,
          name: group.name,
          owner: group.owner,
          introduction: group.introduction,
          notification: group.notification,
          face_url: group.faceUrl,
          max_member_num: group.maxMemberNum,
          apply_join_option: group.applyJoinOption,
          create_time: group.createTime,
          next_msg_seq: group.nextMsgSeq,
          info_seq: group.infoSeq,
          last_info_time: group.lastInfoTime,
          last_msg_time: group.lastMsgTime,
        });
        if (id === undefined) throw new DomainError('ALREADY_EXISTS', `group ${group.groupId} already exists`, 'GROUP_EXISTS');
        await tx.chat.addMembers(members.map((m) => ({ sdk_app_id: group.sdkAppId, group_id: group.groupId, user_id: m.userId, role: m.role, join_time: m.joinTime })));
        return id;
      });
      this.remember({ group, rowId, memberIds: new Set(members.map((m) => m.userId)) });
      this.changed({ kind: 'created', sdkAppId: group.sdkAppId, groupId: group.groupId, userIds: members.map((m) => m.userId) });
      return group;
    });
  }

  /**
   * Adds imported accounts to a group as members (not to an AVChatRoom, which users join themselves); each result
   * says whether the user was added, already a member, or not an imported account.
   */
  async addMembers(sdkAppId: number, groupId: string, userIds: string[], by: ChangeBy = {}): Promise<Array<{ userId: string; result: 'added' | 'already' | 'unknown' }>> {
    if (this.get(sdkAppId, groupId).type === 'AVChatRoom') throw new DomainError('PERMISSION_DENIED', 'members cannot be added to an AVChatRoom', 'AVCHATROOM_MEMBERS');
    return this.add(sdkAppId, groupId, userIds, by, false);
  }

  /** Users join a group themselves (any type, AVChatRoom included); results as `addMembers`. */
  async join(sdkAppId: number, groupId: string, userIds: string[]): Promise<Array<{ userId: string; result: 'added' | 'already' | 'unknown' }>> {
    return this.add(sdkAppId, groupId, userIds, userIds.length === 1 ? { operator: userIds[0] } : {}, true);
  }

  private async add(sdkAppId: number, groupId: string, userIds: string[], by: ChangeBy, self: boolean): Promise<Array<{ userId: string; result: 'added' | 'already' | 'unknown' }>> {
    const unique = [...new Set(userIds)];
    const have = await this.accounts.existing(sdkAppId, unique);
    return this.serial.run(sdkAppId, async () => {
      const e = this.entry(sdkAppId, groupId);
      const fresh = unique.filter((u) => have.has(u) && !e.memberIds.has(u));
      const max = e.group.maxMemberNum;
      if (max > 0 && e.memberIds.size + fresh.length > max) throw new DomainError('LIMIT_EXCEEDED', `group ${groupId} would have more than ${max} members`, 'GROUP_FULL');
      const joinTime = now();
      const added = fresh.map((userId) => ({ userId, role: 'Member' as const, joinTime }));
      await this.store.chat.addMembers(added.map((m) => ({ sdk_app_id: sdkAppId, group_id: groupId, user_id: m.userId, role: m.role, join_time: m.joinTime })));
      if (added.length) {
        const group = { ...e.group, members: [...e.group.members, ...added] };
        this.remember({ ...e, group, memberIds: new Set([...e.memberIds, ...fresh]) });
        this.changed({ kind: 'members-added', sdkAppId, groupId, userIds: fresh, ...by, ...(self ? { self } : {}), group: snapshot(group) });
      }
      return userIds.map((userId) => ({ userId, result: !have.has(userId) ? 'unknown' : fresh.includes(userId) ? 'added' : 'already' }));
    });
  }

  /** Removes members (the owner cannot be removed); returns the UserIDs that were members. */
  async removeMembers(sdkAppId: number, groupId: string, userIds: string[], by: ChangeBy = {}): Promise<string[]> {
    return this.serial.run(sdkAppId, async () => {
      const e = this.entry(sdkAppId, groupId);
      if (e.group.owner && userIds.includes(e.group.owner)) throw new DomainError('PERMISSION_DENIED', 'the group owner cannot be removed', 'OWNER');
      const gone = new Set(await this.store.chat.removeMembers(sdkAppId, groupId, [...new Set(userIds)]));
      if (gone.size) {
        const group = { ...e.group, members: e.group.members.filter((m) => !gone.has(m.userId)) };
        this.remember({ ...e, group, memberIds: new Set([...e.memberIds].filter((u) => !gone.has(u))) });
        this.changed({ kind: 'members-removed', sdkAppId, groupId, userIds: [...gone], ...by, group: snapshot(group) });
      }
      return [...gone];
    });
  }

  /**
   * A member leaves a group (NOT_MEMBER otherwise). The owner may leave only a Work group, which is then left
   * without an owner; the owner of any other type must dismiss it instead (OWNER_QUIT), as Tencent's quitGroup says.
   */
  async quit(sdkAppId: number, groupId: string, userId: string): Promise<void> {
    return this.serial.run(sdkAppId, async () => {
      const e = this.entry(sdkAppId, groupId);
      if (!e.memberIds.has(userId)) throw new DomainError('PERMISSION_DENIED', `${userId} is not a member of group ${groupId}`, 'NOT_MEMBER');
      const owner = e.group.owner === userId;
      if (owner && e.group.type !== 'Work') throw new DomainError('PERMISSION_DENIED', `the owner of a ${e.group.type} group cannot quit it, only dismiss it`, 'OWNER_QUIT');
      await this.store.transaction(async (tx) => {
        await tx.chat.removeMembers(sdkAppId, groupId, [userId]);
        if (owner) await tx.chat.updateGroup(sdkAppId, groupId, { owner: '' });
      });
      const group = { ...e.group, owner: owner ? '' : e.group.owner, members: e.group.members.filter((m) => m.userId !== userId) };
      this.remember({ ...e, group, memberIds: new Set([...e.memberIds].filter((u) => u !== userId)) });
      this.changed({ kind: 'members-removed', sdkAppId, groupId, userIds: [userId], operator: userId, self: true, group: snapshot(group) });
    });
  }

  /**
   * Changes a group's name, introduction, notification, face URL or (Public and Community groups only)
   * ApplyJoinOption, within the limits `create` applies; the group's InfoSeq moves on.
   */
  async update(sdkAppId: number, groupId: string, changes: GroupProfileUpdate, by: ChangeBy = {}): Promise<Group> {
    if (changes.name !== undefined && changes.name.length === 0) invalid('Name is empty');
    for (const [field, limit] of Object.entries(GROUP_FIELD_LIMITS)) {
      const v = changes[field as keyof typeof GROUP_FIELD_LIMITS];
      if (v !== undefined && Buffer.byteLength(v) > limit) invalid(`${field} is longer than ${limit} bytes`);
    }
    if (changes.applyJoinOption !== undefined && !APPLY_JOIN_OPTIONS.has(changes.applyJoinOption)) invalid(`unknown ApplyJoinOption ${JSON.stringify(changes.applyJoinOption)}`);
    return this.serial.run(sdkAppId, async () => {
      const e = this.entry(sdkAppId, groupId);
      if (changes.applyJoinOption !== undefined && !JOIN_OPTION_TYPES.has(e.group.type)) invalid(`the ApplyJoinOption of a ${e.group.type} group cannot change`);
      const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as GroupProfileUpdate;
      const time = now();
      const group: Group = { ...e.group, ...set, infoSeq: e.group.infoSeq + 1, lastInfoTime: time };
      await this.store.chat.updateGroup(sdkAppId, groupId, {
        name: set.name,
        introduction: set.introduction,
        notification: set.notification,
        face_url: set.faceUrl,
        apply_join_option: set.applyJoinOption,
        info_seq: group.infoSeq,
        last_info_time: time,
      });
      this.remember({ ...e, group });
      this.changed({ kind: 'updated', sdkAppId, groupId, userIds: [], ...(by.operator !== undefined ? { operator: by.operator } : {}), group: snapshot(group), profile: set });
      return group;
    });
  }

  /** Dissolves a group: the group, its members and its messages are deleted. */
  async destroy(sdkAppId: number, groupId: string, by: ChangeBy = {}): Promise<void> {
    return this.serial.run(sdkAppId, async () => {
      const e = this.entry(sdkAppId, groupId);
      await this.store.transaction((tx) => tx.chat.deleteGroup(sdkAppId, groupId));
      this.forget(sdkAppId, groupId);
      this.changed({ kind: 'destroyed', sdkAppId, groupId, userIds: [...e.memberIds], ...(by.operator !== undefined ? { operator: by.operator } : {}), group: snapshot(e.group) });
    });
  }

  /**
   * Sends a message to a group: it takes the group's next sequence number and is stored, then published on
   * CHAT_TOPIC with the members it goes to. A member sends as themselves; an administrator (or `from` '') as anyone.
   */
  async sendMessage(s: SendGroupMessage): Promise<GroupMessage> {
    const problem = bodyProblem(s.body);
    if (problem) invalid(problem, 'BAD_BODY');
    if (messageTooLarge(s.body, s.cloudCustomData)) throw new DomainError('INVALID_ARGUMENT', `the message is larger than ${MAX_MESSAGE_BYTES} bytes`, 'BODY_TOO_LARGE');
    if (s.priority !== undefined && !PRIORITIES.has(s.priority)) invalid(`unknown MsgPriority ${JSON.stringify(s.priority)}`);
    for (const [name, v] of [['Random', s.random], ['ClientSeq', s.clientSeq]] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) invalid(`${name} must be an unsigned 32-bit integer`);
    }
    return this.serial.run(s.sdkAppId, async () => {
      const e = this.entry(s.sdkAppId, s.groupId);
      if (s.from !== '' && !s.admin && !e.memberIds.has(s.from)) throw new DomainError('PERMISSION_DENIED', `${s.from} is not a member of group ${s.groupId}`, 'NOT_MEMBER');
      const time = now();
      const message: GroupMessage = {
        sdkAppId: s.sdkAppId,
        groupId: s.groupId,
        seq: 0,
        from: s.from,
        random: s.random ?? randomInt(0, 0x100000000),
        clientSeq: s.clientSeq ?? 0,
        time,
        body: s.body,
        cloudCustomData: s.cloudCustomData ?? '',
        priority: s.priority ?? 'Normal',
        onlineOnly: s.onlineOnly ?? false,
      };
      if (!message.onlineOnly) {
        message.seq = await this.store.transaction(async (tx) => {
          const seq = await tx.chat.takeGroupSeq(s.sdkAppId, s.groupId, time);
          if (seq === undefined) throw new DomainError('NOT_FOUND', `group ${s.groupId} does not exist`, 'NO_GROUP');
          await tx.chat.insertGroupMessage({
            sdk_app_id: message.sdkAppId,
            group_id: message.groupId,
            msg_seq: seq,
            from_user: message.from,
            msg_random: message.random,
            client_seq: message.clientSeq,
            msg_time: message.time,
            body: JSON.stringify(message.body),
            cloud_custom_data: message.cloudCustomData,
            priority: message.priority,
          });
          return seq;
        });
        this.remember({ ...e, group: { ...e.group, nextMsgSeq: message.seq + 1, lastMsgTime: time } });
      }
      this.bus.publish(CHAT_TOPIC, { kind: 'group', message, members: [...e.memberIds] } satisfies ChatEvent);
      return message;
    });
  }

  /** Stored messages of a group with a sequence below `beforeSeq` (all when absent), newest first, at most `limit`. */
  async messages(sdkAppId: number, groupId: string, f: { beforeSeq?: number; limit: number }): Promise<GroupMessage[]> {
    this.entry(sdkAppId, groupId);
    const rows = await this.store.chat.groupMessages(sdkAppId, groupId, f.beforeSeq ?? Number.MAX_SAFE_INTEGER, Math.max(1, Math.min(f.limit, 100)));
    return rows.map(messageFromRow);
  }

  private entry(sdkAppId: number, groupId: string): Entry {
    const e = this.groups.get(sdkAppId)?.get(groupId);
    if (!e) throw new DomainError('NOT_FOUND', `group ${groupId} does not exist`, 'NO_GROUP');
    return e;
  }

  /** A fresh GroupId, not taken in the app. */
  private newId(sdkAppId: number, type: GroupType): string {
    for (;;) {
      const id = randomGroupId(type);
      if (!this.groups.get(sdkAppId)?.has(id)) return id;
    }
  }

  private remember(e: Entry): void {
    const { sdkAppId, groupId } = e.group;
    const prev = this.groups.get(sdkAppId)?.get(groupId);
    for (const u of prev?.memberIds ?? []) if (!e.memberIds.has(u)) this.unindex(sdkAppId, u, groupId);
    for (const u of e.memberIds) {
      let set = this.byUser.get(userKey(sdkAppId, u));
      if (!set) this.byUser.set(userKey(sdkAppId, u), (set = new Set()));
      set.add(groupId);
    }
    let app = this.groups.get(sdkAppId);
    if (!app) this.groups.set(sdkAppId, (app = new Map()));
    app.set(groupId, e);
  }

  private forget(sdkAppId: number, groupId: string): void {
    const e = this.groups.get(sdkAppId)?.get(groupId);
    if (!e) return;
    for (const u of e.memberIds) this.unindex(sdkAppId, u, groupId);
    this.groups.get(sdkAppId)!.delete(groupId);
  }

  private unindex(sdkAppId: number, userId: string, groupId: string): void {
    const set = this.byUser.get(userKey(sdkAppId, userId));
    if (set?.delete(groupId) && set.size === 0) this.byUser.delete(userKey(sdkAppId, userId));
  }

  /** Reads a group again from the store (another node changed it). */
  private async reload(sdkAppId: number, groupId: string): Promise<void> {
    const row = await this.store.chat.group(sdkAppId, groupId);
    if (!row) return this.forget(sdkAppId, groupId);
    this.remember(fromRows(row, await this.store.chat.members({ sdkAppId, groupId })));
  }

  private changed(e: GroupChanged): void {
    this.bus.publish(GROUP_TOPIC, e);
  }
}
