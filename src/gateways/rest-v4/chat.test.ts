import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import { CHAT_TOPIC, MAX_MESSAGE_BYTES, type ChatEvent } from '../../services/chat/message.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { MAX_ADD_MEMBERS, MAX_CREATE_MEMBERS, MAX_DELETE_MEMBERS, MAX_MSG_LIFETIME } from './chat.ts';
import { concurrentCodes, freezeClock, withFreshServer } from './testkit.ts';

const SENDMSG = 'openim/sendmsg';
const CREATE = 'group_open_http_svc/create_group';
const LIST = 'group_open_http_svc/get_appid_group_list';
const INFO = 'group_open_http_svc/get_group_info';
const SEND_GROUP = 'group_open_http_svc/send_group_msg';
const ADD = 'group_open_http_svc/add_group_member';
const DELETE = 'group_open_http_svc/delete_group_member';
const DESTROY = 'group_open_http_svc/destroy_group';

type Envelope = Record<string, unknown>;
const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }];
const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

let t: TestServer;
let app: number;
before(async () => {
  t = await startTestServer();
  app = t.app.sdkAppId;
  await t.server.apps.update(app, { rateLimits: 'off' });
  await t.server.accounts.importMany(app, ['u1', 'u2', 'u3', 'u4'].map((userId) => ({ userId })));
});
after(() => t.close());

/** Posts a command and asserts its ErrorCode (and the envelope around it); returns the envelope. */
async function expect(command: string, body: unknown, code: number, what = JSON.stringify(body).slice(0, 120)): Promise<Envelope> {
  const env = await t.rest(command, body);
  assert.equal(env.ErrorCode, code, `${command} ${what}: ${JSON.stringify(env)}`);
  assert.equal(env.ActionStatus, code === 0 ? 'OK' : 'FAIL');
  if (code === 0) assert.equal(env.ErrorInfo, '');
  return env;
}

async function createGroup(body: Record<string, unknown>): Promise<string> {
  return (await expect(CREATE, { Type: 'Public', Name: 'g', ...body }, 0)).GroupId as string;
}

// openim/sendmsg: https://cloud.tencent.com/document/product/269/2282 (zh), https://trtc.io/document/34919 (en);
// error codes as in Tencent's V2TIMErrorCode.h (https://cloud.tencent.com/document/product/269/1671).
describe('openim/sendmsg', () => {
  const base = { To_Account: 'u2', MsgRandom: 1287657, MsgBody: text('hi, beauty') };

  it('sends as the admin or as From_Account; replies MsgTime and MsgKey; the recipient syncs it', async () => {
    const events: ChatEvent[] = [];
    const off = t.server.bus.subscribe(CHAT_TOPIC, (p) => events.push(p as ChatEvent));
    const before = Math.floor(Date.now() / 1000);
    const admin = await expect(SENDMSG, { SyncOtherMachine: 2, ...base, MsgSeq: 93847636, CloudCustomData: 'your cloud custom data' }, 0);
    const asUser = await expect(SENDMSG, { SyncOtherMachine: 1, From_Account: 'u1', ...base, MsgRandom: 7 }, 0);
    off();
    assert.ok((admin.MsgTime as number) >= before);
    assert.equal(admin.MsgKey, `93847636_1287657_${admin.MsgTime}`);
    assert.match(String(asUser.MsgKey), new RegExp(`^\\d+_7_${asUser.MsgTime}$`));
    const page = await t.server.messages.sync(app, 'u2', '0', 100);
    assert.deepEqual(page.messages.map((m) => [m.from, m.body, m.cloudCustomData]), [['administrator', text('hi, beauty'), 'your cloud custom data'], ['u1', text('hi, beauty'), '']]);
    assert.deepEqual(events.map((e) => e.kind === 'c2c' && [e.message.from, e.syncSender]), [['administrator', false], ['u1', true]]);
  });

  it('MsgLifeTime 0 delivers online only (not stored); up to 7 days is accepted, more is 90026', async () => {
    await expect(SENDMSG, { ...base, To_Account: 'u3', MsgLifeTime: 0, MsgBody: text('online') }, 0);
    assert.deepEqual((await t.server.messages.sync(app, 'u3', '0')).messages, []);
    await expect(SENDMSG, { ...base, To_Account: 'u3', MsgLifeTime: MAX_MSG_LIFETIME }, 0);
    await expect(SENDMSG, { ...base, To_Account: 'u3', MsgLifeTime: MAX_MSG_LIFETIME + 1 }, 90026);
  });

  it('answers each missing or malformed field with its own code', async () => {
    const cases: Array<[unknown, number]> = [
      [{}, 90003],
      [{ ...base, To_Account: undefined }, 90003],
      [{ ...base, To_Account: 5 }, 90003],
      [{ ...base, To_Account: '' }, 90003],
      [{ ...base, MsgRandom: undefined }, 90005],
      [{ ...base, MsgRandom: '1' }, 90005],
      [{ ...base, MsgRandom: -1 }, 90005],
      [{ ...base, MsgRandom: 2 ** 32 }, 90005],
      [{ ...base, MsgBody: undefined }, 90002],
      [{ ...base, MsgBody: 'hi' }, 90002],
      [{ ...base, MsgBody: [] }, 90002],
      [{ ...base, MsgBody: [{ MsgType: 'TIMBogusElem', MsgContent: {} }] }, 90002],
      [{ ...base, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 1 } }] }, 90002],
      [{ ...base, SyncOtherMachine: 'yes' }, 90031],
      [{ ...base, SyncOtherMachine: 3 }, 90031],
      [{ ...base, MsgLifeTime: 1.5 }, 90044],
      [{ ...base, MsgLifeTime: -1 }, 90044],
      [{ ...base, MsgSeq: -1 }, 90010],
      [{ ...base, CloudCustomData: 5 }, 90010],
      [{ ...base, From_Account: 5 }, 60015],
    ];
    for (const [body, code] of cases) await expect(SENDMSG, body, code);
    assert.equal((await t.rest(SENDMSG, '{"To_Account":')).ErrorCode, 60003);
  });

  it('refuses an unknown recipient with 90012, an unknown sender with 90048 and an oversized message with 93000', async () => {
    await expect(SENDMSG, { ...base, To_Account: 'ghost' }, 90012);
    await expect(SENDMSG, { ...base, From_Account: 'ghost' }, 90048);
    await expect(SENDMSG, { ...base, MsgBody: text('x'.repeat(MAX_MESSAGE_BYTES)) }, 93000);
    await expect(SENDMSG, { ...base, CloudCustomData: 'c'.repeat(MAX_MESSAGE_BYTES) }, 93000);
  });
});

// create_group: https://cloud.tencent.com/document/product/269/1615 (zh), https://trtc.io/document/34895 (en).
describe('group_open_http_svc/create_group', () => {
  it('creates a group with an @TGS# id, an owner and members; Private is reported as Private', async () => {
    const id = await createGroup({ Owner_Account: 'u1', Type: 'Private', Name: 'TestGroup', MemberList: [{ Member_Account: 'u2' }, { Member_Account: 'u3', Role: 'Admin' }] });
    assert.match(id, /^@TGS#[A-Z0-9]{9}$/);
    const info = ((await expect(INFO, { GroupIdList: [id] }, 0)).GroupInfo as Envelope[])[0]!;
    assert.deepEqual([info.ErrorCode, info.Type, info.Name, info.Owner_Account, info.MemberNum, info.MaxMemberNum, info.NextMsgSeq], [0, 'Private', 'TestGroup', 'u1', 3, 200, 1]);
    assert.deepEqual((info.MemberList as Envelope[]).map((m) => [m.Member_Account, m.Role]), [['u1', 'Owner'], ['u2', 'Member'], ['u3', 'Admin']]);
    assert.equal(t.server.groups.get(app, id).type, 'Work');
    // No owner: a group without one.
    const ownerless = await createGroup({ Name: 'nobody owns it' });
    assert.equal(t.server.groups.get(app, ownerless).owner, '');
  });

  it('takes a custom GroupId once (10021 after), and refuses @TGS# prefixes and ids over 48 bytes (10004)', async () => {
    assert.equal(await createGroup({ GroupId: 'custom-1', Introduction: 'i', Notification: 'n', FaceUrl: 'http://f', MaxMemberCount: 30, ApplyJoinOption: 'FreeAccess' }), 'custom-1');
    await expect(CREATE, { Type: 'Public', Name: 'g', GroupId: 'custom-1' }, 10021);
    await expect(CREATE, { Type: 'Public', Name: 'g', GroupId: '@TGS#mine' }, 10004);
    await expect(CREATE, { Type: 'Public', Name: 'g', GroupId: 'x'.repeat(49) }, 10004);
    assert.equal(await createGroup({ GroupId: 'x'.repeat(48) }), 'x'.repeat(48));
  });

  it('refuses unknown accounts (10019), members for an AVChatRoom (10007), too many members (10014) and bad fields', async () => {
    await expect(CREATE, { Type: 'Public', Name: 'g', Owner_Account: 'ghost' }, 10019);
    await expect(CREATE, { Type: 'Public', Name: 'g', MemberList: [{ Member_Account: 'ghost' }] }, 10019);
    await expect(CREATE, { Type: 'AVChatRoom', Name: 'live', MemberList: [{ Member_Account: 'u1' }] }, 10007);
    await expect(CREATE, { Type: 'Public', Name: 'g', MaxMemberCount: 1, Owner_Account: 'u1', MemberList: [{ Member_Account: 'u2' }] }, 10014);
    const cases: Array<[unknown, number]> = [
      [{ Name: 'g' }, 10004],
      [{ Type: 'Public' }, 10004],
      [{ Type: 'BChatRoom', Name: 'g' }, 10004],
      [{ Type: 'Public', Name: '' }, 10004],
      [{ Type: 'Public', Name: 'n'.repeat(101) }, 10004],
      [{ Type: 'Public', Name: 7 }, 10004],
      [{ Type: 'Public', Name: 'g', ApplyJoinOption: 'Maybe' }, 10004],
      [{ Type: 'Public', Name: 'g', MaxMemberCount: -1 }, 10004],
      [{ Type: 'Public', Name: 'g', MemberList: [{ Member_Account: 'u1', Role: 'Owner' }] }, 10004],
      [{ Type: 'Public', Name: 'g', MemberList: ids(MAX_CREATE_MEMBERS + 1, 'm').map((Member_Account) => ({ Member_Account })) }, 10004],
      [{ Type: 'Public', Name: 'g', Owner_Account: 5 }, 60015],
      [{ Type: 'Public', Name: 'g', MemberList: [{ Member_Account: 5 }] }, 60015],
    ];
    for (const [body, code] of cases) await expect(CREATE, body, code);
  });
});

// get_appid_group_list: https://cloud.tencent.com/document/product/269/1614 (zh), https://trtc.io/document/34960 (en).
describe('group_open_http_svc/get_appid_group_list', () => {
  it('pages with Limit and Next (0 when done), counts TotalCount, filters by GroupType', () =>
    withFreshServer(async (fresh) => {
      await fresh.server.apps.update(fresh.app.sdkAppId, { rateLimits: 'off' });
      const made: string[] = [];
      for (const Type of ['Public', 'Private', 'Public', 'ChatRoom', 'AVChatRoom']) made.push((await fresh.rest(CREATE, { Type, Name: 'g' })).GroupId as string);
      const all = await fresh.rest(LIST, {});
      assert.deepEqual([all.ErrorCode, all.TotalCount, all.Next], [0, 5, 0]);
      assert.deepEqual(all.GroupIdList, made.map((GroupId) => ({ GroupId })));
      const p1 = await fresh.rest(LIST, { Limit: 2, Next: 0 });
      const p2 = await fresh.rest(LIST, { Limit: 2, Next: p1.Next });
      const p3 = await fresh.rest(LIST, { Limit: 2, Next: p2.Next });
      assert.deepEqual([p1.TotalCount, p3.Next], [5, 0]);
      assert.deepEqual([...(p1.GroupIdList as Envelope[]), ...(p2.GroupIdList as Envelope[]), ...(p3.GroupIdList as Envelope[])].map((g) => g.GroupId), made);
      const pub = await fresh.rest(LIST, { GroupType: 'Public' });
      assert.deepEqual([pub.TotalCount, (pub.GroupIdList as Envelope[]).map((g) => g.GroupId)], [2, [made[0], made[2]]]);
      assert.deepEqual((await fresh.rest(LIST, { GroupType: 'Private' })).GroupIdList, [{ GroupId: made[1] }]);
      for (const body of [{ Limit: 0 }, { Limit: 10_001 }, { Next: -1 }, { Next: 'a' }, { GroupType: 'Nonsense' }, { GroupType: 1 }]) {
        assert.equal((await fresh.rest(LIST, body)).ErrorCode, 10004, JSON.stringify(body));
      }
    }));

  it('lists only the calling app\'s groups', async () => {
    const other = await t.server.apps.create();
    const sig = genUserSig({ sdkAppId: other.sdkAppId, secretKey: other.secretKey, userId: 'administrator', expire: 3600 });
    const env = await t.rest(LIST, {}, { sdkappid: String(other.sdkAppId), usersig: sig });
    assert.deepEqual([env.ErrorCode, env.TotalCount, env.GroupIdList], [0, 0, []]);
    const mine = await t.rest(LIST, {});
    assert.ok((mine.TotalCount as number) > 0);
    // Another app's admin cannot read this app's groups by id either.
    const id = (mine.GroupIdList as Envelope[])[0]!.GroupId;
    const info = await t.rest(INFO, { GroupIdList: [id] }, { sdkappid: String(other.sdkAppId), usersig: sig });
    assert.equal((info.GroupInfo as Envelope[])[0]!.ErrorCode, 10010);
  });

});

describe('chat API rate limits (rateLimits=tencent)', () => {
  freezeClock();

  it('get_appid_group_list: 1 call per second, then 60007; sendmsg: 200 per second', () =>
    withFreshServer(async (fresh) => {
      const codes = await concurrentCodes(fresh, LIST, {}, 3);
      assert.deepEqual(codes.sort(), [0, 60007, 60007]);
      await fresh.server.accounts.importMany(fresh.app.sdkAppId, [{ userId: 'r1' }]);
      const body = { To_Account: 'r1', MsgRandom: 1, MsgBody: text('x'), MsgLifeTime: 0 };
      const sent = await concurrentCodes(fresh, SENDMSG, body, 205);
      assert.deepEqual([sent.filter((c) => c === 0).length, sent.filter((c) => c === 60007).length], [200, 5]);
    }));
});

// send_group_msg: https://cloud.tencent.com/document/product/269/1629 (zh), https://trtc.io/document/34959 (en).
describe('group_open_http_svc/send_group_msg', () => {
  it('numbers a group\'s messages from 1 and replies MsgTime and MsgSeq; From_Account may name any imported account', async () => {
    const id = await createGroup({ Owner_Account: 'u1', MemberList: [{ Member_Account: 'u2' }] });
    const events: ChatEvent[] = [];
    const off = t.server.bus.subscribe(CHAT_TOPIC, (p) => events.push(p as ChatEvent));
    const m1 = await expect(SEND_GROUP, { GroupId: id, Random: 8912345, MsgBody: text('red packet'), CloudCustomData: 'ccd' }, 0);
    const m2 = await expect(SEND_GROUP, { GroupId: id, From_Account: 'u2', Random: 1, MsgPriority: 'High', MsgBody: text('two') }, 0);
    const m3 = await expect(SEND_GROUP, { GroupId: id, From_Account: 'u4', Random: 2, MsgBody: text('forged sender') }, 0);
    off();
    assert.deepEqual([m1.MsgSeq, m2.MsgSeq, m3.MsgSeq], [1, 2, 3]);
    assert.equal(typeof m1.MsgTime, 'number');
    assert.deepEqual(events.map((e) => e.kind === 'group' && [e.message.from, e.message.seq, e.members]), [
      ['administrator', 1, ['u1', 'u2']],
      ['u2', 2, ['u1', 'u2']],
      ['u4', 3, ['u1', 'u2']],
    ]);
    const online = await expect(SEND_GROUP, { GroupId: id, Random: 3, MsgBody: text('typing'), OnlineOnlyFlag: 1 }, 0);
    assert.equal(online.MsgSeq, 0);
    assert.equal(((await expect(INFO, { GroupIdList: [id] }, 0)).GroupInfo as Envelope[])[0]!.NextMsgSeq, 4);
  });

  it('refuses unknown groups (10010), unknown senders (10019), bad bodies (10004) and oversized messages (80002)', async () => {
    const id = await createGroup({});
    const base = { GroupId: id, Random: 1, MsgBody: text('x') };
    await expect(SEND_GROUP, { ...base, GroupId: 'nope' }, 10010);
    await expect(SEND_GROUP, { ...base, From_Account: 'ghost' }, 10019);
    await expect(SEND_GROUP, { ...base, MsgBody: text('x'.repeat(MAX_MESSAGE_BYTES)) }, 80002);
    const cases: Array<[unknown, number]> = [
      [{ ...base, GroupId: undefined }, 10004],
      [{ ...base, Random: undefined }, 10004],
      [{ ...base, Random: -5 }, 10004],
      [{ ...base, MsgBody: [] }, 10004],
      [{ ...base, MsgBody: [{ MsgType: 'TIMTextElem' }] }, 10004],
      [{ ...base, MsgPriority: 'Urgent' }, 10004],
      [{ ...base, OnlineOnlyFlag: 2 }, 10004],
      [{ ...base, From_Account: 1 }, 60015],
    ];
    for (const [body, code] of cases) await expect(SEND_GROUP, body, code);
  });
});

// add_group_member https://trtc.io/document/34921, delete_group_member https://trtc.io/document/34949,
// get_group_info https://trtc.io/document/34961, destroy_group https://cloud.tencent.com/document/product/269/1624.
describe('group members, profiles and destruction', () => {
  it('add_group_member reports Result per member (1 added, 2 already, 0 failed); 10014 when full; 10007 for an AVChatRoom', async () => {
    const id = await createGroup({ Owner_Account: 'u1', MaxMemberCount: 3 });
    const env = await expect(ADD, { GroupId: id, MemberList: [{ Member_Account: 'u2' }, { Member_Account: 'u1' }, { Member_Account: 'ghost' }] }, 0);
    assert.deepEqual(env.MemberList, [
      { Member_Account: 'u2', Result: 1 },
      { Member_Account: 'u1', Result: 2 },
      { Member_Account: 'ghost', Result: 0 },
    ]);
    await expect(ADD, { GroupId: id, Silence: 1, MemberList: [{ Member_Account: 'u3' }, { Member_Account: 'u4' }] }, 10014);
    await expect(ADD, { GroupId: 'nope', MemberList: [{ Member_Account: 'u3' }] }, 10010);
    const av = await createGroup({ Type: 'AVChatRoom' });
    await expect(ADD, { GroupId: av, MemberList: [{ Member_Account: 'u3' }] }, 10007);
    await expect(ADD, { GroupId: id, MemberList: [] }, 10004);
    await expect(ADD, { GroupId: id, MemberList: ids(MAX_ADD_MEMBERS + 1, 'a').map((Member_Account) => ({ Member_Account })) }, 10004);
    await expect(ADD, { GroupId: id, MemberList: [{ Member_Account: 3 }] }, 60015);
  });

  it('delete_group_member removes members; the owner cannot be removed (10007); an AVChatRoom is 10004', async () => {
    const id = await createGroup({ Owner_Account: 'u1', MemberList: [{ Member_Account: 'u2' }, { Member_Account: 'u3' }] });
    await expect(DELETE, { GroupId: id, Reason: 'bye', MemberToDel_Account: ['u2', 'ghost'] }, 0);
    assert.deepEqual(t.server.groups.get(app, id).members.map((m) => m.userId), ['u1', 'u3']);
    await expect(DELETE, { GroupId: id, MemberToDel_Account: ['u1'] }, 10007);
    await expect(DELETE, { GroupId: 'nope', MemberToDel_Account: ['u3'] }, 10010);
    await expect(DELETE, { GroupId: await createGroup({ Type: 'AVChatRoom' }), MemberToDel_Account: ['u3'] }, 10004);
    await expect(DELETE, { GroupId: id, MemberToDel_Account: [] }, 10004);
    await expect(DELETE, { GroupId: id, MemberToDel_Account: ids(MAX_DELETE_MEMBERS + 1, 'd') }, 10004);
    await expect(DELETE, { GroupId: id, MemberToDel_Account: [9] }, 60015);
  });

  it('get_group_info answers per group, 10010 for unknown ones, and leaves out an AVChatRoom\'s members', async () => {
    const id = await createGroup({ Owner_Account: 'u1', Type: 'ChatRoom', Introduction: 'about' });
    const av = await createGroup({ Owner_Account: 'u1', Type: 'AVChatRoom' });
    const infos = (await expect(INFO, { GroupIdList: [id, 'nope', av], ResponseFilter: { GroupBaseInfoFilter: ['Name'] } }, 0)).GroupInfo as Envelope[];
    assert.deepEqual([infos[0]!.ErrorCode, infos[0]!.Type, infos[0]!.Introduction, infos[0]!.ApplyJoinOption], [0, 'ChatRoom', 'about', 'FreeAccess']);
    assert.deepEqual([infos[1]!.GroupId, infos[1]!.ErrorCode], ['nope', 10010]);
    assert.deepEqual([infos[2]!.Type, infos[2]!.MemberList, infos[2]!.Owner_Account], ['AVChatRoom', undefined, 'u1']);
    await expect(INFO, { GroupIdList: [] }, 10004);
    await expect(INFO, { GroupIdList: ids(51, 'g') }, 10004);
    await expect(INFO, {}, 10004);
  });

  it('destroy_group removes the group: 10010 afterwards, and gone from the list', async () => {
    const id = await createGroup({ Owner_Account: 'u1' });
    await expect(DESTROY, { GroupId: id }, 0);
    await expect(DESTROY, { GroupId: id }, 10010);
    await expect(SEND_GROUP, { GroupId: id, Random: 1, MsgBody: text('x') }, 10010);
    await expect(DESTROY, {}, 10004);
    assert.ok(!((await t.rest(LIST, {})).GroupIdList as Envelope[]).some((g) => g.GroupId === id));
  });
});
