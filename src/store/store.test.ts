import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { PG_SKIP, PG_URL, pgSchema } from '../../test/helpers/pg.ts';
import { tempDir } from '../../test/helpers/server.ts';
import { AccountsRepo } from './accounts-repo.ts';
import type { CallRow } from './calls-repo.ts';
import type { OutboxRow } from './outbox-repo.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './schema.ts';
import { openStore, otherSchemaGone, type Store, type StoreOptions } from './store.ts';

/** One place to open the store under test: a fresh SQLite directory or a fresh PostgreSQL schema. */
interface Target {
  options: StoreOptions;
  cleanup(): Promise<void>;
}

const targets: Record<'sqlite' | 'postgres', () => Promise<Target>> = {
  sqlite: async () => {
    const dir = tempDir();
    return { options: { dataDir: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const schema = await pgSchema();
    return { options: { store: schema.url, dataDir: tempDir(), pgPoolSize: 4 }, cleanup: () => schema.drop() };
  },
};

const APP = 1400000001;

function call(id: string, over: Partial<CallRow> = {}): CallRow {
  return {
    call_id: id,
    sdk_app_id: APP,
    caller: 'alice',
    media_type: 'Audio',
    call_type: 'Single',
    chat_group_id: '',
    room_id: 'room-1',
    room_id_type: 2,
    user_data: '',
    ring_timeout_ms: 30000,
    robot: 0,
    start_time: 1_700_000_000_000,
    accept_time: 0,
    end_time: 0,
    result: '',
    members: '[]',
    invited: '[]',
    ...over,
  };
}

function outbox(orderKey: string, over: Partial<OutboxRow> = {}): Omit<OutboxRow, 'id'> {
  return {
    sdk_app_id: APP,
    command: 'Call.CallbackAfterStartCall',
    order_key: orderKey,
    body: '{"a":1}',
    client_ip: '',
    platform: 'RESTAPI',
    status: 'pending',
    attempts: 0,
    next_attempt_at: 1000,
    created_at: 1000,
    delivered_at: 0,
    last_status: 0,
    last_error: '',
    ...over,
  };
}

/** The same cases on every dialect: the repositories must answer identically. */
function conformance(name: keyof typeof targets): void {
  let target: Target;
  let store: Store;
  before(async () => {
    target = await targets[name]();
    store = await openStore(target.options);
  });
  after(async () => {
    await store?.close();
    await target?.cleanup();
  });

  it(`opens as ${name}`, () => assert.equal(store.dialect, name));

  it('apps: insert, get, settings with revisions, changes since a revision, numbers as numbers', async () => {
    const base = { secret_key: 'k', cloud_secret_key: 'cs', ivh_access_token: 't', settings: '{"a":1}', created_at: 1_700_000_000_123, updated_at: 1_700_000_000_123 };
    const a = await store.apps.insert({ ...base, sdk_app_id: APP, cloud_secret_id: 'AKID1', ivh_app_key: 'ivh1' });
    const b = await store.apps.insert({ ...base, sdk_app_id: APP + 1, cloud_secret_id: 'AKID2', ivh_app_key: 'ivh2' });
    assert.deepEqual([a.revision, b.revision], [1, 2]);
    const got = await store.apps.get(APP);
    assert.deepEqual(got, { ...base, sdk_app_id: APP, cloud_secret_id: 'AKID1', ivh_app_key: 'ivh1', revision: 1 });
    assert.equal(typeof got!.sdk_app_id, 'number');
    assert.equal(typeof got!.created_at, 'number');
    await assert.rejects(store.apps.insert({ ...base, sdk_app_id: APP + 2, cloud_secret_id: 'AKID1', ivh_app_key: 'ivh3' }), 'cloud_secret_id is unique');
    assert.equal(await store.apps.updateSettings(APP, '{"b":2}', { secret_key: 'k2' }), true);
    assert.equal(await store.apps.updateSettings(42, '{}'), false);
    const changed = await store.apps.changedSince(1);
    assert.deepEqual(changed.map((r) => [r.sdk_app_id, r.revision]), [[APP + 1, 2], [APP, 3]]);
    assert.equal(changed[1]?.settings, '{"b":2}');
    assert.equal(changed[1]?.secret_key, 'k2');
    assert.equal(await store.apps.maxSdkAppId(), APP + 1);
    assert.equal(await store.apps.get(7), undefined);
  });

  it('accounts: upsert keeps unspecified profile fields, existing, count, delete returns what existed', async () => {
    await store.accounts.upsert(APP, [{ userId: 'alice', nick: 'Alice', faceUrl: 'http://f' }, { userId: 'bob' }, { userId: '用户😀' }], 1000);
    await store.accounts.upsert(APP, [{ userId: 'alice', nick: 'Al' }], 2000);
    await store.accounts.upsert(APP + 1, [{ userId: 'alice' }]);
    assert.equal(await store.accounts.count(APP), 3);
    assert.deepEqual(await store.accounts.existing(APP, ['alice', 'carol', '用户😀']), new Set(['alice', '用户😀']));
    assert.deepEqual(await store.accounts.existing(APP, []), new Set());
    assert.deepEqual(await store.accounts.delete(APP, ['bob', 'carol']), new Set(['bob']));
    assert.deepEqual(await store.accounts.delete(APP, []), new Set());
    assert.equal(await store.accounts.count(APP), 2);
    assert.equal(await store.accounts.count(999), 0);
    // Case matters in UserIDs on both dialects.
    assert.deepEqual(await store.accounts.existing(APP, ['Alice', 'ALICE']), new Set());
    // One call may list a UserID twice and mix which profile fields are given (one statement per combination; a
    // PostgreSQL upsert cannot touch a row twice in one statement).
    await store.accounts.upsert(APP + 2, [{ userId: 'dup', nick: 'a' }, { userId: 'dup', faceUrl: 'f' }, { userId: 'plain' }, { userId: 'dup' }, { userId: 'n', nick: 'n' }]);
    assert.equal(await store.accounts.count(APP + 2), 3);
  });

  it('calls: save replaces, get within an app, active, ended with filters, paging and total', async () => {
    await store.calls.save(call('c1'));
    await store.calls.save(call('c1', { result: 'Hangup', end_time: 1_700_000_001_000, members: '[{"u":"bob"}]' }));
    await store.calls.save(call('c2', { start_time: 1_700_000_000_500, result: 'NotAnswer', call_type: 'Group' }));
    await store.calls.save(call('c3', { start_time: 1_700_000_000_500, result: 'Hangup' }));
    await store.calls.save(call('c4'));
    await store.calls.save(call('c5', { sdk_app_id: APP + 1, result: 'Hangup' }));
    const c1 = await store.calls.get(APP, 'c1');
    assert.equal(c1?.result, 'Hangup');
    assert.equal(c1?.members, '[{"u":"bob"}]');
    assert.equal(typeof c1?.end_time, 'number');
    assert.equal(await store.calls.get(APP + 1, 'c1'), undefined);
    assert.deepEqual((await store.calls.active()).map((r) => r.call_id), ['c4']);
    const all = await store.calls.ended({ sdkAppId: APP, fromMs: 0, toMs: 2e12, limit: 10, offset: 0 });
    assert.equal(all.total, 3);
    assert.deepEqual(all.rows.map((r) => r.call_id), ['c2', 'c3', 'c1']);
    const page = await store.calls.ended({ sdkAppId: APP, fromMs: 0, toMs: 2e12, limit: 1, offset: 1 });
    assert.deepEqual([page.total, page.rows.map((r) => r.call_id)], [3, ['c3']]);
    const filtered = await store.calls.ended({ sdkAppId: APP, fromMs: 1_700_000_000_100, toMs: 2e12, result: 'Hangup', limit: 10, offset: 0 });
    assert.deepEqual([filtered.total, filtered.rows.map((r) => r.call_id)], [1, ['c3']]);
    const group = await store.calls.ended({ sdkAppId: APP, fromMs: 0, toMs: 2e12, callType: 'Group', limit: 10, offset: 0 });
    assert.deepEqual(group.rows.map((r) => r.call_id), ['c2']);
  });

  it('outbox: numbered ids, the head of each order key when due, next due time, updates, the log', async () => {
    await store.outbox.enqueue([outbox('call-a'), outbox('call-a', { command: 'Call.CallbackAfterEndCall' }), outbox('call-b', { next_attempt_at: 5000 })]);
    await store.outbox.enqueue([]);
    const log = await store.outbox.list({ limit: 10 });
    assert.deepEqual(log.map((r) => r.order_key), ['call-b', 'call-a', 'call-a']);
    const [b, a2, a1] = log as [OutboxRow, OutboxRow, OutboxRow];
    assert.equal(typeof a1.id, 'number');
    assert.ok(a1.id < a2.id && a2.id < b.id);
    assert.deepEqual((await store.outbox.due(1000, 10)).map((r) => r.id), [a1.id]);
    assert.deepEqual((await store.outbox.due(5000, 10)).map((r) => r.id), [a1.id, b.id]);
    assert.deepEqual((await store.outbox.due(5000, 1)).map((r) => r.id), [a1.id]);
    assert.equal(await store.outbox.nextDue(), 1000);
    await store.outbox.update(a1.id, { status: 'delivered', attempts: 1, delivered_at: 1200, last_status: 200 });
    assert.deepEqual((await store.outbox.due(1000, 10)).map((r) => r.id), [a2.id]);
    await store.outbox.update(a2.id, { status: 'failed', last_error: 'HTTP 500' });
    await store.outbox.update(b.id, { status: 'dropped' });
    assert.equal(await store.outbox.nextDue(), null);
    assert.deepEqual([(await store.outbox.get(b.id))?.status, await store.outbox.get(b.id + 100)], ['dropped', undefined]);
    assert.deepEqual((await store.outbox.list({ status: 'delivered', limit: 10 })).map((r) => [r.id, r.attempts, r.delivered_at, r.last_status]), [[a1.id, 1, 1200, 200]]);
    assert.equal((await store.outbox.list({ sdkAppId: APP + 1, limit: 10 })).length, 0);
    assert.equal((await store.outbox.list({ sdkAppId: APP, status: 'failed', limit: 10 }))[0]?.last_error, 'HTTP 500');
  });

  it('transactions: state and its callbacks commit together or not at all', async () => {
    await store.transaction(async (tx) => {
      await tx.calls.save(call('tx-ok'));
      await tx.outbox.enqueue([outbox('tx-ok')]);
    });
    assert.ok(await store.calls.get(APP, 'tx-ok'));
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.calls.save(call('tx-fail'));
        await tx.outbox.enqueue([outbox('tx-fail')]);
        assert.ok(await tx.calls.get(APP, 'tx-fail'), 'a transaction reads its own writes');
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.calls.get(APP, 'tx-fail'), undefined);
    assert.equal((await store.outbox.list({ limit: 100 })).filter((r) => r.order_key === 'tx-fail').length, 0);
    assert.equal(await store.transaction(async () => 7), 7);
  });

  it('live rooms: insert once, update, delete, all in creation order with ties broken by id', async () => {
    const room = (id: string, created: number) => ({ sdk_app_id: APP, room_id: id, owner: 'alice', info: '{}', state: '{}', view_count: 0, created_at: created });
    assert.equal(await store.live.insert(room('r2', 10)), true);
    assert.equal(await store.live.insert(room('r1', 10)), true);
    assert.equal(await store.live.insert(room('r0', 5)), true);
    assert.equal(await store.live.insert(room('r1', 99)), false);
    await store.live.update({ sdk_app_id: APP, room_id: 'r2', info: '{"Name":"x"}', state: '{"seats":[]}', view_count: 12 });
    const all = await store.live.all();
    assert.deepEqual(all.map((r) => r.room_id), ['r0', 'r1', 'r2']);
    assert.deepEqual([all[2]?.info, all[2]?.state, all[2]?.view_count], ['{"Name":"x"}', '{"seats":[]}', 12]);
    assert.deepEqual(await store.live.get(APP, 'r2'), all[2]);
    assert.equal(await store.live.get(APP + 1, 'r2'), undefined);
    assert.equal(await store.live.delete(APP, 'r0'), true);
    assert.equal(await store.live.delete(APP, 'r0'), false);
  });

  it('gifts: catalogue put/delete/list/all, records, totals and what one user received', async () => {
    await store.gifts.put('gift', APP, 'g2', '{"Coins":1}', 10);
    await store.gifts.put('gift', APP, 'g1', '{"Coins":2}', 10);
    await store.gifts.put('gift', APP, 'g2', '{"Coins":3}', 99);
    await store.gifts.put('category', APP, 'cat', '{"Gifts":["g1"]}', 10);
    await store.gifts.put('category', APP, 'Cat', '{}', 10);
    await store.gifts.put('category', APP, 'cät', '{}', 10);
    assert.deepEqual(await store.gifts.list('gift', APP), [
      { id: 'g1', info: '{"Coins":2}' },
      { id: 'g2', info: '{"Coins":3}' },
    ]);
    // Ties by id in code-point order on both dialects: 'C' < 'c' < 'ä'.
    assert.deepEqual((await store.gifts.list('category', APP)).map((c) => c.id), ['Cat', 'cat', 'cät']);
    const all = await store.gifts.all();
    assert.deepEqual(all.gifts.map((g) => [g.sdkAppId, g.id]), [[APP, 'g1'], [APP, 'g2']]);
    assert.deepEqual(all.categories.map((g) => g.id), ['Cat', 'cat', 'cät']);
    assert.equal(await store.gifts.delete('gift', APP, 'g1'), true);
    assert.equal(await store.gifts.delete('gift', APP, 'g1'), false);
    assert.equal(await store.gifts.delete('category', APP, 'cat'), true);

    const rec = (from: string, receivers: string[], count: number, coins: number, at: number) =>
      store.gifts.record({ sdk_app_id: APP, room_id: 'live', gift_id: 'g2', from_account: from, receivers: JSON.stringify(receivers), count, coins, created_at: at });
    await rec('alice', ['bob', 'carol'], 2, 3, 100);
    await rec('dave', ['bob'], 1, 10, 200);
    await rec('alice', ['carol'], 5, 1, 300);
    await rec('alice', ['bo'], 9, 9, 400);
    assert.deepEqual(await store.gifts.totals(APP, 'live'), { count: 17, coins: 102, senders: 2, records: 4 });
    assert.deepEqual(await store.gifts.totals(APP, 'live', 'alice'), { count: 16, coins: 92, senders: 1, records: 3 });
    assert.deepEqual(await store.gifts.totals(APP, 'empty'), { count: 0, coins: 0, senders: 0, records: 0 });
    assert.deepEqual(await store.gifts.receivedStats(APP, 'live', 'bob'), { count: 3, coins: 16, senders: 2, roomRecords: 4 });
    assert.deepEqual(await store.gifts.receivedStats(APP, 'live', 'bob', 150), { count: 1, coins: 10, senders: 1, roomRecords: 3 });
    assert.deepEqual(await store.gifts.receivedStats(APP, 'live', 'nobody'), { count: 0, coins: 0, senders: 0, roomRecords: 4 });
    assert.deepEqual(await store.gifts.receivedStats(APP, 'empty', 'bob'), { count: 0, coins: 0, senders: 0, roomRecords: 0 });
    assert.deepEqual(await store.gifts.received(APP, 'live', 'carol'), { count: 7, coins: 11 });
  });

  it('trtc rooms and users: history with paging, stays with numbered ids, dangling stays closed; IoT rooms expire', async () => {
    await store.trtc.openRoom({ comm_id: 'c1', sdk_app_id: APP, room_id: '1234', str_room: 0, creator: 'alice', created_at: 100, destroyed_at: 0 });
    await store.trtc.openRoom({ comm_id: 'c2', sdk_app_id: APP, room_id: 'abc', str_room: 1, creator: 'bob', created_at: 200, destroyed_at: 0 });
    assert.equal(await store.trtc.hasRoom('c1'), true);
    assert.equal(await store.trtc.hasRoom('nope'), false);
    const stay = { comm_id: 'c1', sdk_app_id: APP, room_id: '1234', device_type: 'web', sdk_version: '1', client_ip: '::1' };
    const s1 = await store.trtc.join({ ...stay, user_id: 'alice', join_ts: 100, leave_ts: 0 });
    const s2 = await store.trtc.join({ ...stay, user_id: 'bob', join_ts: 110, leave_ts: 0 });
    assert.equal(typeof s1, 'number');
    assert.ok(s2 > s1);
    await store.trtc.leave(s1, 150);
    await store.trtc.closeRoom('c2', 250);
    await store.trtc.closeDangling(300);
    const rooms = await store.trtc.rooms({ sdkAppId: APP, from: 0, to: 1000, limit: 10, offset: 0 });
    assert.deepEqual([rooms.total, rooms.rows.map((r) => [r.comm_id, r.destroyed_at])], [2, [['c2', 250], ['c1', 300]]]);
    assert.deepEqual((await store.trtc.rooms({ sdkAppId: APP, from: 0, to: 1000, roomId: '1234', limit: 10, offset: 0 })).rows.map((r) => r.comm_id), ['c1']);
    assert.deepEqual((await store.trtc.rooms({ sdkAppId: APP, from: 0, to: 1000, limit: 1, offset: 1 })).rows.map((r) => r.comm_id), ['c1']);
    const users = await store.trtc.users({ sdkAppId: APP, commId: 'c1', from: 0, to: 1000, limit: 10, offset: 0 });
    assert.deepEqual([users.total, users.rows.map((r) => [r.user_id, r.leave_ts])], [2, [['alice', 150], ['bob', 300]]]);
    assert.deepEqual((await store.trtc.users({ sdkAppId: APP, commId: 'c1', from: 200, to: 1000, limit: 10, offset: 0 })).rows.map((r) => r.user_id), ['bob']);
    assert.deepEqual((await store.trtc.users({ sdkAppId: APP, commId: 'c1', from: 0, to: 1000, userIds: ['alice'], limit: 10, offset: 0 })).total, 1);

    const iot = { sdk_app_id: APP, room_id: 'iot', user_ids: '["dev"]', created_at: 100, expires_at: 200 };
    await store.trtc.putIotRoom(iot);
    assert.deepEqual(await store.trtc.iotRoom(APP, 'iot', 150), iot);
    assert.equal(await store.trtc.iotRoom(APP, 'iot', 200), undefined);
    await store.trtc.putIotRoom({ ...iot, user_ids: '["dev2"]', created_at: 300, expires_at: 400 });
    assert.equal((await store.trtc.iotRoom(APP, 'iot', 350))?.user_ids, '["dev2"]');
    assert.equal(await store.trtc.deleteIotRoom(APP, 'iot'), true);
    assert.equal(await store.trtc.deleteIotRoom(APP, 'iot'), false);
  });

  it('digital humans: avatars once per id, sessions replaced', async () => {
    const avatar = { avatar_id: 'p1', sdk_app_id: APP, kind: 'project', name: 'P', concurrency: 2, created_at: 10 };
    assert.equal(await store.ivh.addAvatar(avatar), true);
    assert.equal(await store.ivh.addAvatar({ ...avatar, name: 'other' }), false);
    assert.equal(await store.ivh.addAvatar({ ...avatar, avatar_id: 'a0', kind: 'asset' }), true);
    assert.deepEqual((await store.ivh.avatars()).map((a) => [a.avatar_id, a.name]), [['a0', 'P'], ['p1', 'P']]);
    await store.ivh.saveSession('s1', APP, '{"v":1}', 10);
    await store.ivh.saveSession('s0', APP, '{"v":0}', 20);
    await store.ivh.saveSession('s1', APP, '{"v":2}', 99);
    assert.deepEqual(await store.ivh.sessions(), ['{"v":2}', '{"v":0}']);
  });

  it('keeps any text as given, U+0000 included, and finds it again by equality', async () => {
    const odd = ['a\u0000b', '\uE000', '\uE0000', '\u0000\uE000\u0000', 'plain'];
    await store.live.insert({ sdk_app_id: APP, room_id: 'nul\u0000room\uE000', owner: 'x\u0000', info: 'i\u0000', state: '', view_count: 0, created_at: 1 });
    const room = (await store.live.all()).find((r) => r.room_id.startsWith('nul'));
    assert.deepEqual([room?.room_id, room?.owner, room?.info], ['nul\u0000room\uE000', 'x\u0000', 'i\u0000']);
    assert.equal(await store.live.delete(APP, 'nul\u0000room\uE000'), true);
    await store.accounts.upsert(APP + 5, odd.map((userId) => ({ userId, nick: `${userId}!` })));
    assert.deepEqual(await store.accounts.existing(APP + 5, [...odd, 'a', '\uE000\uE000']), new Set(odd));
  });

  it('reopens the same database: migrations run once, data kept', async () => {
    const again = await openStore(target.options);
    try {
      assert.equal(await again.accounts.count(APP), 2);
      assert.ok(await again.calls.get(APP, 'tx-ok'));
    } finally {
      await again.close();
    }
  });
}

describe('store on SQLite', () => conformance('sqlite'));

if (PG_URL) {
  describe('store on PostgreSQL', () => {
    conformance('postgres');

    it('keeps stores in different schemas of one database apart, each with its own migrations', async () => {
      const [a, b] = [await pgSchema(), await pgSchema()];
      try {
        const sa = await openStore({ store: a.url, dataDir: tempDir() });
        await sa.accounts.upsert(APP, [{ userId: 'only-in-a' }]);
        const sb = await openStore({ store: b.url, dataDir: tempDir() });
        assert.equal(await sb.accounts.count(APP), 0);
        await Promise.all([sa.close(), sb.close()]);
      } finally {
        await Promise.all([a.drop(), b.drop()]);
      }
    });

    it('sorts and compares text by code point whatever the database locale, like SQLite', async () => {
      const schema = await pgSchema();
      try {
        await (await openStore({ store: schema.url, dataDir: tempDir() })).close();
        const c = new pg.Client({ connectionString: schema.url });
        await c.connect();
        const { rows } = await c.query(`SELECT table_name, column_name, collation_name FROM information_schema.columns WHERE table_schema = current_schema() AND data_type = 'text' AND table_name NOT LIKE 'kysely%'`);
        await c.end();
        assert.ok(rows.length > 40);
        assert.deepEqual(rows.filter((r: { collation_name: string }) => r.collation_name !== 'C'), []);
      } finally {
        await schema.drop();
      }
    });

    /** Runs `fn` with a pool of one connection on a fresh, migrated schema (prepared statements live per connection). */
    const onOneConnection = async (fn: (db: Kysely<Database>, url: string) => Promise<void>) => {
      const schema = await pgSchema();
      try {
        await (await openStore({ store: schema.url, dataDir: tempDir() })).close();
        const db = openPostgres(schema.url, 1);
        try {
          await fn(db, schema.url);
        } finally {
          await db.destroy();
        }
      } finally {
        await schema.drop();
      }
    };

    it('prepares each parameterised statement once per connection, up to a bound, and runs the rest unprepared', async () => {
      await onOneConnection(async (db) => {
        const accounts = new AccountsRepo(db);
        for (let i = 0; i < 3; i++) await accounts.upsert(APP, [{ userId: `p${i}a` }, { userId: `p${i}b` }]);
        await accounts.upsert(APP, [{ userId: 'p-one' }]);
        const prepared = async () => (await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(db)).rows;
        const inserts = (await prepared()).filter((r) => r.name.startsWith('trtcd_') && /insert into "accounts"/.test(r.statement));
        assert.equal(inserts.length, 2, 'one statement for two rows (run three times) and one for one row');
        assert.equal(await accounts.count(APP), 7);
        for (let i = 0; i < 300; i++) assert.equal((await sql<{ v: number }>`SELECT ${i}::int AS ${sql.ref(`v${i}`)}`.execute(db)).rows[0]?.[`v${i}` as 'v'], i);
        assert.equal((await prepared()).length, 256);
      });
    });

    it('runs a prepared statement again after the table it reads was altered by another connection (a rolling upgrade)', async () => {
      await onOneConnection(async (db, url) => {
        const other = new pg.Client({ connectionString: url });
        try {
          await other.connect();
          await other.query('CREATE TABLE altered (id integer PRIMARY KEY, a text)');
          await other.query(`INSERT INTO altered VALUES (1, 'x')`);
          const read = () => sql<Record<string, unknown>>`SELECT * FROM altered WHERE id = ${1}`.execute(db);
          assert.deepEqual((await read()).rows, [{ id: 1, a: 'x' }]);
          await other.query(`ALTER TABLE altered ADD COLUMN b text DEFAULT 'y'`);
          assert.deepEqual((await read()).rows, [{ id: 1, a: 'x', b: 'y' }]);
          assert.deepEqual((await read()).rows, [{ id: 1, a: 'x', b: 'y' }], 'and keeps running prepared');
        } finally {
          await other.end();
        }
      });
    });

    it('stops preparing on a connection whose prepared statements the server lost (a pooler), and runs them unnamed', async () => {
      await onOneConnection(async (db) => {
        const accounts = new AccountsRepo(db);
        await accounts.upsert(APP, [{ userId: 'lost-a' }]);
        await sql`DEALLOCATE ALL`.execute(db);
        await accounts.upsert(APP, [{ userId: 'lost-b' }]);
        await accounts.upsert(APP, [{ userId: 'lost-c' }]);
        assert.equal(await accounts.count(APP), 3);
        assert.deepEqual((await sql`SELECT name FROM pg_prepared_statements`.execute(db)).rows, [], 'nothing prepared since');
      });
    });

    it('refuses a search_path that names no existing schema', async () => {
      const url = new URL(PG_URL!);
      url.searchParams.set('options', '-c search_path=trtcd_no_such_schema');
      await assert.rejects(openStore({ store: url.toString(), dataDir: tempDir() }), /no schema of the search_path exists/);
    });

    it('a migration whose listing of every schema met one dropped meanwhile (by another store sharing the database) is tried again', async () => {
      // The error PostgreSQL gives when the listing names a schema that is gone by the time it is looked up.
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      const gone = await c.query(`SELECT has_schema_privilege('trtcd_dropped_meanwhile', 'USAGE')`).then(
        () => undefined,
        (err: unknown) => err,
      );
      await c.end();
      assert.equal((gone as { code?: string }).code, '3F000');
      assert.equal(otherSchemaGone(gone, 'trtcd_mine'), true);
      assert.equal(otherSchemaGone(gone, 'trtcd_dropped_meanwhile'), false, 'its own schema gone is not retried');
      assert.equal(otherSchemaGone(new Error('schema "x" does not exist'), 'trtcd_mine'), false, 'only PostgreSQL’s invalid_schema_name');
    });
  });
} else it('store on PostgreSQL', (t) => t.skip(PG_SKIP));

describe('opening a store that cannot be reached', () => {
  it('fails naming PostgreSQL and its address, with the password masked', async () => {
    // A port nothing listens on: refused at once.
    const err = await openStore({ store: 'postgres://trtcd:hunter2@127.0.0.1:1/trtcd', dataDir: tempDir() }).then(
      () => assert.fail('opened'),
      (e: unknown) => e as Error,
    );
    assert.match(err.message, /^cannot open PostgreSQL at postgres:\/\/trtcd:\*\*\*@127\.0\.0\.1:1\/trtcd: /);
    assert.doesNotMatch(err.message, /hunter2/);
  });
});
