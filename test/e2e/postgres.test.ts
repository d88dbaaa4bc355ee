import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { PG_SKIP, PG_URL, pgSchema, type PgSchema } from '../helpers/pg.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { restUrl, startTestServer, tempDir } from '../helpers/server.ts';

const children: ServerChild[] = [];
after(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

/** Rows of one table in a schema, read straight from PostgreSQL. */
async function rows(schema: PgSchema, query: string): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client({ connectionString: schema.url });
  await c.connect();
  try {
    return (await c.query(query)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

describe('trtcd on PostgreSQL', { skip: PG_URL ? false : PG_SKIP }, () => {
  let schema: PgSchema;
  let rx: Receiver;
  after(async () => {
    await rx?.close();
    await schema?.drop();
  });

  it('CLI and server share the database: accounts, a call with its callbacks, a live room and a gift, kept across a restart', async () => {
    schema = await pgSchema();
    rx = await startReceiver();
    const dir = tempDir();
    // The CLI takes the store from --store, or from TRTCD_STORE.
    const created = runCli(['app', 'create', '--json', '--store', schema.url, '--data-dir', dir]);
    assert.equal(created.status, 0, created.stderr);
    const { sdkAppId } = JSON.parse(created.stdout) as { sdkAppId: number };
    assert.equal(runCli(['app', 'set', String(sdkAppId), `callback.url=${rx.url}`, 'rateLimits=off'], { TRTCD_STORE: schema.url }).status, 0);
    const usersig = runCli(['usersig', String(sdkAppId), 'administrator', '--store', schema.url]).stdout.trim();
    const q = { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' };
    const post = async (base: string, cmd: string, body: unknown) =>
      (await (await fetch(restUrl(base, cmd, q), { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown> & { Response?: Record<string, unknown> };
    const ok = (env: Record<string, unknown>, what: string) => assert.equal(env.ErrorCode, 0, `${what}: ${JSON.stringify(env)}`);

    const first = await startChild(['--store', schema.url, '--data-dir', dir]);
    children.push(first);
    assert.match(first.output(), /"store":"postgres"/);
    assert.doesNotMatch(first.output(), /Created a development app/, 'the app made by the CLI is in the same database');

    ok(await post(first.url, 'im_open_login_svc/multiaccount_import', { Accounts: ['robot', 'alice', 'bob', 'host', 'fan'] }), 'import');
    ok(await post(first.url, 'im_open_login_svc/account_import', { UserID: 'carol', Nick: 'Carol 😀' }), 'account_import');

    const started = await post(first.url, 'call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: ['alice'], Timeout: 60000, CallInfo: { MediaType: 'Audio' } });
    ok(started, 'start_call_by_robot');
    const callId = started.Response!.CallId as string;
    ok(await post(first.url, 'call_engine_http_srv/end_call', { CallId: callId }), 'end_call');
    const delivered = await rx.waitDelivered(2);
    assert.deepEqual(delivered.map((r) => r.body.CallbackCommand), ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall']);
    // The outcome is written once the app server has answered: wait for it.
    let outbox = await rows(schema, `SELECT command, status, order_key FROM callback_outbox ORDER BY id`);
    for (const deadline = Date.now() + 10_000; outbox.some((r) => r.status !== 'delivered') && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
      outbox = await rows(schema, `SELECT command, status, order_key FROM callback_outbox ORDER BY id`);
    }
    assert.deepEqual(outbox.map((r) => [r.command, r.status]), [['Call.CallbackAfterStartCall', 'delivered'], ['Call.CallbackAfterEndCall', 'delivered']]);

    ok(await post(first.url, 'live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'pg_room', Owner_Account: 'host', RoomName: '直播间' } }), 'create_room');
    // create_room queues its after-callback (https://trtc.io/document/64422) with the room; it is delivered before the gift.
    assert.equal((await rx.waitDelivered(3))[2]!.body.CallbackCommand, 'Live.CallbackAfterCreateRoom');
    ok(await post(first.url, 'live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 5, DefaultName: 'Rose' }), 'add_gift');
    ok(await post(first.url, 'live_engine_http_srv/send_gift', { RoomId: 'pg_room', GiftId: 'rose', Count: 3, From_Account: 'fan', ReceiverList_Account: ['host'] }), 'send_gift');
    await first.stop('SIGTERM');

    const second = await startChild(['--store', schema.url, '--data-dir', dir]);
    children.push(second);
    try {
      const check = await post(second.url, 'im_open_login_svc/account_check', { CheckItem: ['robot', 'carol', 'nobody'].map((UserID) => ({ UserID })) });
      assert.deepEqual((check.ResultItem as Array<{ AccountStatus: string }>).map((r) => r.AccountStatus), ['Imported', 'Imported', 'NotImported']);
      const record = await post(second.url, 'call_record_http_srv/get_record_by_callid', { CallId: callId });
      ok(record, 'get_record_by_callid');
      assert.equal((record.Response!.CallRecord as { CallId: string }).CallId, callId);
      const room = await post(second.url, 'live_engine_http_srv/get_room_info', { RoomId: 'pg_room' });
      ok(room, 'get_room_info');
      assert.equal((room.Response!.RoomInfo as { RoomName: string }).RoomName, '直播间');
      const count = await post(second.url, 'live_engine_http_srv/get_gift_count', { RoomId: 'pg_room', From_Account: 'host' });
      ok(count, 'get_gift_count');
      assert.deepEqual([count.Response!.TotalCount, count.Response!.TotalCoins, count.Response!.GiftSenderCount], [3, 15, 1]);
    } finally {
      await second.stop('SIGTERM');
    }

    const log = runCli(['callbacks', 'list', '--sdkappid', String(sdkAppId), '--store', schema.url]).stdout.trim().split('\n');
    assert.equal(log.length, 3);
    // The gift's synchronous Live.CallbackBeforeSendGift is not queued; nothing was delivered again after the restart.
    assert.deepEqual(rx.delivered().map((r) => r.body.CallbackCommand), ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall', 'Live.CallbackAfterCreateRoom', 'Live.CallbackBeforeSendGift']);
  });

  it('runs in-process with the store given in the configuration', async () => {
    const own = await pgSchema();
    const t = await startTestServer({ store: own.url, pgPoolSize: 2 });
    try {
      assert.equal(t.server.store.dialect, 'postgres');
      assert.equal((await t.rest('im_open_login_svc/account_import', { UserID: 'dana' })).ErrorCode, 0);
      assert.deepEqual((await rows(own, `SELECT user_id FROM accounts WHERE user_id = 'dana'`)).length, 1);
    } finally {
      await t.close();
      await own.drop();
    }
  });
});
