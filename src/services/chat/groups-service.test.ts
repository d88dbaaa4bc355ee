import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CHAT_STORES, closeChat, freshChat, openChat, textBody, type ChatServices, type ChatTarget } from '../../../test/helpers/chat-services.ts';
import { detail } from '../../../test/helpers/domain-error.ts';
import { DomainError } from '../errors.ts';
import { GROUP_TOPIC, type GroupChanged } from './groups-service.ts';
import { CHAT_TOPIC, type ChatEvent } from './message.ts';

const APP = 1400000001;

for (const { kind, skip } of CHAT_STORES) {
  describe(`on ${kind}`, { skip }, () => {
    let target: ChatTarget;
    let c: ChatServices;
    beforeEach(async () => ({ target, c } = await freshChat(kind, APP, ['owner', 'u1', 'u2', 'u3', 'u4'])));
    afterEach(() => closeChat(c, target));

    const create = (extra: Record<string, unknown> = {}) => c.groups.create({ sdkAppId: APP, type: 'Public', name: 'g', owner: 'owner', ...extra });
    const send = (groupId: string, from: string, t: string, extra: object = {}) => c.groups.sendMessage({ sdkAppId: APP, groupId, from, body: textBody(t), ...extra });

    describe('GroupsService.create', () => {
      it('makes an @TGS# id, stores Private as Work, gives the owner the Owner role and publishes the creation', async () => {
        const seen: GroupChanged[] = [];
        c.bus.subscribe(GROUP_TOPIC, (p) => seen.push(p as GroupChanged));
        const g = await c.groups.create({ sdkAppId: APP, type: 'Private', name: 'work', owner: 'owner', members: ['u1', { userId: 'u2', role: 'Admin' }, 'u1', 'owner'] });
        assert.match(g.groupId, /^@TGS#[A-Z0-9]{9}$/);
        assert.equal(g.type, 'Work');
        assert.deepEqual(g.members.map((m) => [m.userId, m.role]), [['owner', 'Owner'], ['u1', 'Member'], ['u2', 'Admin']]);
        assert.deepEqual([g.maxMemberNum, g.applyJoinOption, g.nextMsgSeq, g.infoSeq, g.lastMsgTime], [200, 'DisableApply', 1, 1, 0]);
        assert.ok(Math.abs(g.createTime - Date.now() / 1000) < 5);
        assert.deepEqual(c.groups.get(APP, g.groupId), g);
        assert.deepEqual(seen, [{ kind: 'created', sdkAppId: APP, groupId: g.groupId, userIds: ['owner', 'u1', 'u2'] }]);
        const meeting = await c.groups.create({ sdkAppId: APP, type: 'ChatRoom', name: 'm' });
        assert.deepEqual([meeting.type, meeting.owner, meeting.members, meeting.maxMemberNum], ['Meeting', '', [], 10_000]);
        const community = await c.groups.create({ sdkAppId: APP, type: 'Community', name: 'c' });
        assert.match(community.groupId, /^@TGS#_[A-Z0-9]{9}$/);
      });

      it('takes a custom id once; refuses @TGS# prefixes, ids over 48 bytes and non-ASCII ones', async () => {
        const g = await create({ groupId: 'my-group', introduction: 'intro', notification: 'note', faceUrl: 'http://x/f.png', maxMemberNum: 50, applyJoinOption: 'FreeAccess' });
        assert.deepEqual([g.groupId, g.introduction, g.notification, g.faceUrl, g.maxMemberNum, g.applyJoinOption], ['my-group', 'intro', 'note', 'http://x/f.png', 50, 'FreeAccess']);
        await assert.rejects(create({ groupId: 'my-group' }), detail('GROUP_EXISTS'));
        await assert.rejects(create({ groupId: 'my-group', type: 'Work' }), (e: unknown) => e instanceof DomainError && e.code === 'ALREADY_EXISTS');
        for (const groupId of ['@TGS#abc', 'x'.repeat(49), 'é', '']) await assert.rejects(create({ groupId }), detail('BAD_GROUP_ID'), groupId);
        assert.equal((await create({ groupId: 'y'.repeat(48) })).groupId, 'y'.repeat(48));
        await assert.rejects(create({ type: 'Community', groupId: 'plain' }), detail('BAD_GROUP_ID'));
        assert.equal((await create({ type: 'Community', groupId: '@TGS#_mine' })).groupId, '@TGS#_mine');
        // Another app may use the same id.
        await c.accounts.importMany(APP + 1, [{ userId: 'owner' }]);
        assert.equal((await c.groups.create({ sdkAppId: APP + 1, type: 'Public', name: 'g', owner: 'owner', groupId: 'my-group' })).sdkAppId, APP + 1);
      });

      it('refuses unknown accounts, types and options, long fields, AVChatRoom members and too many members', async () => {
        await assert.rejects(create({ owner: 'ghost' }), detail('UNKNOWN_ACCOUNT'));
        await assert.rejects(create({ members: ['u1', 'ghost'] }), detail('UNKNOWN_ACCOUNT'));
        await assert.rejects(create({ type: 'BChatRoom' }), detail('BAD_TYPE'));
        await assert.rejects(create({ type: 'AVChatRoom', members: ['u1'] }), detail('AVCHATROOM_MEMBERS'));
        await assert.rejects(create({ maxMemberNum: 2, members: ['u1', 'u2'] }), detail('GROUP_FULL'));
        await assert.rejects(create({ name: '' }), /Name is empty/);
        await assert.rejects(create({ name: 'n'.repeat(101) }), /name is longer than 100 bytes/);
        await assert.rejects(create({ introduction: 'i'.repeat(401) }), /introduction/);
        await assert.rejects(create({ applyJoinOption: 'Sometimes' }), /ApplyJoinOption/);
        await assert.rejects(create({ maxMemberNum: -1 }), /MaxMemberNum/);
        const av = await create({ type: 'AVChatRoom' });
        assert.deepEqual([av.owner, av.members, av.maxMemberNum], ['owner', [], 0]);
        assert.deepEqual(c.groups.list(APP, { limit: 10, next: 0 }).groupIds, [av.groupId]);
      });
    });

    describe('GroupsService lookups', () => {
      it('get refuses unknown groups (NO_GROUP); list pages in creation order with a type filter; joined follows membership', async () => {
        assert.throws(() => c.groups.get(APP, 'nope'), detail('NO_GROUP'));
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await create({ type: i % 2 ? 'Private' : 'Public', members: i === 3 ? ['u1'] : [] })).groupId);
        const p1 = c.groups.list(APP, { limit: 2, next: 0 });
        const p2 = c.groups.list(APP, { limit: 2, next: p1.next });
        const p3 = c.groups.list(APP, { limit: 2, next: p2.next });
        assert.deepEqual([...p1.groupIds, ...p2.groupIds, ...p3.groupIds], ids);
        assert.deepEqual([p1.total, p3.next], [5, 0]);
        assert.ok(p1.next > 0 && p2.next > p1.next);
        const work = c.groups.list(APP, { limit: 10, next: 0, type: 'Private' });
        assert.deepEqual([work.groupIds, work.total, work.next], [[ids[1], ids[3]], 2, 0]);
        assert.deepEqual(c.groups.list(APP, { limit: 10, next: 0, type: 'Work' }).groupIds, work.groupIds);
        assert.throws(() => c.groups.list(APP, { limit: 10, next: 0, type: 'Bogus' }), /unknown group type/);
        assert.deepEqual(c.groups.list(APP + 1, { limit: 10, next: 0 }), { groupIds: [], total: 0, next: 0 });
        assert.deepEqual(c.groups.joined(APP, 'u1').map((g) => g.groupId), [ids[3]]);
        assert.equal(c.groups.joined(APP, 'owner').length, 5);
        assert.deepEqual(c.groups.joined(APP, 'nobody'), []);
      });
    });

    describe('GroupsService members', () => {
      it('adds imported accounts, reports the others, and refuses past MaxMemberNum (GROUP_FULL)', async () => {
        const g = await create({ maxMemberNum: 4 });
        const r = await c.groups.addMembers(APP, g.groupId, ['u1', 'owner', 'ghost', 'u1']);
        assert.deepEqual(r, [
          { userId: 'u1', result: 'added' },
          { userId: 'owner', result: 'already' },
          { userId: 'ghost', result: 'unknown' },
          { userId: 'u1', result: 'added' },
        ]);
        assert.deepEqual(c.groups.get(APP, g.groupId).members.map((m) => m.userId), ['owner', 'u1']);
        assert.ok(c.groups.isMember(APP, g.groupId, 'u1'));
        await assert.rejects(c.groups.addMembers(APP, g.groupId, ['u2', 'u3', 'u4']), detail('GROUP_FULL'));
        await assert.rejects(c.groups.addMembers(APP, 'nope', ['u2']), detail('NO_GROUP'));
        assert.deepEqual(await c.groups.addMembers(APP, g.groupId, ['u2', 'u3']), [{ userId: 'u2', result: 'added' }, { userId: 'u3', result: 'added' }]);
      });

      it('lets users join an AVChatRoom but not be added to it', async () => {
        const av = await create({ type: 'AVChatRoom' });
        await assert.rejects(c.groups.addMembers(APP, av.groupId, ['u1']), detail('AVCHATROOM_MEMBERS'));
        assert.deepEqual(await c.groups.join(APP, av.groupId, ['u1', 'owner']), [{ userId: 'u1', result: 'added' }, { userId: 'owner', result: 'added' }]);
        assert.deepEqual(c.groups.joined(APP, 'u1').map((x) => x.groupId), [av.groupId]);
      });

      it('removes members but not the owner', async () => {
        const g = await create({ members: ['u1', 'u2'] });
        assert.deepEqual(await c.groups.removeMembers(APP, g.groupId, ['u1', 'u3']), ['u1']);
        assert.deepEqual(c.groups.get(APP, g.groupId).members.map((m) => m.userId), ['owner', 'u2']);
        assert.deepEqual(c.groups.joined(APP, 'u1'), []);
        await assert.rejects(c.groups.removeMembers(APP, g.groupId, ['owner']), detail('OWNER'));
      });
    });

    describe('GroupsService.sendMessage', () => {
      it('numbers messages 1, 2, … per group, stores them, then publishes them with the members', async () => {
        const g = await create({ members: ['u1'] });
        const other = await create();
        const seen: ChatEvent[] = [];
        c.bus.subscribe(CHAT_TOPIC, (p) => seen.push(p as ChatEvent));
        const m1 = await send(g.groupId, 'u1', 'one', { random: 7, clientSeq: 3833470002, cloudCustomData: 'x' });
        const m2 = await send(g.groupId, 'owner', 'two', { priority: 'High' });
        const o1 = await send(other.groupId, 'owner', 'elsewhere');
        assert.deepEqual([m1.seq, m2.seq, o1.seq], [1, 2, 1]);
        assert.deepEqual([m1.random, m1.clientSeq, m1.priority, m2.priority, m1.cloudCustomData], [7, 3833470002, 'Normal', 'High', 'x']);
        assert.deepEqual(seen[0], { kind: 'group', message: m1, members: ['owner', 'u1'] });
        assert.equal(c.groups.get(APP, g.groupId).nextMsgSeq, 3);
        assert.equal(c.groups.get(APP, g.groupId).lastMsgTime, m2.time);
        assert.deepEqual((await c.groups.messages(APP, g.groupId, { limit: 10 })).map((m) => [m.seq, m.body]), [[2, textBody('two')], [1, textBody('one')]]);
        assert.deepEqual((await c.groups.messages(APP, g.groupId, { beforeSeq: 2, limit: 10 })).map((m) => m.seq), [1]);
      });

      it('refuses non-members (NOT_MEMBER) unless sent by an administrator or as the app', async () => {
        const g = await create();
        await assert.rejects(send(g.groupId, 'u1', 'hi'), detail('NOT_MEMBER'));
        assert.equal((await send(g.groupId, 'administrator', 'notice', { admin: true })).seq, 1);
        assert.equal((await send(g.groupId, '', 'system')).seq, 2);
        await assert.rejects(send('nope', 'owner', 'hi'), detail('NO_GROUP'));
        await assert.rejects(c.groups.sendMessage({ sdkAppId: APP, groupId: g.groupId, from: 'owner', body: [] }), detail('BAD_BODY'));
        await assert.rejects(send(g.groupId, 'owner', 'x', { priority: 'Urgent' }), /MsgPriority/);
        await assert.rejects(send(g.groupId, 'owner', 'x', { random: -1 }), /Random/);
      });

      it('publishes an online-only message without a sequence number or storing it', async () => {
        const g = await create();
        const m = await send(g.groupId, 'owner', 'typing', { onlineOnly: true });
        assert.deepEqual([m.seq, m.onlineOnly, c.groups.get(APP, g.groupId).nextMsgSeq], [0, true, 1]);
        assert.deepEqual(await c.groups.messages(APP, g.groupId, { limit: 10 }), []);
      });
    });

    describe('GroupsService.destroy and restarts', () => {
      it('destroy removes the group, its members and messages; the id can be used again from seq 1', async () => {
        const g = await create({ groupId: 'again', members: ['u1'] });
        await send(g.groupId, 'u1', 'old');
        await c.groups.destroy(APP, 'again');
        assert.throws(() => c.groups.get(APP, 'again'), detail('NO_GROUP'));
        assert.deepEqual(c.groups.joined(APP, 'u1'), []);
        await assert.rejects(c.groups.destroy(APP, 'again'), detail('NO_GROUP'));
        await create({ groupId: 'again' });
        assert.deepEqual(await c.groups.messages(APP, 'again', { limit: 10 }), []);
        assert.equal((await send('again', 'owner', 'new')).seq, 1);
      });

      it('keeps groups, members, sequence and messages across a restart', async () => {
        const a = await create({ groupId: 'durable', members: ['u1'] });
        const b = await create({ type: 'Private' });
        await c.groups.addMembers(APP, a.groupId, ['u2']);
        await c.groups.removeMembers(APP, a.groupId, ['u1']);
        await send(a.groupId, 'u2', 'kept');
        const before = c.groups.get(APP, a.groupId);
        await c.close();
        c = await openChat(target.options);
        assert.deepEqual(c.groups.get(APP, a.groupId), before);
        assert.deepEqual(c.groups.list(APP, { limit: 10, next: 0 }).groupIds, [a.groupId, b.groupId]);
        assert.deepEqual(c.groups.joined(APP, 'u2').map((g) => g.groupId), [a.groupId]);
        assert.equal((await send(a.groupId, 'u2', 'next')).seq, 2);
        assert.deepEqual((await c.groups.messages(APP, a.groupId, { limit: 10 })).map((m) => m.body[0]!.MsgContent.Text), ['next', 'kept']);
      });

      it('follows groups changed by another node on the same store', async () => {
        const other = await openChat(target.options);
        try {
          // Bridge the two in-process buses as Redis would.
          for (const topic of [GROUP_TOPIC, CHAT_TOPIC]) other.bus.subscribe(topic, (p, remote) => !remote && c.bus.deliverRemote(topic, p));
          const g = await other.groups.create({ sdkAppId: APP, type: 'Public', name: 'remote', owner: 'owner' });
          await other.groups.addMembers(APP, g.groupId, ['u1']);
          await other.groups.sendMessage({ sdkAppId: APP, groupId: g.groupId, from: 'u1', body: textBody('hi') });
          // The other node's changes arrive over the bus and are read back from the store: wait for them.
          await until(() => c.groups.get(APP, g.groupId).nextMsgSeq === 2);
          assert.deepEqual(c.groups.get(APP, g.groupId).members.map((m) => m.userId), ['owner', 'u1']);
          assert.equal(c.groups.get(APP, g.groupId).nextMsgSeq, 2);
          assert.equal((await send(g.groupId, 'u1', 'from here')).seq, 2);
          await other.groups.destroy(APP, g.groupId);
          await until(() => {
            try {
              c.groups.get(APP, g.groupId);
              return false;
            } catch {
              return true;
            }
          });
          assert.throws(() => c.groups.get(APP, g.groupId), detail('NO_GROUP'));
        } finally {
          await other.close();
        }
      });
    });
  });
}

/** Resolves once `cond` holds (checked every 10 ms, for up to 10 s); throws if it never does. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (cond()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error('condition not reached within 10 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}
