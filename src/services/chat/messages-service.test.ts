import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CHAT_STORES, closeChat, freshChat, openChat, textBody, type ChatServices, type ChatTarget } from '../../../test/helpers/chat-services.ts';
import { detail } from '../../../test/helpers/domain-error.ts';
import { CHAT_TOPIC, MAX_MESSAGE_BYTES, msgKey, type ChatEvent, type MsgElement } from './message.ts';

const APP = 1400000001;

for (const { kind, skip } of CHAT_STORES) {
  describe(`on ${kind}`, { skip }, () => {
    let target: ChatTarget;
    let c: ChatServices;
    beforeEach(async () => ({ target, c } = await freshChat(kind, APP, ['u1', 'u2', 'u3'])));
    afterEach(() => closeChat(c, target));

    const send = (from: string, to: string, t: string, extra: object = {}) => c.messages.sendC2C({ sdkAppId: APP, from, to, body: textBody(t), ...extra });
    const texts = (page: { messages: Array<{ body: MsgElement[] }> }) => page.messages.map((m) => m.body[0]!.MsgContent.Text);

    describe('MessagesService.sendC2C', () => {
      it('stores the message, then publishes it; the server fills time, MsgSeq (per sender, from 1) and MsgRandom', async () => {
        const seen: Array<{ event: ChatEvent; stored: number }> = [];
        c.bus.subscribe(CHAT_TOPIC, (p) => {
          const event = p as ChatEvent;
          // Published after the write: the recipient's sync already finds it.
          void c.store.chat.c2cAfter(APP, 'u2', 0, 10).then((rows) => seen.push({ event, stored: rows.length }));
        });
        const before = Math.floor(Date.now() / 1000);
        const m1 = await send('u1', 'u2', 'hello', { cloudCustomData: 'ccd' });
        const m2 = await send('u1', 'u2', 'again');
        const m3 = await send('u3', 'u2', 'other sender');
        assert.ok(m1.id > 0 && m2.id > m1.id);
        assert.deepEqual([m1.seq, m2.seq, m3.seq], [1, 2, 1]);
        assert.ok(m1.time >= before && m1.time <= before + 2);
        assert.equal(m1.clientTime, m1.time);
        assert.ok(Number.isInteger(m1.random) && m1.random >= 0 && m1.random <= 0xffffffff);
        assert.equal(m1.cloudCustomData, 'ccd');
        assert.equal(msgKey(m1), `1_${m1.random}_${m1.time}`);
        await new Promise((r) => setTimeout(r, 20));
        assert.equal(seen.length, 3);
        assert.deepEqual(seen[0]!.event, { kind: 'c2c', message: m1, syncSender: false });
        assert.ok(seen[0]!.stored >= 1);
      });

      it('keeps the caller MsgSeq, MsgRandom and client time', async () => {
        const m = await send('u1', 'u2', 'x', { seq: 3833470001, random: 21084261, clientTime: 1796459627, syncSender: true });
        assert.deepEqual([m.seq, m.random, m.clientTime], [3833470001, 21084261, 1796459627]);
      });

      it('refuses accounts that are not imported (UNKNOWN_ACCOUNT), in either place', async () => {
        await assert.rejects(send('u1', 'ghost', 'x'), detail('UNKNOWN_ACCOUNT'));
        await assert.rejects(send('ghost', 'u1', 'x'), detail('UNKNOWN_ACCOUNT'));
        await assert.rejects(c.messages.sendC2C({ sdkAppId: APP + 1, from: 'u1', to: 'u2', body: textBody('other app') }), detail('UNKNOWN_ACCOUNT'));
      });

      it('refuses a body that is empty, not an array, of unknown element types or malformed (BAD_BODY), or oversized (BODY_TOO_LARGE)', async () => {
        const bodies: unknown[] = [
          [],
          {},
          'hi',
          [{ MsgType: 'TIMBogusElem', MsgContent: {} }],
          [{ MsgType: 'TIMTextElem' }],
          [{ MsgType: 'TIMTextElem', MsgContent: { Text: 5 } }],
          [{ MsgType: 'TIMCustomElem', MsgContent: { Data: {} } }],
          [null],
        ];
        for (const body of bodies) {
          await assert.rejects(c.messages.sendC2C({ sdkAppId: APP, from: 'u1', to: 'u2', body: body as MsgElement[] }), detail('BAD_BODY'), JSON.stringify(body).slice(0, 80));
        }
        await assert.rejects(send('u1', 'u2', 'x'.repeat(MAX_MESSAGE_BYTES)), detail('BODY_TOO_LARGE'));
        await assert.rejects(send('u1', 'u2', 'x', { cloudCustomData: 'c'.repeat(MAX_MESSAGE_BYTES) }), detail('BODY_TOO_LARGE'));
        await assert.rejects(send('u1', 'u2', 'x', { seq: -1 }), /MsgSeq/);
        await assert.rejects(send('u1', 'u2', 'x', { random: 2 ** 32 }), /MsgRandom/);
        const custom = await c.messages.sendC2C({ sdkAppId: APP, from: 'u1', to: 'u2', body: [{ MsgType: 'TIMCustomElem', MsgContent: { Data: 'd', Desc: '', Ext: 'e', Sound: '' } }] });
        assert.equal(custom.body[0]!.MsgType, 'TIMCustomElem');
        assert.equal((await c.messages.sync(APP, 'u2', '')).messages.length, 1);
      });

      it('publishes an online-only message without storing it', async () => {
        const seen: ChatEvent[] = [];
        c.bus.subscribe(CHAT_TOPIC, (p) => seen.push(p as ChatEvent));
        const m = await send('u1', 'u2', 'typing…', { onlineOnly: true });
        assert.deepEqual([m.id, m.onlineOnly, seen.length], [0, true, 1]);
        assert.deepEqual((await c.messages.sync(APP, 'u2', '')).messages, []);
      });
    });

    describe('MessagesService.sync and delivered', () => {
      it('pages a user\'s messages oldest first by cookie, then moves the delivered cursor', async () => {
        for (let i = 1; i <= 5; i++) await send('u1', 'u2', `m${i}`);
        await send('u2', 'u1', 'not for u2');
        const p1 = await c.messages.sync(APP, 'u2', '', 2);
        assert.deepEqual([texts(p1), p1.more], [['m1', 'm2'], true]);
        assert.equal(p1.cookie, String(p1.messages[1]!.id));
        // More remained: the stored cursor did not move, so starting again gives the same page.
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '', 2)), ['m1', 'm2']);
        const p2 = await c.messages.sync(APP, 'u2', p1.cookie, 2);
        const p3 = await c.messages.sync(APP, 'u2', p2.cookie, 2);
        assert.deepEqual([texts(p2), p2.more, texts(p3), p3.more], [['m3', 'm4'], true, ['m5'], false]);
        // Nothing after: the cookie stays where it was; '' now starts after m5.
        const p4 = await c.messages.sync(APP, 'u2', p3.cookie);
        assert.deepEqual([p4.messages, p4.cookie, p4.more], [[], p3.cookie, false]);
        assert.deepEqual((await c.messages.sync(APP, 'u2', '')).messages, []);
        await send('u3', 'u2', 'later');
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '')), ['later']);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u1', '')), ['not for u2']);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '0', 100)), ['m1', 'm2', 'm3', 'm4', 'm5', 'later']);
      });

      it('delivered() advances the cursor and never moves it back', async () => {
        const ids: number[] = [];
        for (let i = 1; i <= 3; i++) ids.push((await send('u1', 'u3', `d${i}`)).id);
        await c.messages.delivered(APP, 'u3', ids[1]!);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u3', '')), ['d3']);
        await c.messages.delivered(APP, 'u3', ids[0]!);
        assert.deepEqual((await c.messages.sync(APP, 'u3', '')).messages, []);
        await assert.rejects(c.messages.delivered(APP, 'u3', -1), detail('BAD_COOKIE'));
      });

      it('keeps apps apart and refuses a cookie that is not a cursor (BAD_COOKIE)', async () => {
        await c.accounts.importMany(APP + 1, [{ userId: 'u1' }, { userId: 'u2' }]);
        await c.messages.sendC2C({ sdkAppId: APP + 1, from: 'u1', to: 'u2', body: textBody('app two') });
        await send('u1', 'u2', 'app one');
        assert.deepEqual(texts(await c.messages.sync(APP + 1, 'u2', '')), ['app two']);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '')), ['app one']);
        for (const bad of ['c-1', '-1', '1.5', 'x'.repeat(20)]) await assert.rejects(c.messages.sync(APP, 'u2', bad), detail('BAD_COOKIE'), bad);
      });

      it('keeps messages, cursors and each sender\'s MsgSeq across a restart', async () => {
        await send('u1', 'u2', 'before');
        await send('u1', 'u2', 'restart');
        const first = await c.messages.sync(APP, 'u2', '', 1);
        await c.close();
        c = await openChat(target.options);
        // The cursor was not stored (more was true): both are still there.
        const page = await c.messages.sync(APP, 'u2', '');
        assert.deepEqual([texts(page), page.more], [['before', 'restart'], false]);
        assert.equal(page.messages[0]!.id, first.messages[0]!.id);
        assert.deepEqual(page.messages[0]!.body, textBody('before'));
        const m = await send('u1', 'u2', 'after');
        assert.equal(m.seq, 3);
        await c.close();
        c = await openChat(target.options);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '')), ['after']);
      });
    });

    describe('MessagesService.conversations, history, markRead and peerReadTimes', () => {
      // Stored with a chosen time, as sendC2C would have stored them then.
      let seq = 0;
      const put = async (from: string, to: string, t: string, time: number) => {
        const body = textBody(t);
        const id = await c.store.chat.insertC2c({ sdk_app_id: APP, from_user: from, to_user: to, msg_seq: ++seq, msg_random: 7, msg_time: time, client_time: time, body: JSON.stringify(body), cloud_custom_data: '' });
        return { id, seq, random: 7, time };
      };
      const key = (m: { seq: number; random: number; time: number }) => msgKey(m);
      const T = 1_700_000_000;

      it('lists a user\'s conversations newest first, each with its last message either way and the unread count', async () => {
        await put('u2', 'u1', 'from u2', T);
        await put('u1', 'u2', 'to u2, last', T + 10);
        await put('u3', 'u1', 'from u3 1', T + 5);
        await put('u3', 'u1', 'from u3 2', T + 20);
        await put('u2', 'u3', 'not u1\'s', T + 30);
        const list = await c.messages.conversations(APP, 'u1', { limit: 10 });
        assert.deepEqual(
          list.map((v) => [v.peer, v.last.body[0]!.MsgContent.Text, v.last.from, v.unread, v.peerReadTime]),
          [
            ['u3', 'from u3 2', 'u3', 2, 0],
            ['u2', 'to u2, last', 'u1', 1, 0],
          ],
        );
        assert.equal(list[0]!.last.time, T + 20);
        // Paged by offset and limit; `since` keeps the conversations whose last message is at or after it.
        assert.deepEqual((await c.messages.conversations(APP, 'u1', { limit: 1, offset: 1 })).map((v) => v.peer), ['u2']);
        assert.deepEqual(await c.messages.conversations(APP, 'u1', { limit: 10, offset: 2 }), []);
        assert.deepEqual((await c.messages.conversations(APP, 'u1', { limit: 10, since: T + 11 })).map((v) => v.peer), ['u3']);
        assert.deepEqual((await c.messages.conversations(APP, 'u3', { limit: 10 })).map((v) => [v.peer, v.unread]), [['u2', 1], ['u1', 0]]);
        // Nobody else's, no other app's; a limit out of range is clamped.
        assert.deepEqual(await c.messages.conversations(APP, 'ghost', { limit: 10 }), []);
        assert.deepEqual(await c.messages.conversations(APP + 1, 'u1', { limit: 10 }), []);
        assert.equal((await c.messages.conversations(APP, 'u1', { limit: 0 })).length, 1);
        assert.equal((await c.messages.conversations(APP, 'u1', { limit: 1e9 })).length, 2);
        // Unread counts for many conversations at once.
        await c.accounts.importMany(APP, Array.from({ length: 100 }, (_, i) => ({ userId: `p${i}` })));
        for (let i = 0; i < 100; i++) await put(`p${i}`, 'u1', 'hi', T + 40 + (i % 3));
        await c.messages.markRead(APP, 'u1', 'p0', T + 40);
        await c.messages.markRead(APP, 'u1', 'p1', T + 40);
        const many = await c.messages.conversations(APP, 'u1', { limit: 1e9 });
        assert.equal(many.length, 102);
        assert.deepEqual(many.filter((v) => v.unread !== 1).map((v) => [v.peer, v.unread]), [['p0', 0], ['u3', 2]]);
        await assert.rejects(c.messages.conversations(APP, 'u1', { limit: 10, since: -1 }), detail('BAD_TIME'));
      });

      it('counts sendC2C messages too, and a conversation with oneself once, never unread', async () => {
        await send('u1', 'u2', 'a');
        await send('u2', 'u1', 'b');
        await send('u1', 'u1', 'note to self');
        const list = await c.messages.conversations(APP, 'u1', { limit: 10 });
        assert.deepEqual(list.map((v) => [v.peer, v.unread]), [['u1', 0], ['u2', 1]]);
      });

      it('markRead clears the unread count up to a time, never moves back, stops at now, and ignores unknown peers', async () => {
        await put('u2', 'u1', 'one', T);
        await put('u2', 'u1', 'two', T + 1);
        await put('u2', 'u1', 'three', T + 2);
        const unread = async () => (await c.messages.conversations(APP, 'u1', { limit: 10 }))[0]!.unread;
        assert.equal(await unread(), 3);
        assert.equal(await c.messages.markRead(APP, 'u1', 'u2', T + 1), true);
        assert.equal(await unread(), 1);
        await c.messages.markRead(APP, 'u1', 'u2', T);
        assert.equal(await unread(), 1, 'the mark did not move back');
        // u2 sees when u1 read its messages.
        assert.equal((await c.messages.conversations(APP, 'u2', { limit: 10 }))[0]!.peerReadTime, T + 1);
        assert.deepEqual(await c.messages.peerReadTimes(APP, 'u2', ['u1', 'u3', 'u1']), [T + 1, 0, T + 1]);
        await c.messages.markRead(APP, 'u1', 'u2');
        assert.equal(await unread(), 0);
        // A time in the future is taken as now: a later message is unread again.
        await c.messages.markRead(APP, 'u1', 'u3', Math.floor(Date.now() / 1000) + 3600);
        assert.ok((await c.messages.peerReadTimes(APP, 'u1', ['u3']))[0]! <= Math.floor(Date.now() / 1000));
        await put('u3', 'u1', 'in a minute', Math.floor(Date.now() / 1000) + 60);
        assert.equal((await c.messages.conversations(APP, 'u1', { limit: 10 }))[0]!.unread, 1);
        assert.equal(await c.messages.markRead(APP, 'u1', 'ghost', T), false);
        assert.deepEqual(await c.store.chat.readMarks(APP, ['u1'], ['ghost']), []);
        await assert.rejects(c.messages.markRead(APP, 'u1', 'u2', -5), detail('BAD_TIME'));
      });

      it('pages the history between two users backwards, oldest first in each page, by MsgKey or time', async () => {
        const ms = [];
        for (let i = 1; i <= 7; i++) ms.push(await put(i % 2 ? 'u1' : 'u2', i % 2 ? 'u2' : 'u1', `h${i}`, T + Math.floor(i / 2)));
        await put('u3', 'u1', 'other conversation', T + 100);
        const p1 = await c.messages.history(APP, 'u1', 'u2', { limit: 3 });
        assert.deepEqual([texts(p1), p1.complete], [['h5', 'h6', 'h7'], false]);
        const p2 = await c.messages.history(APP, 'u1', 'u2', { beforeKey: key(ms[4]!), limit: 3 });
        assert.deepEqual([texts(p2), p2.complete], [['h2', 'h3', 'h4'], false]);
        const p3 = await c.messages.history(APP, 'u2', 'u1', { beforeKey: key(ms[1]!), limit: 3 });
        assert.deepEqual([texts(p3), p3.complete], [['h1'], true]);
        // Seen from the other side, the same messages; a time alone includes that second (h4 and h5 share it).
        assert.deepEqual(texts(await c.messages.history(APP, 'u2', 'u1', { beforeTime: T + 2, limit: 10 })), ['h1', 'h2', 'h3', 'h4', 'h5']);
        // Towards newer messages: after a key, or after a time (exclusive).
        const n1 = await c.messages.history(APP, 'u1', 'u2', { afterKey: key(ms[3]!), limit: 2 });
        assert.deepEqual([texts(n1), n1.complete], [['h5', 'h6'], false]);
        assert.deepEqual(texts(await c.messages.history(APP, 'u1', 'u2', { afterTime: T + 2, limit: 10 })), ['h6', 'h7']);
        assert.deepEqual(texts(await c.messages.history(APP, 'u1', 'u2', { afterTime: 0, limit: 2 })), ['h1', 'h2']);
        // A key that names no message of the pair counts as its time.
        assert.deepEqual(texts(await c.messages.history(APP, 'u1', 'u2', { beforeKey: `999_1_${T + 1}`, limit: 10 })), ['h1', 'h2', 'h3']);
        // Limits are clamped; nobody's history is empty.
        assert.equal((await c.messages.history(APP, 'u1', 'u2', { limit: 0 })).messages.length, 1);
        assert.deepEqual(await c.messages.history(APP, 'u1', 'ghost', { limit: 10 }), { messages: [], complete: true });
        assert.deepEqual(await c.messages.history(APP, 'u1', 'u3', { limit: 10 }).then(texts), ['other conversation']);
        await assert.rejects(c.messages.history(APP, 'u1', 'u2', { beforeKey: 'nope', limit: 3 }), detail('BAD_KEY'));
        await assert.rejects(c.messages.history(APP, 'u1', 'u2', { beforeTime: 1, afterTime: 1, limit: 3 }), detail('BAD_BOUND'));
        await assert.rejects(c.messages.history(APP, 'u1', 'u2', { beforeTime: 1.5, limit: 3 }), detail('BAD_TIME'));
      });

      it('returns at most 100 messages a page, and pages through many in the same second without loss', async () => {
        for (let i = 0; i < 130; i++) await send(i % 2 ? 'u1' : 'u2', i % 2 ? 'u2' : 'u1', `b${i}`);
        const seen: unknown[] = [];
        let page = await c.messages.history(APP, 'u1', 'u2', { limit: 1000 });
        assert.equal(page.messages.length, 100);
        for (;;) {
          seen.unshift(...texts(page));
          if (page.complete) break;
          page = await c.messages.history(APP, 'u1', 'u2', { beforeKey: msgKey(page.messages[0]!), beforeTime: page.messages[0]!.time, limit: 7 });
        }
        assert.deepEqual(seen, Array.from({ length: 130 }, (_, i) => `b${i}`));
      });
    });
  });
}
