import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CHAT_STORES, chatTarget, openChat, type ChatServices, type ChatTarget } from '../../../test/helpers/chat-services.ts';
import { DomainError } from '../errors.ts';
import { CHAT_TOPIC, MAX_MESSAGE_BYTES, msgKey, type ChatEvent, type MsgElement } from './message.ts';

const APP = 1400000001;
const text = (t: string): MsgElement[] => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }];
const detail = (d: string) => (e: unknown) => e instanceof DomainError && e.detail === d;

for (const { kind, skip } of CHAT_STORES) {
  describe(`on ${kind}`, { skip }, () => {
    let target: ChatTarget;
    let c: ChatServices;
    beforeEach(async () => {
      target = await chatTarget(kind);
      c = await openChat(target.options);
      await c.accounts.importMany(APP, ['u1', 'u2', 'u3'].map((userId) => ({ userId })));
    });
    afterEach(async () => {
      await c.close();
      await target.cleanup();
    });

    const send = (from: string, to: string, t: string, extra: object = {}) => c.messages.sendC2C({ sdkAppId: APP, from, to, body: text(t), ...extra });
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
        await assert.rejects(c.messages.sendC2C({ sdkAppId: APP + 1, from: 'u1', to: 'u2', body: text('other app') }), detail('UNKNOWN_ACCOUNT'));
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
        await c.messages.sendC2C({ sdkAppId: APP + 1, from: 'u1', to: 'u2', body: text('app two') });
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
        assert.deepEqual(page.messages[0]!.body, text('before'));
        const m = await send('u1', 'u2', 'after');
        assert.equal(m.seq, 3);
        await c.close();
        c = await openChat(target.options);
        assert.deepEqual(texts(await c.messages.sync(APP, 'u2', '')), ['after']);
      });
    });
  });
}
