import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { freshStore, PG_SKIP, PG_URL, STORES } from '../helpers/pg.ts';
import { restUrl } from '../helpers/server.ts';

const children: ServerChild[] = [];
after(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

const SENDERS = 50;
const GIFTS_PER_SENDER = 20;
const COINS = 7;

/** The outcome of one send_gift as the client saw it. */
type Outcome = 'acked' | 'refused' | 'in-doubt';

describe('gift durability', () => {
  if (!PG_URL) it('after kill -9 with gifts in flight, get_gift_count holds every acknowledged gift exactly once on PostgreSQL', (t) => t.skip(PG_SKIP));
  for (const kind of STORES) it(`after kill -9 with gifts in flight, get_gift_count holds every acknowledged gift exactly once on ${kind}`, async (t) => {
    const store = await freshStore(kind);
    t.after(() => store.drop());
    const { sdkAppId } = JSON.parse(runCli(['app', 'create', '--json', ...store.args]).stdout) as { sdkAppId: number };
    assert.equal(runCli(['app', 'set', String(sdkAppId), 'rateLimits=off', ...store.args]).status, 0);
    const usersig = runCli(['usersig', String(sdkAppId), 'administrator', ...store.args]).stdout.trim();
    const q = { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' };
    const post = async (base: string, cmd: string, body: unknown) =>
      (await (await fetch(restUrl(base, cmd, q), { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;
    const ok = (env: Record<string, unknown>, what: string) => assert.equal(env.ErrorCode, 0, `${what}: ${JSON.stringify(env)}`);

    const first = await startChild(store.args);
    children.push(first);
    const senders = Array.from({ length: SENDERS }, (_, s) => `sender${s}`);
    // Every gift also goes to a receiver of its own, so each gift's fate can be read back individually.
    const tracer = (s: number, k: number) => `t${s}_${k}`;
    const tracers = senders.flatMap((_, s) => Array.from({ length: GIFTS_PER_SENDER }, (_, k) => tracer(s, k)));
    const accounts = ['host', ...senders, ...tracers];
    for (let i = 0; i < accounts.length; i += 100) ok(await post(first.url, 'im_open_login_svc/multiaccount_import', { Accounts: accounts.slice(i, i + 100) }), 'import');
    ok(await post(first.url, 'live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'room_id', Owner_Account: 'host' } }), 'create_room');
    ok(await post(first.url, 'live_engine_http_srv/add_gift', { GiftId: 'gift1', Coins: COINS, DefaultName: 'gift' }), 'add_gift');

    const outcome = new Map<string, { outcome: Outcome; count: number }>();
    let acked = 0;
    let kill: () => void = () => undefined;
    const killAt = new Promise<void>((r) => (kill = r));
    // 50 senders, each sending its gifts back to back until one fails; the server is killed once 300 gifts were
    // acknowledged, so about one request per sender is in flight when it dies.
    const workers = senders.map(async (from, s) => {
      for (let k = 0; k < GIFTS_PER_SENDER; k++) {
        const count = 1 + (k % 3);
        const to = tracer(s, k);
        try {
          const env = await post(first.url, 'live_engine_http_srv/send_gift', { RoomId: 'room_id', GiftId: 'gift1', Count: count, From_Account: from, ReceiverList_Account: ['host', to] });
          outcome.set(to, { outcome: env.ErrorCode === 0 ? 'acked' : 'refused', count });
          if (env.ErrorCode === 0 && ++acked === 300) kill();
        } catch {
          outcome.set(to, { outcome: 'in-doubt', count });
          return;
        }
      }
    });
    await Promise.race([killAt, Promise.all(workers)]);
    await first.stop('SIGKILL');
    await Promise.all(workers);

    const all = [...outcome.values()];
    const ackedCount = all.filter((o) => o.outcome === 'acked');
    const inDoubt = [...outcome.entries()].filter(([, o]) => o.outcome === 'in-doubt');
    assert.equal(all.filter((o) => o.outcome === 'refused').length, 0, 'no send was refused');
    assert.ok(ackedCount.length >= 300, `acknowledged before the kill: ${ackedCount.length}`);
    assert.ok(inDoubt.length > 0, 'some gifts were in flight when the server was killed');

    const second = await startChild(store.args);
    children.push(second);
    const stats = async (user: string) => {
      const env = await post(second.url, 'live_engine_http_srv/get_gift_count', { RoomId: 'room_id', From_Account: user });
      ok(env, `get_gift_count ${user}`);
      return env.Response as { Sequence: number; TotalCount: number; TotalCoins: number; GiftSenderCount: number };
    };

    // Each gift individually: an acknowledged one is there exactly once; one in doubt (the reply was lost) at most once.
    let recordedInDoubt = 0;
    let recordedInDoubtCount = 0;
    for (const [to, o] of outcome) {
      const s = await stats(to);
      if (o.outcome === 'acked') assert.deepEqual([s.TotalCount, s.TotalCoins], [o.count, o.count * COINS], `acknowledged gift to ${to} recorded exactly once`);
      else {
        assert.ok(s.TotalCount === 0 || s.TotalCount === o.count, `gift in doubt to ${to}: ${s.TotalCount}`);
        if (s.TotalCount > 0) {
          recordedInDoubt++;
          recordedInDoubtCount += o.count;
        }
      }
    }
    // Tracers never used (the senders stopped) hold nothing.
    for (const to of tracers.filter((x) => !outcome.has(x)).slice(0, 50)) assert.equal((await stats(to)).TotalCount, 0, to);

    const host = await stats('host');
    t.diagnostic(`acknowledged ${ackedCount.length}, in doubt ${inDoubt.length} (of which recorded ${recordedInDoubt}), host Sequence ${host.Sequence}`);
    const ackedGifts = ackedCount.reduce((a, o) => a + o.count, 0);
    assert.equal(host.Sequence, ackedCount.length + recordedInDoubt, 'sends recorded = acknowledged + those whose reply the kill swallowed');
    assert.equal(host.TotalCount, ackedGifts + recordedInDoubtCount, 'no gift lost, none counted twice');
    assert.equal(host.TotalCoins, (ackedGifts + recordedInDoubtCount) * COINS);
    assert.ok(host.GiftSenderCount <= SENDERS && host.GiftSenderCount >= 1);

    // The restarted server keeps counting from there.
    ok(await post(second.url, 'live_engine_http_srv/send_gift', { RoomId: 'room_id', GiftId: 'gift1', Count: 1, From_Account: 'sender0', ReceiverList_Account: ['host'] }), 'send after restart');
    const later = await stats('host');
    assert.deepEqual([later.Sequence, later.TotalCount], [host.Sequence + 1, host.TotalCount + 1]);
    await second.stop('SIGTERM');
  });
});
