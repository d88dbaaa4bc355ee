// C2C conversations on the wire, as @tencentcloud/chat 3.6.6 asks for them: the conversation list
// (recentcontact.page_get), unread counts at login (openim.getmsg), history (openim.getroammsg) and read marks
// (openim.msgreaded, openim.get_peer_read_time), on a real server over real WebSockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatSuite } from '../../../test/helpers/chat-suite.ts';
import type { ChatWsClient } from '../../../test/helpers/chat-ws-client.ts';
import { CONV_PAGE } from './conversation-commands.ts';
import { ChatErrors } from './errors.ts';

type Body = Record<string, unknown>;
type Item = Record<string, unknown> & { MsgBody: Array<{ MsgContent: { Text: string } }> };

/** page_get's request as the SDK sends it at login. */
const pageGet = (from: string, o: { TimeStamp?: number; StartIndex?: number } = {}) => ({
  From_Account: from,
  TimeStamp: o.TimeStamp ?? 0,
  StartIndex: o.StartIndex ?? 0,
  TopTimeStamp: 0,
  TopStartIndex: 0,
  OrderType: 1,
  MsgAssistFlags: 15,
  AssistFlags: 31,
});
/** getroammsg's request as conversation.getMessageList sends it. */
const roam = (peer: string, o: { MaxCnt?: number; LastMsgTime?: number; MsgKey?: string; GetDirection?: number } = {}) => ({
  Peer_Account: peer,
  MaxCnt: o.MaxCnt ?? 15,
  LastMsgTime: o.LastMsgTime ?? 0,
  MsgKey: o.MsgKey ?? '',
  WithRecalledMsg: 1,
  ...(o.GetDirection !== undefined ? { GetDirection: o.GetDirection } : {}),
});
const readed = (peer: string, time: number) => ({ C2CMsgReaded: { Cookie: '', C2CMsgReadedItem: [{ To_Account: peer, LastedMsgTime: time, Receipt: 1 }] } });
const texts = (r: Body) => (r.MsgList as Item[]).map((m) => m.MsgBody[0]!.MsgContent.Text);
const sessions = (r: Body) => r.SessionItem as Array<Record<string, unknown>>;
const now = () => Math.floor(Date.now() / 1000);

describe('Chat gateway: conversations, history and read marks', () => {
  const suite = chatSuite();
  const user = (userId: string) => suite.login(userId);
  const ok = async (c: ChatWsClient, servcmd: string, body: unknown) => {
    const r = await c.request(servcmd, body);
    assert.equal(r.ErrorCode, 0, `${servcmd}: ${JSON.stringify(r)}`);
    return r;
  };
  const send = (c: ChatWsClient, to: string, text: string) => ok(c, 'openim.sendmsg', { To_Account: to, MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] });
  // Many messages at once go through the service: a socket may send at most 100 frames a second.
  const stored = (from: string, to: string, text: string) =>
    suite.t.server.messages.sendC2C({ sdkAppId: suite.t.app.sdkAppId, from, to, body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] });
  const imported = async (...userIds: string[]) => {
    for (let i = 0; i < userIds.length; i += 100) await suite.t.server.accounts.importMany(suite.t.app.sdkAppId, userIds.slice(i, i + 100).map((userId) => ({ userId })));
  };

  it('offline messages: the conversation is listed with its last message, unread counts come with getmsg, history pages back, msgreaded clears them', async () => {
    await imported('cv-b');
    const a = await user('cv-a');
    const c = await user('cv-c');
    for (let i = 1; i <= 5; i++) await send(a, 'cv-b', `a${i}`);
    await send(c, 'cv-b', 'c1');
    await send(a, 'cv-c', 'a to c');

    // cv-b logs in: the conversation list, newest first.
    const b = await user('cv-b');
    const list = await ok(b, 'recentcontact.page_get', pageGet('cv-b'));
    assert.equal(list.CompleteFlag, 1);
    assert.equal(list.StartIndex, 0);
    assert.ok(Math.abs(Number(list.TimeStamp) - now()) <= 2);
    assert.deepEqual([list.TopTimeStamp, list.TopStartIndex], [0, 0]);
    const items = sessions(list);
    assert.deepEqual(items.map((v) => [v.Type, v.To_Account, v.UnreadMsgCount, v.LastC2CMsgFromAccount]), [
      [1, 'cv-c', 1, 'cv-c'],
      [1, 'cv-a', 5, 'cv-a'],
    ]);
    const withA = items[1]!;
    assert.deepEqual(withA.LastMsg, {
      From_Account: 'cv-a',
      To_Account: 'cv-b',
      MsgSeq: withA.MsgSeq,
      MsgRandom: withA.MsgRandom,
      MsgTimeStamp: withA.MsgTimeStamp,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'a5' } }],
      CloudCustomData: '',
    });
    assert.equal(withA.MsgKey, `${withA.MsgSeq}_${withA.MsgRandom}_${withA.MsgTimeStamp}`);
    assert.equal(withA.C2cPeerReadTime, 0);
    // The sender's list has both its conversations, nothing unread.
    assert.deepEqual(sessions(await ok(a, 'recentcontact.page_get', pageGet('cv-a'))).map((v) => [v.To_Account, v.UnreadMsgCount, v.LastC2CMsgFromAccount]), [
      ['cv-c', 0, 'cv-a'],
      ['cv-b', 0, 'cv-a'],
    ]);

    // The login's sync: the messages and, in a reply that asks for more, each conversation's unread count.
    const sync1 = await ok(b, 'openim.getmsg', { Cookie: '', SyncFlag: 0, NeedAbstract: 1, IsOnlineSync: 0, NeedSignaling: 1, NeedCachedMsg: 1 });
    assert.equal(sync1.SyncFlag, 1);
    assert.deepEqual(texts(sync1), ['a1', 'a2', 'a3', 'a4', 'a5', 'c1']);
    assert.deepEqual(sync1.C2CPairUnreadCount, [
      { From_Account: 'cv-c', UnreadCount: 1 },
      { From_Account: 'cv-a', UnreadCount: 5 },
    ]);
    const sync2 = await ok(b, 'openim.getmsg', { Cookie: sync1.Cookie, SyncFlag: 1 });
    assert.deepEqual([sync2.SyncFlag, sync2.MsgList, sync2.C2CPairUnreadCount], [2, [], undefined]);

    // History, newest page first, each page oldest first; the reply's LastMsgTime + MsgKey continue it.
    const h1 = await ok(b, 'openim.getroammsg', roam('cv-a', { MaxCnt: 2 }));
    assert.deepEqual([texts(h1), h1.Complete], [['a4', 'a5'], 0]);
    const first = (h1.MsgList as Item[])[0]!;
    assert.deepEqual([h1.LastMsgTime, h1.MsgKey], [first.MsgTimeStamp, first.MsgKey]);
    assert.deepEqual([first.From_Account, first.To_Account, first.IsSyncMsg], ['cv-a', 'cv-b', 0]);
    const h2 = await ok(b, 'openim.getroammsg', roam('cv-a', { MaxCnt: 2, LastMsgTime: Number(h1.LastMsgTime), MsgKey: String(h1.MsgKey) }));
    assert.deepEqual([texts(h2), h2.Complete], [['a2', 'a3'], 0]);
    const h3 = await ok(b, 'openim.getroammsg', roam('cv-a', { MaxCnt: 2, LastMsgTime: Number(h2.LastMsgTime), MsgKey: String(h2.MsgKey) }));
    assert.deepEqual([texts(h3), h3.Complete], [['a1'], 1]);
    // Towards newer messages (GetDirection 1): after the key, oldest first.
    const n1 = await ok(b, 'openim.getroammsg', roam('cv-a', { MaxCnt: 3, LastMsgTime: Number(h3.LastMsgTime), MsgKey: String(h3.MsgKey), GetDirection: 1 }));
    assert.deepEqual([texts(n1), n1.Complete], [['a2', 'a3', 'a4'], 0]);
    // The sender sees the same messages, as sent: From itself, not a sync copy.
    const mine = await ok(a, 'openim.getroammsg', roam('cv-b'));
    assert.deepEqual([texts(mine), mine.Complete], [['a1', 'a2', 'a3', 'a4', 'a5'], 1]);
    assert.deepEqual((mine.MsgList as Item[]).map((m) => [m.From_Account, m.To_Account, m.IsSyncMsg]), Array(5).fill(['cv-a', 'cv-b', 0]));

    // setMessageRead on C2Ccv-a: its unread count goes, cv-c's stays; cv-a learns when cv-b read.
    const readAt = Number(withA.MsgTimeStamp);
    assert.deepEqual(await ok(b, 'openim.msgreaded', readed('cv-a', readAt)), { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    assert.deepEqual(sessions(await ok(b, 'recentcontact.page_get', pageGet('cv-b'))).map((v) => [v.To_Account, v.UnreadMsgCount]), [
      ['cv-c', 1],
      ['cv-a', 0],
    ]);
    assert.equal(sessions(await ok(a, 'recentcontact.page_get', pageGet('cv-a')))[1]!.C2cPeerReadTime, readAt);
    assert.deepEqual((await ok(a, 'openim.get_peer_read_time', { To_Account: ['cv-b', 'cv-c'] })).ReadTime, [readAt, 0]);
    // A new login of cv-b hears of cv-c's message alone.
    const b2 = await user('cv-b');
    const again = await ok(b2, 'openim.getmsg', { Cookie: '' });
    assert.deepEqual([again.SyncFlag, again.MsgList, again.C2CPairUnreadCount], [1, [], [{ From_Account: 'cv-c', UnreadCount: 1 }]]);
    assert.equal((await ok(b2, 'openim.getmsg', { Cookie: again.Cookie })).SyncFlag, 2);
    // Nothing unread: the first getmsg reply ends the sync, as before.
    await ok(b2, 'openim.msgreaded', readed('cv-c', 0));
    const b3 = await user('cv-b');
    const none = await ok(b3, 'openim.getmsg', { Cookie: '' });
    assert.deepEqual([none.SyncFlag, none.C2CPairUnreadCount], [2, undefined]);
  });

  it('page_get pages by StartIndex with CompleteFlag 0, then lists only what changed since the TimeStamp it ended with', async () => {
    const peers = Array.from({ length: CONV_PAGE + 1 }, (_, i) => `cvp-${i}`);
    await imported(...peers);
    const m = await user('cv-many');
    for (const p of peers) await stored('cv-many', p, `to ${p}`);
    const p1 = await ok(m, 'recentcontact.page_get', pageGet('cv-many'));
    assert.deepEqual([p1.CompleteFlag, p1.TimeStamp, p1.StartIndex, sessions(p1).length], [0, 0, CONV_PAGE, CONV_PAGE]);
    assert.equal(sessions(p1)[0]!.To_Account, `cvp-${CONV_PAGE}`, 'the newest first');
    const p2 = await ok(m, 'recentcontact.page_get', pageGet('cv-many', { TimeStamp: Number(p1.TimeStamp), StartIndex: Number(p1.StartIndex) }));
    assert.deepEqual([p2.CompleteFlag, p2.StartIndex, sessions(p2).map((v) => v.To_Account)], [1, 0, ['cvp-0']]);
    // After a reconnect the SDK sends the last TimeStamp again: conversations with a message since then (that second
    // included), newest first.
    await send(m, 'cvp-7', 'again');
    const inc = await ok(m, 'recentcontact.page_get', pageGet('cv-many', { TimeStamp: Number(p2.TimeStamp) }));
    const since = sessions(inc)[0]!;
    assert.deepEqual([since.To_Account, (since.LastMsg as Item).MsgBody[0]!.MsgContent.Text], ['cvp-7', 'again']);
    const later = await ok(m, 'recentcontact.page_get', pageGet('cv-many', { TimeStamp: now() + 60 }));
    assert.deepEqual([later.CompleteFlag, sessions(later)], [1, []]);
    // A StartIndex past the end: an empty, complete page.
    const past = await ok(m, 'recentcontact.page_get', pageGet('cv-many', { StartIndex: 1e12 }));
    assert.deepEqual([past.CompleteFlag, sessions(past)], [1, []]);
  });

  it('refuses wrong types (INVALID_PARAMETER); an unknown peer has no history; oversized counts are clamped', async () => {
    await imported('cv-y');
    const x = await user('cv-x');
    const bad: Array<[string, unknown]> = [
      ['recentcontact.page_get', { TimeStamp: 'yesterday' }],
      ['recentcontact.page_get', { StartIndex: -1 }],
      ['openim.getroammsg', {}],
      ['openim.getroammsg', { Peer_Account: 5 }],
      ['openim.getroammsg', { Peer_Account: '' }],
      ['openim.getroammsg', { Peer_Account: 'cv-y', MaxCnt: '15' }],
      ['openim.getroammsg', { Peer_Account: 'cv-y', LastMsgTime: -1 }],
      ['openim.getroammsg', { Peer_Account: 'cv-y', MsgKey: 'not-a-key' }],
      ['openim.getroammsg', { Peer_Account: 'cv-y', GetDirection: 2 }],
      ['openim.msgreaded', {}],
      ['openim.msgreaded', { C2CMsgReaded: { C2CMsgReadedItem: 'cv-y' } }],
      ['openim.msgreaded', { C2CMsgReaded: { C2CMsgReadedItem: [{ To_Account: 'cv-y', LastedMsgTime: 'now' }] } }],
      ['openim.get_peer_read_time', { To_Account: 'cv-y' }],
    ];
    for (const [servcmd, body] of bad) {
      const r = await x.request(servcmd, body);
      assert.equal(r.ErrorCode, ChatErrors.INVALID_PARAMETER.code, `${servcmd} ${JSON.stringify(body)}: ${JSON.stringify(r)}`);
      assert.equal(typeof r.ErrorInfo, 'string');
    }
    // A peer that does not exist: no history, no conversation, a read mark that is not kept.
    const ghost = await ok(x, 'openim.getroammsg', roam('cv-nobody'));
    assert.deepEqual([ghost.Complete, ghost.MsgList, ghost.LastMsgTime, ghost.MsgKey], [1, [], 0, '']);
    await ok(x, 'openim.msgreaded', readed('cv-nobody', now()));
    assert.deepEqual((await ok(x, 'openim.get_peer_read_time', { To_Account: ['cv-nobody'] })).ReadTime, [0]);
    assert.deepEqual(sessions(await ok(x, 'recentcontact.page_get', pageGet('cv-x'))), []);
    // MaxCnt beyond 100 gives 100; 0 gives the SDK's default 15.
    for (let i = 0; i < 105; i++) await stored('cv-x', 'cv-y', `m${i}`);
    const big = await ok(x, 'openim.getroammsg', roam('cv-y', { MaxCnt: 1_000_000 }));
    assert.deepEqual([(big.MsgList as Item[]).length, big.Complete, texts(big)[0]], [100, 0, 'm5']);
    assert.equal(((await ok(x, 'openim.getroammsg', roam('cv-y', { MaxCnt: 0 }))).MsgList as Item[]).length, 15);
    // Read marks in the future stop at now.
    await ok(x, 'openim.msgreaded', readed('cv-y', 0xffffffff));
    const y = await user('cv-y');
    const [readTime] = (await ok(y, 'openim.get_peer_read_time', { To_Account: ['cv-x'] })).ReadTime as number[];
    assert.ok(readTime! <= now() && readTime! >= now() - 5);
  });
});
