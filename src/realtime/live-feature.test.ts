import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Msg, RtcTestClient } from '../../test/helpers/rtc-client.ts';
import { rtcSuite } from '../../test/helpers/rtc-suite.ts';
import { RtcErrors } from './protocol.ts';

describe('/rtc live rooms', () => {
  let id: number;
  const suite = rtcSuite({
    async setup(t) {
      id = t.app.sdkAppId;
      await t.server.apps.update(id, { rateLimits: 'off' });
      await t.server.accounts.importMany(id, ['host', 'admin1'].map((userId) => ({ userId })));
      await t.server.gifts.addGift(id, { giftId: 'rose', coins: 3, defaultName: 'Rose' });
    },
  });
  const login = async (userId: string) => (await suite.login(userId)).client;
  const kinds = (c: RtcTestClient) => c.inbox.filter((m) => m.type === 'live.event').map((m) => m.kind);

  it('an audience member receives gifts, messages, seats, mutes and the destroy, in order', async () => {
    await suite.t.server.live.create(id, 'live-1', 'host', {});
    const v = await login('viewer1');
    const entered = await v.request('live.enter', { roomId: 'live-1' });
    assert.equal(entered.ok, true, JSON.stringify(entered));
    assert.equal((entered.room as Msg).owner, 'host');
    assert.equal((entered.room as Msg).viewCount, 1);
    assert.equal(suite.t.server.live.get(id, 'live-1').viewCount, 1);
    // From the REST API: a gift, a text message, a custom message, a seat, a mute.
    const rest = async (cmd: string, body: Msg) => {
      const r = await suite.t.rest(`live_engine_http_srv/${cmd}`, body);
      assert.equal(r.ErrorCode, 0, `${cmd}: ${JSON.stringify(r)}`);
    };
    await rest('send_gift', { RoomId: 'live-1', GiftId: 'rose', From_Account: 'admin1', ReceiverList_Account: ['host'], Count: 2 });
    await suite.t.server.live.sendText(id, 'live-1', 'admin1', 'hello room');
    await suite.t.server.live.sendCustom(id, 'live-1', 'admin1', 'biz', '{"x":1}');
    await suite.t.server.live.enter(id, 'live-1', 'admin1');
    await suite.t.server.live.pickOnSeat(id, 'live-1', 'admin1', 1);
    await suite.t.server.live.mute(id, 'live-1', ['viewer1'], 60);
    const gift = await v.event('live.event');
    assert.equal(gift.kind, 'gift');
    assert.deepEqual([(gift.data as Msg).giftId, (gift.data as Msg).count, (gift.data as Msg).from], ['rose', 2, 'admin1']);
    const text = await v.event('live.event');
    assert.deepEqual([text.kind, (text.data as Msg).text, (text.data as Msg).sender], ['text', 'hello room', 'admin1']);
    assert.equal((await v.event('live.event')).kind, 'custom');
    assert.equal((await v.event('live.event')).kind, 'seat');
    assert.equal((await v.event('live.event')).kind, 'mute');
    // Muted: cannot send.
    assert.equal((await v.request('live.text', { roomId: 'live-1', text: 'can I talk?' })).code, RtcErrors.MUTED.code);
    await suite.t.server.live.mute(id, 'live-1', ['viewer1'], 0);
    await v.event('live.event');
    const sent = await v.request('live.text', { roomId: 'live-1', text: 'now I can' });
    assert.equal(sent.ok, true, JSON.stringify(sent));
    assert.equal((await v.event('live.event')).kind, 'text');
    // A client gift: the same record and event as send_gift.
    assert.equal((await v.request('live.gift', { roomId: 'live-1', giftId: 'rose' })).ok, true);
    const own = await v.event('live.event');
    assert.deepEqual([own.kind, (own.data as Msg).from, (own.data as Msg).receivers], ['gift', 'viewer1', ['host']]);
    assert.equal((await suite.t.server.gifts.getGiftCount(id, 'live-1', 'host')).totalCount, 3);
    assert.equal((await v.request('live.gift', { roomId: 'live-1', giftId: 'tulip' })).code, 102002);
    await suite.t.server.live.destroy(id, 'live-1');
    assert.equal((await v.event('live.event')).kind, 'destroyed');
    assert.deepEqual(await v.event('live.removed'), { v: 1, type: 'live.removed', roomId: 'live-1', reason: 'destroyed' });
    assert.equal((await v.request('live.text', { roomId: 'live-1', text: 'gone?' })).code, RtcErrors.NOT_IN_ROOM.code);
    assert.deepEqual(kinds(v), []);
  });

  it('a banned user is removed at once and refused on entry; others keep receiving', async () => {
    await suite.t.server.live.create(id, 'live-2', 'host', {});
    const a = await login('viewer2a');
    const b = await login('viewer2b');
    await a.request('live.enter', { roomId: 'live-2' });
    await b.request('live.enter', { roomId: 'live-2' });
    await suite.t.server.live.ban(id, 'live-2', ['viewer2a'], 600, 'spam');
    assert.equal((await a.event('live.event')).kind, 'ban');
    assert.deepEqual(await a.event('live.removed'), { v: 1, type: 'live.removed', roomId: 'live-2', reason: 'banned' });
    assert.equal((await a.request('live.enter', { roomId: 'live-2' })).code, RtcErrors.BANNED.code);
    assert.equal((await b.event('live.event')).kind, 'ban');
    await b.request('live.custom', { roomId: 'live-2', businessId: 'like', data: '1' });
    assert.equal((await b.event('live.event')).kind, 'custom');
    assert.equal(a.inbox.some((m) => m.kind === 'custom'), false);
    assert.equal(suite.t.server.rtc.live.audience(id, 'live-2'), 1);
  });

  it('messages disabled: only the owner speaks; seats from clients; refusals', async () => {
    await suite.t.server.live.create(id, 'live-3', 'host', { IsMessageDisabled: true, IsSeatEnabled: true });
    const h = await login('host');
    const v = await login('viewer3');
    await h.request('live.enter', { roomId: 'live-3' });
    await v.request('live.enter', { roomId: 'live-3' });
    assert.equal((await v.request('live.text', { roomId: 'live-3', text: 'hi' })).code, RtcErrors.MUTED.code);
    assert.equal((await h.request('live.text', { roomId: 'live-3', text: 'welcome' })).ok, true);
    assert.equal((await v.event('live.event')).kind, 'text');
    assert.deepEqual((await v.request('live.takeSeat', { roomId: 'live-3', index: 0 })).seated, true);
    assert.equal((await h.event('live.event')).kind, 'text');
    assert.deepEqual((await h.event('live.event')).data, { user: 'viewer3', index: 0, action: 'take' });
    assert.equal((await v.request('live.leaveSeat', { roomId: 'live-3' })).ok, true);
    assert.equal((await v.request('live.leave', { roomId: 'live-3' })).ok, true);
    assert.equal((await v.request('live.leave', { roomId: 'live-3' })).code, RtcErrors.NOT_IN_ROOM.code);
    assert.equal((await v.request('live.enter', { roomId: 'no-such-room' })).code, RtcErrors.NOT_FOUND.code);
    for (const bad of [{}, { roomId: 5 }, { roomId: '' }, { roomId: 'x'.repeat(49) }]) {
      assert.equal((await v.request('live.enter', bad)).code, RtcErrors.INVALID_ARGUMENT.code, JSON.stringify(bad));
    }
    assert.equal((await v.request('live.text', { roomId: 'live-3', text: 'x'.repeat(13 * 1024) })).code, RtcErrors.INVALID_ARGUMENT.code);
    assert.equal((await v.request('live.gift', { roomId: 'live-3', giftId: 'rose' })).code, RtcErrors.NOT_IN_ROOM.code);
  });

  it('live.create: the user opens a room as its owner and is in it; refusals', async () => {
    const h = await login('creator1');
    const r = await h.request('live.create', { roomId: 'made-by-client', name: 'My live', seatCount: 6 });
    assert.equal(r.ok, true, JSON.stringify(r));
    const room = r.room as Msg;
    assert.deepEqual([room.roomId, room.owner, (room.info as Msg).RoomName, (room.seats as Msg[]).length], ['made-by-client', 'creator1', 'My live', 6]);
    assert.deepEqual(suite.t.server.live.members(id, 'made-by-client').map((m) => m.userId), ['creator1']);
    // The room works like any other: a viewer's message reaches the owner.
    const v = await login('viewer4');
    await v.request('live.enter', { roomId: 'made-by-client' });
    await v.request('live.text', { roomId: 'made-by-client', text: 'hi host' });
    assert.equal(((await h.event('live.event')).data as Msg).text, 'hi host');
    // Taken ids, a room made again within a second of the last one, and bad fields.
    assert.equal((await v.request('live.create', { roomId: 'made-by-client' })).code, RtcErrors.LIVE_ROOM_EXISTS.code);
    assert.equal((await v.request('live.create', { roomId: 'live-3' })).code, RtcErrors.LIVE_ROOM_EXISTS.code);
    await suite.t.server.live.destroy(id, 'made-by-client');
    assert.equal((await h.request('live.create', { roomId: 'made-by-client' })).code, RtcErrors.CREATE_TOO_FREQUENT.code);
    for (const bad of [{}, { roomId: 7 }, { roomId: '' }, { roomId: 'x'.repeat(49) }, { roomId: 'ok-id', name: 1 }, { roomId: 'ok-id', name: 'n'.repeat(101) }, { roomId: 'ok-id', seatCount: 0 }, { roomId: 'ok-id', seatCount: 17 }, { roomId: 'ok-id', seatCount: 2.5 }]) {
      assert.equal((await v.request('live.create', bad)).code, RtcErrors.INVALID_ARGUMENT.code, JSON.stringify(bad));
    }
    assert.equal(suite.t.server.live.all(id).some((x) => x.roomId === 'ok-id'), false);
  });

  it('live.gifts lists the app’s gift catalogue; refused when gifts are off', async () => {
    const v = await login('viewer5');
    const r = await v.request('live.gifts', {});
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.gifts, [{ giftId: 'rose', name: 'Rose', desc: '', coins: 3, level: 0, iconUrl: '', resourceUrl: '' }]);
    await suite.t.server.apps.update(id, { 'features.gift': false });
    try {
      assert.equal((await v.request('live.gifts', {})).code, 102001);
    } finally {
      await suite.t.server.apps.update(id, { 'features.gift': true });
    }
  });
});
