// The Chat SDK's group management over real WebSockets: member lists, adding and removing members, joining, quitting,
// dismissing and profile changes with Tencent's role rules and 100xx codes, and the group tips / system notices that
// reach the other members' sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatSuite } from '../../../test/helpers/chat-suite.ts';
import type { ChatFrame, ChatWsClient } from '../../../test/helpers/chat-ws-client.ts';

interface TipItem {
  From_Account: string;
  ToGroupId: string;
  MsgSeq: number;
  MsgRandom: number;
  TinyId: string;
  GroupInfo: { GroupId: string; GroupType: string };
  MsgBody: { OpType: number; Operator_Account: string; List_Account?: string[]; MemberNum: number; MsgGroupNewInfo?: Record<string, string> };
}

/** The GroupTips item of a msg_push frame, with its Event. */
function tipOf(f: ChatFrame): { event: number; item: TipItem } | undefined {
  if (f.head.servcmd !== 'im_open_push.msg_push') return undefined;
  const ev = (f.body.EventArray as Array<{ Event: number; GroupTips?: TipItem[] }> | undefined)?.[0];
  return ev?.GroupTips?.[0] ? { event: ev.Event, item: ev.GroupTips[0] } : undefined;
}

const TIPS = 6;
const NOTICE = 5;

describe('Chat group commands', () => {
  const suite = chatSuite();
  const user = (userId: string, app?: { sdkAppId: number; secretKey: string }) => suite.login(userId, app);
  const req = (c: ChatWsClient, cmd: string, body: unknown) => c.request(`group_open_http_svc.${cmd}`, body);
  const ok = async (c: ChatWsClient, cmd: string, body: unknown) => {
    const r = await req(c, cmd, body);
    assert.equal(r.ErrorCode, 0, `${cmd}: ${JSON.stringify(r)}`);
    return r;
  };
  const code = async (c: ChatWsClient, cmd: string, body: unknown) => (await req(c, cmd, body)).ErrorCode;
  const create = async (c: ChatWsClient, type: string, members: string[], extra: Record<string, unknown> = {}) =>
    String((await ok(c, 'create_group', { Type: type, Name: `${type} group`, MemberList: members.map((m) => ({ Member_Account: m })), ...extra })).GroupId);
  const waitTip = async (c: ChatWsClient, event: number, opType: number, groupId: string) =>
    tipOf(await c.waitFor((f) => { const x = tipOf(f); return x?.event === event && x.item.MsgBody.OpType === opType && x.item.GroupInfo.GroupId === groupId; }))!.item;
  const tipsIn = (c: ChatWsClient, groupId: string) => c.frames.map(tipOf).filter((x) => x?.item.GroupInfo.GroupId === groupId);
  const members = async (c: ChatWsClient, groupId: string) =>
    ((await ok(c, 'get_group_member_info', { GroupId: groupId, Limit: 100, Offset: 0 })).MemberList as Array<{ Member_Account: string; Role: string }>).map((m) => `${m.Member_Account}:${m.Role}`);

  it('lists members as the SDK pages them (Limit, Offset, MemberRoleFilter) and gives member profiles; members only', async () => {
    const [a] = [await user('gc-l1'), await user('gc-l2'), await user('gc-l3')];
    const outsider = await user('gc-l4');
    const id = await create(a!, 'Private', ['gc-l2', 'gc-l3']);
    const first = await ok(a!, 'get_group_member_info', { GroupId: id, Limit: 2, Offset: 0, MemberInfoFilter: ['Role', 'JoinTime', 'NameCard', 'ShutUpUntil', 'OnlineStatus'] });
    assert.equal(first.MemberNum, 3);
    const page = first.MemberList as Array<Record<string, unknown>>;
    assert.equal(page.length, 2);
    assert.deepEqual({ ...page[0], JoinTime: 0 }, { Member_Account: 'gc-l1', Role: 'Owner', JoinTime: 0, NameCard: '', MsgFlag: 'AcceptAndNotify', LastSendMsgTime: 0, ShutUpUntil: 0, AppMemberDefinedData: [] });
    assert.ok(Math.abs(Number(page[0]!.JoinTime) - Date.now() / 1000) < 10);
    const rest = await ok(a!, 'get_group_member_info', { GroupId: id, Limit: 2, Offset: 2 });
    assert.deepEqual((rest.MemberList as Array<{ Member_Account: string }>).map((m) => m.Member_Account), ['gc-l3']);
    const owners = await ok(a!, 'get_group_member_info', { GroupId: id, Limit: 15, Offset: 0, MemberRoleFilter: ['Owner'] });
    assert.deepEqual([owners.MemberNum, (owners.MemberList as unknown[]).length], [3, 1]);
    const spec = await ok(a!, 'get_specified_group_member_info', { GroupId: id, Member_List_Account: ['gc-l2', 'gc-nobody'], MemberInfoFilter: ['Role'] });
    assert.deepEqual((spec.MemberList as Array<{ Member_Account: string; Role: string }>).map((m) => [m.Member_Account, m.Role]), [['gc-l2', 'Member']]);
    assert.equal(await code(outsider, 'get_group_member_info', { GroupId: id, Limit: 15, Offset: 0 }), 10007);
    assert.equal(await code(outsider, 'get_specified_group_member_info', { GroupId: id, Member_List_Account: ['gc-l1'] }), 10007);
    assert.equal(await code(a!, 'get_group_member_info', { GroupId: 'gc-no-such-group', Limit: 15, Offset: 0 }), 10010);
    // The same GroupId seen from another app: no such group there.
    const app2 = await suite.t.server.apps.create();
    const elsewhere = await user('gc-l1', app2);
    for (const [cmd, body] of [
      ['get_group_member_info', { GroupId: id, Limit: 15, Offset: 0 }],
      ['add_group_member', { GroupId: id, MemberList: [{ Member_Account: 'gc-l1' }] }],
      ['apply_join_group', { GroupId: id }],
      ['quit_group', { GroupId: id }],
      ['destroy_group', { GroupId: id }],
      ['modify_group_base_info', { GroupId: id, Name: 'x' }],
    ] as const) {
      assert.equal(await code(elsewhere, cmd, body), 10010, cmd);
    }
    assert.equal((await members(a!, id)).length, 3, 'untouched');
  });

  it('adds members to a Work group (any member may): per-user Result, a notice to the added, tips to all', async () => {
    const [a, b, c] = [await user('gc-a1'), await user('gc-a2'), await user('gc-a3')];
    const d = await user('gc-a4');
    const id = await create(a, 'Private', ['gc-a2']);
    const r = await ok(b, 'add_group_member', { GroupId: id, MemberList: [{ Member_Account: 'gc-a3' }, { Member_Account: 'gc-nobody' }, { Member_Account: 'gc-a1' }] });
    assert.deepEqual(r.MemberList, [
      { Member_Account: 'gc-a3', Result: 1 },
      { Member_Account: 'gc-nobody', Result: 0 },
      { Member_Account: 'gc-a1', Result: 2 },
    ]);
    // The added user is told it was added (system notice 7: the SDK fetches the group, GROUP_LIST_UPDATED) …
    const added = await waitTip(c, NOTICE, 7, id);
    assert.equal(added.MsgBody.Operator_Account, 'gc-a2');
    // … and every member, the adder and the added included, gets the "joined" tip with the new member count.
    for (const x of [a, b, c]) {
      const tip = await waitTip(x, TIPS, 1, id);
      assert.deepEqual(tip.MsgBody.List_Account, ['gc-a3']);
      assert.equal(tip.MsgBody.MemberNum, 3);
      assert.equal(tip.From_Account, 'gc-a2');
      assert.equal(tip.ToGroupId, id);
      assert.equal(tip.GroupInfo.GroupType, 'Private');
      assert.match(tip.TinyId, /^\d{18}$/);
    }
    assert.deepEqual(await members(a, id), ['gc-a1:Owner', 'gc-a2:Member', 'gc-a3:Member']);
    // Silence: the added user still learns of it, the others get no tip.
    await ok(a, 'add_group_member', { GroupId: id, Silence: 1, MemberList: [{ Member_Account: 'gc-a4' }] });
    await waitTip(d, NOTICE, 7, id);
    await ok(b, 'modify_group_base_info', { GroupId: id, Name: 'after silence' });
    await waitTip(a, TIPS, 6, id);
    assert.equal(tipsIn(a, id).filter((x) => x!.item.MsgBody.OpType === 1).length, 1, 'no tip for the silent add');
    // Public and Meeting groups take members from the app admin only; an outsider adds to nothing.
    const meeting = await create(a, 'ChatRoom', ['gc-a2']);
    assert.equal(await code(a, 'add_group_member', { GroupId: meeting, MemberList: [{ Member_Account: 'gc-a3' }] }), 10007);
    const pub = await create(a, 'Public', []);
    assert.equal(await code(a, 'add_group_member', { GroupId: pub, MemberList: [{ Member_Account: 'gc-a3' }] }), 10007);
    assert.equal(await code(d, 'add_group_member', { GroupId: meeting, MemberList: [{ Member_Account: 'gc-a4' }] }), 10007);
    // A full group: 10014.
    const small = await create(a, 'Private', [], { MaxMemberNum: 2 });
    assert.equal(await code(a, 'add_group_member', { GroupId: small, MemberList: [{ Member_Account: 'gc-a2' }, { Member_Account: 'gc-a3' }] }), 10014);
  });

  it('removes members: the owner of a Work group; owner or admin (ordinary members only) of others; never the owner', async () => {
    const [a, b, c] = [await user('gc-r1'), await user('gc-r2'), await user('gc-r3')];
    const id = await create(a, 'Private', ['gc-r2', 'gc-r3']);
    assert.equal(await code(b, 'delete_group_member', { GroupId: id, MemberToDel_Account: ['gc-r3'] }), 10007, 'a member of a Work group');
    assert.equal(await code(a, 'delete_group_member', { GroupId: id, MemberToDel_Account: ['gc-r1'] }), 10007, 'the owner');
    await ok(a, 'delete_group_member', { GroupId: id, MemberToDel_Account: ['gc-r3'], Reason: 'bye' });
    // The removed user is told (system notice 4: the SDK drops the group) and the rest get the "kicked" tip.
    assert.equal((await waitTip(c, NOTICE, 4, id)).MsgBody.Operator_Account, 'gc-r1');
    for (const x of [a, b]) {
      const tip = await waitTip(x, TIPS, 3, id);
      assert.deepEqual([tip.MsgBody.List_Account, tip.MsgBody.MemberNum, tip.MsgBody.Operator_Account], [['gc-r3'], 2, 'gc-r1']);
    }
    assert.equal(tipsIn(c, id).some((x) => x!.event === TIPS && x!.item.MsgBody.OpType === 3), false, 'the removed user gets the notice, not the tip');
    assert.equal((await c.request('group_open_http_svc.send_group_msg', { GroupId: id, Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }] })).ErrorCode, 10007);
    assert.deepEqual(await members(a, id), ['gc-r1:Owner', 'gc-r2:Member']);

    // A Public group with an admin (made through REST): the admin removes members, not admins or the owner.
    const [, , , d] = [await user('gc-r4'), await user('gc-r5'), await user('gc-r6'), await user('gc-r7')];
    const made = await suite.t.rest('group_open_http_svc/create_group', {
      Owner_Account: 'gc-r1',
      Type: 'Public',
      Name: 'with admins',
      MemberList: [{ Member_Account: 'gc-r4', Role: 'Admin' }, { Member_Account: 'gc-r5', Role: 'Admin' }, { Member_Account: 'gc-r6' }, { Member_Account: 'gc-r7' }],
    });
    assert.equal(made.ErrorCode, 0, JSON.stringify(made));
    const pub = String(made.GroupId);
    const admin = await user('gc-r4');
    assert.equal(await code(d, 'delete_group_member', { GroupId: pub, MemberToDel_Account: ['gc-r6'] }), 10007, 'a member');
    assert.equal(await code(admin, 'delete_group_member', { GroupId: pub, MemberToDel_Account: ['gc-r5'] }), 10007, 'another admin');
    assert.equal(await code(admin, 'delete_group_member', { GroupId: pub, MemberToDel_Account: ['gc-r1'] }), 10007, 'the owner');
    await ok(admin, 'delete_group_member', { GroupId: pub, MemberToDel_Account: ['gc-r6', 'gc-not-a-member'] });
    await ok(a, 'delete_group_member', { GroupId: pub, MemberToDel_Account: ['gc-r5'], Silence: 1 });
    await waitTip(d, TIPS, 3, pub);
    assert.deepEqual(tipsIn(d, pub).filter((x) => x!.item.MsgBody.OpType === 3).map((x) => x!.item.MsgBody.List_Account), [['gc-r6']], 'Silence: no tip');
    assert.deepEqual(await members(a, pub), ['gc-r1:Owner', 'gc-r4:Admin', 'gc-r7:Member']);
  });

  it('quits: tips to the rest, a notice to the quitter\'s instances; the owner may quit a Work group only (10009)', async () => {
    const [a, b] = [await user('gc-q1'), await user('gc-q2')];
    const pub = await create(a, 'Public', ['gc-q2']);
    await ok(b, 'quit_group', { GroupId: pub });
    const tip = await waitTip(a, TIPS, 2, pub);
    assert.deepEqual([tip.MsgBody.List_Account, tip.MsgBody.Operator_Account, tip.MsgBody.MemberNum, tip.From_Account], [['gc-q2'], 'gc-q2', 1, 'gc-q2']);
    await waitTip(b, NOTICE, 8, pub);
    assert.equal(await code(b, 'quit_group', { GroupId: pub }), 10007, 'no longer a member');
    assert.equal(await code(a, 'quit_group', { GroupId: pub }), 10009, 'the owner of a Public group');
    assert.equal(await code(a, 'quit_group', { GroupId: 'gc-no-such-group' }), 10010);
    // The owner of a Work group may leave it: the group stays, without an owner.
    const work = await create(a, 'Private', ['gc-q2']);
    await ok(a, 'quit_group', { GroupId: work });
    await waitTip(b, TIPS, 2, work);
    assert.deepEqual(await members(b, work), ['gc-q2:Member']);
    const info = (await b.request('group_open_http_svc.get_group_self_member_info', { GroupIdList: [work] })).GroupInfo as Array<{ Owner_Account: string; MemberNum: number }>;
    assert.deepEqual([info[0]!.Owner_Account, info[0]!.MemberNum], ['', 1]);
    assert.equal(suite.t.server.groups.get(suite.t.app.sdkAppId, work).owner, '');
    assert.equal((await suite.t.server.store.chat.group(suite.t.app.sdkAppId, work))?.owner, '', 'written through');
  });

  it('dismisses: the owner, not of a Work group; members get the notice and can no longer send (10010)', async () => {
    const [a, b] = [await user('gc-d1'), await user('gc-d2')];
    const id = await create(a, 'ChatRoom', ['gc-d2']);
    assert.equal(await code(b, 'destroy_group', { GroupId: id }), 10007, 'a member');
    await ok(a, 'destroy_group', { GroupId: id });
    for (const x of [a, b]) assert.equal((await waitTip(x, NOTICE, 5, id)).MsgBody.Operator_Account, 'gc-d1');
    const sent = await b.request('group_open_http_svc.send_group_msg', { GroupId: id, Random: 1, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'anyone?' } }] });
    assert.equal(sent.ErrorCode, 10010);
    assert.equal(await code(a, 'destroy_group', { GroupId: id }), 10010);
    assert.equal(await code(b, 'get_group_member_info', { GroupId: id, Limit: 15, Offset: 0 }), 10010);
    const work = await create(a, 'Private', ['gc-d2']);
    assert.equal(await code(a, 'destroy_group', { GroupId: work }), 10007, 'nobody dismisses a Work group');
  });

  it('joins FreeAccess groups at once; Work groups, approval and members are refused; a full group 10014', async () => {
    const [a, c] = [await user('gc-j1'), await user('gc-j3')];
    const meeting = await create(a, 'ChatRoom', []);
    const r = await ok(c, 'apply_join_group', { GroupId: meeting, ApplyMsg: 'hi', WebPushFlag: 1 });
    assert.equal(r.JoinedStatus, 'JoinedSuccess');
    const tip = await waitTip(a, TIPS, 1, meeting);
    assert.deepEqual([tip.MsgBody.List_Account, tip.MsgBody.Operator_Account, tip.MsgBody.MemberNum], [['gc-j3'], 'gc-j3', 2]);
    assert.equal(tipsIn(c, meeting).some((x) => x!.event === NOTICE), false, 'a joiner is not told it was added');
    assert.deepEqual(await members(c, meeting), ['gc-j1:Owner', 'gc-j3:Member']);
    assert.equal(await code(c, 'apply_join_group', { GroupId: meeting }), 10013, 'already a member');
    assert.equal(await code(c, 'apply_join_group', { GroupId: await create(a, 'Private', []) }), 10007, 'Work');
    assert.equal(await code(c, 'apply_join_group', { GroupId: await create(a, 'Public', []) }), 10007, 'NeedPermission (Public default)');
    assert.equal(await code(c, 'apply_join_group', { GroupId: await create(a, 'Public', [], { ApplyJoinOption: 'DisableApply' }) }), 10007);
    assert.equal((await ok(c, 'apply_join_group', { GroupId: await create(a, 'Public', [], { ApplyJoinOption: 'FreeAccess' }) })).JoinedStatus, 'JoinedSuccess');
    assert.equal(await code(c, 'apply_join_group', { GroupId: await create(a, 'ChatRoom', [], { MaxMemberNum: 1 }) }), 10014);
    assert.equal(await code(c, 'apply_join_group', { GroupId: 'gc-no-such-group' }), 10010);
  });

  it('updates the profile (Work: any member; others: owner or admin) with tips carrying the new values', async () => {
    const [a, b] = [await user('gc-u1'), await user('gc-u2')];
    const pub = await create(a, 'Public', ['gc-u2']);
    assert.equal(await code(b, 'modify_group_base_info', { GroupId: pub, Name: 'mine' }), 10007);
    await ok(a, 'modify_group_base_info', { GroupId: pub, Name: 'Renamed', Notification: 'read me', FaceUrl: 'https://x.example/f.png', ApplyJoinOption: 'FreeAccess' });
    const tip = await waitTip(b, TIPS, 6, pub);
    assert.deepEqual(tip.MsgBody.MsgGroupNewInfo, { GroupName: 'Renamed', GroupNotification: 'read me', GroupFaceUrl: 'https://x.example/f.png', GroupApplyJoinOption: 'FreeAccess' });
    assert.equal(tip.MsgBody.Operator_Account, 'gc-u1');
    const info = ((await b.request('group_open_http_svc.get_group_self_member_info', { GroupIdList: [pub] })).GroupInfo as Array<Record<string, unknown>>)[0]!;
    assert.deepEqual([info.Name, info.Notification, info.FaceUrl, info.ApplyJoinOption, info.Introduction], ['Renamed', 'read me', 'https://x.example/f.png', 'FreeAccess', '']);
    const g = suite.t.server.groups.get(suite.t.app.sdkAppId, pub);
    assert.equal(g.infoSeq, 2);
    // Written through: a reload from the store sees the change.
    assert.equal((await suite.t.server.store.chat.group(suite.t.app.sdkAppId, pub))?.name, 'Renamed');
    assert.equal(await code(a, 'modify_group_base_info', { GroupId: pub, Name: 'x'.repeat(101) }), 10004, 'over 100 bytes');
    assert.equal(await code(a, 'modify_group_base_info', { GroupId: pub, Name: '' }), 10004);
    assert.equal(await code(a, 'modify_group_base_info', { GroupId: pub, ApplyJoinOption: 'Whenever' }), 10004);
    assert.equal(await code(a, 'modify_group_base_info', { GroupId: pub, ShutUpAllMember: 'On' }), 10004);
    await ok(a, 'modify_group_base_info', { GroupId: pub, ShutUpAllMember: 'Off' });
    // Any member of a Work group may change its profile, not its ApplyJoinOption.
    const work = await create(a, 'Private', ['gc-u2']);
    await ok(b, 'modify_group_base_info', { GroupId: work, Introduction: 'by a member' });
    assert.deepEqual((await waitTip(a, TIPS, 6, work)).MsgBody.MsgGroupNewInfo, { GroupIntroduction: 'by a member' });
    assert.equal(suite.t.server.groups.get(suite.t.app.sdkAppId, work).introduction, 'by a member');
    assert.equal(await code(b, 'modify_group_base_info', { GroupId: work, ApplyJoinOption: 'FreeAccess' }), 10004);
  });

  it('answers wrong-typed bodies with 20001', async () => {
    const a = await user('gc-w1');
    const id = await create(a, 'Private', []);
    const cases: Array<[string, unknown]> = [
      ['get_group_member_info', { GroupId: 5, Limit: 15 }],
      ['get_group_member_info', { GroupId: id, Limit: 'all' }],
      ['get_specified_group_member_info', { GroupId: id, Member_List_Account: 'gc-w1' }],
      ['add_group_member', { GroupId: id, MemberList: ['gc-w1'] }],
      ['delete_group_member', { GroupId: id, MemberToDel_Account: [1] }],
      ['quit_group', {}],
      ['destroy_group', { GroupId: ['x'] }],
      ['apply_join_group', { GroupId: id, ApplyMsg: 7 }],
      ['modify_group_base_info', { GroupId: id, Name: { text: 'x' } }],
    ];
    for (const [cmd, body] of cases) {
      const r = await req(a, cmd, body);
      assert.equal(r.ErrorCode, 20001, `${cmd} ${JSON.stringify(body)}: ${JSON.stringify(r)}`);
      assert.equal(typeof r.ErrorInfo, 'string');
    }
    assert.deepEqual(await members(a, id), ['gc-w1:Owner'], 'still serving');
  });
});
