import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { DEFAULT_CONFIG } from '../../config.ts';
import { startServer } from '../../server.ts';
import { LIVE_TOPIC, type LiveEvent } from '../live/room.ts';
import { DomainError } from '../errors.ts';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { DEFAULT_CATALOGUE } from './default-catalogue.ts';
import { GiftErrors, type GiftsService } from './gifts-service.ts';

let t: TestServer;
let g: GiftsService;
let id: number;
let rx: Receiver;

/** Asserts that `p` rejects with a DomainError of this code (and detail, when given) whose message matches. */
async function refuses(p: Promise<unknown>, code: DomainError['code'], detail: string | undefined, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DomainError, String(e));
    assert.equal(e.code, code, e.message);
    if (detail !== undefined) assert.equal(e.detail, detail, e.message);
    assert.match(e.message, message);
    return true;
  });
}

const send = (over: Partial<Parameters<GiftsService['sendGift']>[0]> = {}) =>
  g.sendGift({ sdkAppId: id, roomId: 'room', giftId: 'rose', from: 'alice', receivers: ['host'], count: 1, ...over });

before(async () => {
  rx = await startReceiver();
  t = await startTestServer();
  g = t.server.gifts;
  id = t.app.sdkAppId;
  await t.server.accounts.importMany(id, ['alice', 'bob', 'carol', 'host'].map((userId) => ({ userId })));
  await t.server.live.create(id, 'room', 'host', {});
  await g.addGift(id, { giftId: 'rose', coins: 3, defaultName: 'Rose' });
});
after(async () => {
  await t.close();
  await rx.close();
});

describe('gift catalogue', () => {
  it('fills defaults: Level 0, empty urls, ExtensionInfo and DefaultDesc; DefaultName "" is accepted', async () => {
    const gift = await g.addGift(id, { giftId: 'plain', coins: 0, defaultName: '' });
    assert.deepEqual(gift, { giftId: 'plain', iconUrl: '', resourceUrl: '', coins: 0, level: 0, extensionInfo: '', defaultName: '', defaultDesc: '', languages: {} });
  });

  it('measures limits in UTF-8 bytes', async () => {
    await g.addGift(id, { giftId: '礼'.repeat(6), coins: 1, defaultName: '名'.repeat(6), defaultDesc: '述'.repeat(6) });
    await refuses(g.addGift(id, { giftId: '礼'.repeat(7), coins: 1, defaultName: 'x' }), 'INVALID_ARGUMENT', undefined, /GiftId is longer than 20 bytes/);
    await refuses(g.addGift(id, { giftId: 'x1', coins: 1, defaultName: 'x', extensionInfo: `"${'é'.repeat(50)}"` }), 'INVALID_ARGUMENT', undefined, /ExtensionInfo is longer than 100 bytes/);
  });

  it('set language is a partial update; deleting a gift drops its translations and relations atomically', async () => {
    await g.addGift(id, { giftId: 'tmp', coins: 1, defaultName: 'tmp' });
    await g.setGiftLanguage(id, 'tmp', 'zh-Hant', { name: '暫時', desc: '說明' });
    await g.setGiftLanguage(id, 'tmp', 'zh-Hant', { desc: '新說明' });
    assert.deepEqual(g.getGiftLanguage(id, 'tmp', 'zh-Hant'), { name: '暫時', desc: '新說明' });
    await g.setGiftLanguage(id, 'tmp', 'zh-Hant', { name: '改名' });
    assert.deepEqual(g.getGiftLanguage(id, 'tmp', 'zh-Hant'), { name: '改名', desc: '新說明' });
    await g.addCategory(id, { categoryId: 'c1', defaultName: 'c1' });
    await g.addCategory(id, { categoryId: 'c2', defaultName: 'c2' });
    await g.addRelations(id, 'c1', ['tmp', 'rose']);
    await g.addRelations(id, 'c2', ['tmp']);
    await g.delGift(id, 'tmp');
    assert.deepEqual(g.getRelations(id, 'c1'), ['rose']);
    assert.deepEqual(g.getRelations(id, 'c2'), []);
    const rows = await t.server.store.gifts.list('category', id);
    for (const r of rows) assert.ok(!(JSON.parse(r.info) as { giftIds: string[] }).giftIds.includes('tmp'), 'stored relations no longer name the gift');
    await refuses(Promise.resolve().then(() => g.getGift(id, 'tmp')), 'NOT_FOUND', GiftErrors.NOT_FOUND, /GiftId tmp does not exist/);
  });

  it('add relations: appends in order, ignores duplicates, lists unknown ids once', async () => {
    await g.addCategory(id, { categoryId: 'c3', defaultName: 'c3' });
    await g.addGift(id, { giftId: 'r1', coins: 1, defaultName: 'r1' });
    assert.deepEqual(await g.addRelations(id, 'c3', ['r1', 'x', 'x', 'r1', 'rose']), { invalid: ['x'] });
    assert.deepEqual(await g.addRelations(id, 'c3', ['rose', 'r1']), { invalid: [] });
    assert.deepEqual(g.getRelations(id, 'c3'), ['r1', 'rose']);
  });

  it('the default catalogue: 3 categories, 15 distinct gifts, every name within 20 bytes in every language', () => {
    assert.equal(DEFAULT_CATALOGUE.length, 3);
    const gifts = DEFAULT_CATALOGUE.flatMap((c) => c.gifts);
    assert.equal(gifts.length, 15);
    assert.equal(new Set(gifts.map((x) => x.id)).size, 15);
    for (const x of [...gifts, ...DEFAULT_CATALOGUE]) {
      for (const s of [x.name, x.desc, ...x.zhHans, ...x.zhHant]) assert.ok(s.length > 0 && Buffer.byteLength(s) <= 20, `${x.id}: "${s}"`);
    }
  });

  it('survives a restart: the catalogue is reloaded from the store', async () => {
    const server = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: 0, logLevel: 'silent' });
    try {
      assert.deepEqual(server.gifts.listGifts(id), g.listGifts(id));
      assert.deepEqual(server.gifts.listCategories(id), g.listCategories(id));
      assert.deepEqual(server.gifts.getGiftLanguage(id, '礼'.repeat(6), 'en'), { name: '', desc: '' });
    } finally {
      await server.close();
    }
  });
});

describe('sendGift: order of the checks', () => {
  it('feature before room before gift before room switch before the request shape before accounts before the callback', async () => {
    await t.server.live.create(id, 'off_room', 'host', { IsGiftEnabled: false });
    await t.server.apps.update(id, { 'features.gift': false });
    await refuses(send({ roomId: 'nope', giftId: 'nope' }), 'FAILED_PRECONDITION', GiftErrors.DISABLED, /gift feature is off/);
    await t.server.apps.update(id, { 'features.gift': true });
    await refuses(send({ roomId: 'nope', giftId: 'nope' }), 'NOT_FOUND', undefined, /room nope does not exist/);
    await refuses(send({ roomId: 'off_room', giftId: 'nope' }), 'NOT_FOUND', GiftErrors.NOT_FOUND, /GiftId nope/);
    await refuses(send({ roomId: 'off_room', count: 0, from: 'ghost' }), 'FAILED_PRECONDITION', GiftErrors.ROOM_DISABLED, /IsGiftEnabled/);
    await refuses(send({ count: 0, from: 'ghost' }), 'INVALID_ARGUMENT', undefined, /Count/);
    // An unknown account is refused before the app server is asked.
    await t.server.apps.update(id, { 'callback.url': rx.url });
    try {
      rx.all.length = 0;
      await refuses(send({ receivers: ['host', 'ghost'] }), 'INVALID_ARGUMENT', 'UNKNOWN_ACCOUNT', /ghost/);
      assert.equal(rx.all.length, 0);
      rx.respond(() => ({ status: 200, body: '{"ErrorCode":5}' }));
      await refuses(send(), 'FAILED_PRECONDITION', GiftErrors.CALLBACK_FAILED, /ErrorCode 5/);
      assert.equal(rx.all.length, 1);
    } finally {
      rx.respond(null);
      await t.server.apps.update(id, { 'callback.url': '' });
    }
  });
});

describe('sendGift: recording and counting', () => {
  it('commits the gift before publishing it; duplicate receivers count once', async () => {
    const events: LiveEvent[] = [];
    const order: string[] = [];
    const store = t.server.store as { transaction: typeof t.server.store.transaction };
    const transaction = store.transaction;
    store.transaction = async (fn) => {
      const r = await transaction(fn);
      order.push('committed');
      return r;
    };
    const off = t.server.bus.subscribe(LIVE_TOPIC, (e) => {
      const ev = e as LiveEvent;
      if (ev.type !== 'gift') return;
      events.push(ev);
      order.push('published');
    });
    try {
      const sent = await send({ receivers: ['bob', 'bob'], count: 4 });
      assert.deepEqual(sent.receivers, ['bob']);
    } finally {
      off();
      store.transaction = transaction;
    }
    assert.deepEqual(order, ['committed', 'published']);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.data.name, 'Rose');
    assert.deepEqual(await g.getGiftCount(id, 'room', 'bob'), { sequence: 1, totalCount: 4, totalCoins: 12, senderCount: 1 });
  });

  it('the coin price is the one at sending time; editing the gift later does not change past totals', async () => {
    await g.editGift(id, 'rose', { coins: 100 });
    await send({ receivers: ['carol'], count: 1 });
    await g.editGift(id, 'rose', { coins: 3 });
    await send({ receivers: ['carol'], count: 1 });
    assert.deepEqual(await g.getGiftCount(id, 'room', 'carol'), { sequence: 3, totalCount: 2, totalCoins: 103, senderCount: 1 });
  });

  it('group commit: gifts sent together share one transaction, and each caller resumes only after it committed', async () => {
    await t.server.live.create(id, 'batch', 'host', {});
    const store = t.server.store as { transaction: typeof t.server.store.transaction };
    const transaction = store.transaction;
    let commits = 0;
    let acked = 0;
    const seenAtCommit: number[] = [];
    store.transaction = async (fn) => {
      seenAtCommit.push(acked);
      const r = await transaction(fn);
      commits++;
      return r;
    };
    try {
      await Promise.all(Array.from({ length: 20 }, () => send({ roomId: 'batch' }).then(() => acked++)));
    } finally {
      store.transaction = transaction;
    }
    assert.ok(commits >= 1 && commits < 20, `20 gifts in ${commits} commits`);
    assert.equal(seenAtCommit[0], 0, 'no gift acknowledged before the first commit');
    assert.equal((await g.getGiftCount(id, 'batch', 'host')).totalCount, 20);
  });

  it('a failed commit acknowledges none of the gifts of its batch', async () => {
    const store = t.server.store as { transaction: typeof t.server.store.transaction };
    const transaction = store.transaction;
    store.transaction = async () => {
      throw new Error('disk full');
    };
    try {
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => send({ roomId: 'batch' })));
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    } finally {
      store.transaction = transaction;
    }
    assert.equal((await g.getGiftCount(id, 'batch', 'host')).totalCount, 20);
    await send({ roomId: 'batch' });
    assert.equal((await g.getGiftCount(id, 'batch', 'host')).totalCount, 21);
  });

  it('is exact under 50 concurrent senders', async () => {
    await t.server.live.create(id, 'crowd', 'host', {});
    const fans = Array.from({ length: 50 }, (_, i) => `crowd${i}`);
    await t.server.accounts.importMany(id, fans.map((userId) => ({ userId })));
    await Promise.all(fans.flatMap((from) => [1, 2, 3].map((count) => send({ roomId: 'crowd', from, count }))));
    assert.deepEqual(await g.getGiftCount(id, 'crowd', 'host'), { sequence: 150, totalCount: 300, totalCoins: 900, senderCount: 50 });
  });

  it('counts only the current room: a dissolved and re-created room starts from zero', async () => {
    await t.server.live.create(id, 'again', 'host', {});
    await send({ roomId: 'again', count: 2 });
    assert.equal((await g.getGiftCount(id, 'again', 'host')).totalCount, 2);
    await t.server.live.destroy(id, 'again');
    await refuses(g.getGiftCount(id, 'again', 'host'), 'NOT_FOUND', undefined, /does not exist/);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 1000 }); // the same RoomId once per second
    try {
      await t.server.live.create(id, 'again', 'host', {});
    } finally {
      mock.timers.reset();
    }
    assert.deepEqual(await g.getGiftCount(id, 'again', 'host'), { sequence: 0, totalCount: 0, totalCoins: 0, senderCount: 0 });
  });

  it('recorded gifts survive a restart', async () => {
    const server = await startServer({ ...DEFAULT_CONFIG, dataDir: t.dir, port: 0, logLevel: 'silent' });
    try {
      assert.deepEqual(await server.gifts.getGiftCount(id, 'crowd', 'host'), await g.getGiftCount(id, 'crowd', 'host'));
    } finally {
      await server.close();
    }
  });
});
