// A node on PostgreSQL whose connections are cut in the middle of load (what a PostgreSQL restart does to it):
// the node does not crash, requests in flight get the family's internal error or succeed (never hang), and it
// serves again as soon as PostgreSQL takes connections. Runs when TRTCD_TEST_PG_URL is set (.ci/run sets it).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { PG_SKIP, PG_URL, pgSchema, type PgSchema } from '../helpers/pg.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { restUrl, tempDir } from '../helpers/server.ts';

/** Ends every PostgreSQL connection opened with this application_name; returns how many. */
async function terminate(admin: pg.Client, appName: string): Promise<number> {
  const r = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [appName]);
  return r.rowCount ?? 0;
}

// The internal-error codes of the commands under load: REST v4 70500, call engine 101001, live rooms and gifts 100001.
const INTERNAL = new Set([70500, 101001, 100001]);

describe('a node whose PostgreSQL connections are cut under load', { skip: PG_URL ? false : PG_SKIP }, () => {
  let schema: PgSchema;
  let rx: Receiver;
  let node: ServerChild | undefined;
  const admin = new pg.Client({ connectionString: PG_URL });
  after(async () => {
    await node?.stop('SIGKILL');
    await admin.end();
    await rx?.close();
    await schema?.drop();
  });

  it('keeps running, answers every request with a result or the internal error, and serves again', { timeout: 120_000 }, async () => {
    await admin.connect();
    schema = await pgSchema();
    rx = await startReceiver();
    const appName = `trtcd_outage_${schema.name}`;
    const url = new URL(schema.url);
    url.searchParams.set('application_name', appName);
    const store = url.toString();
    const dir = tempDir();
    const created = runCli(['app', 'create', '--json', '--store', store, '--data-dir', dir]);
    assert.equal(created.status, 0, created.stderr);
    const { sdkAppId } = JSON.parse(created.stdout) as { sdkAppId: number };
    assert.equal(runCli(['app', 'set', String(sdkAppId), `callback.url=${rx.url}`, 'rateLimits=off', '--store', store]).status, 0);
    const usersig = runCli(['usersig', String(sdkAppId), 'administrator', '--store', store]).stdout.trim();
    node = await startChild(['--store', store, '--data-dir', dir]);
    const base = node.url;
    let n = 0;
    const post = async (cmd: string, body: unknown): Promise<Record<string, unknown>> => {
      const q = { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: String(n++), contenttype: 'json' };
      // A hang fails the test: every answer comes within the bound.
      const res = await fetch(restUrl(base, cmd, q), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      return (await res.json()) as Record<string, unknown>;
    };
    const ok = async (cmd: string, body: unknown) => {
      const env = await post(cmd, body);
      assert.equal(env.ErrorCode, 0, `${cmd}: ${JSON.stringify(env)}`);
      return env;
    };
    await ok('im_open_login_svc/multiaccount_import', { Accounts: ['robot', 'host', 'fan', ...Array.from({ length: 20 }, (_, i) => `callee${i}`)] });
    await ok('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'outage_room', Owner_Account: 'host' } });
    await ok('live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 1, DefaultName: 'Rose' });

    const codes = new Map<number, number>();
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const results = await Promise.all([
          post('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: [`callee${(w * 7 + i) % 20}`], Timeout: 60000, CallInfo: { MediaType: 'Audio' } }),
          post('live_engine_http_srv/send_gift', { RoomId: 'outage_room', GiftId: 'rose', Count: 1, From_Account: 'fan', ReceiverList_Account: ['host'] }),
          post('im_open_login_svc/account_import', { UserID: `u${w}_${i}` }),
        ]);
        for (const env of results) {
          const code = env.ErrorCode as number;
          codes.set(code, (codes.get(code) ?? 0) + 1);
          assert.ok(code === 0 || INTERNAL.has(code), `unexpected answer ${JSON.stringify(env)}`);
        }
        const callId = (results[0].Response as { CallId?: string } | undefined)?.CallId;
        if (callId) await post('call_engine_http_srv/end_call', { CallId: callId });
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    let cut = 0;
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 300));
      cut += await terminate(admin, appName);
    }
    stop = true;
    await load;
    assert.ok(cut > 0, 'the node had PostgreSQL connections to cut');
    assert.equal(node.proc.exitCode, null, `the node is still running:\n${node.output()}`);

    // PostgreSQL never went away for new connections: the next requests succeed at once.
    await ok('live_engine_http_srv/send_gift', { RoomId: 'outage_room', GiftId: 'rose', Count: 1, From_Account: 'fan', ReceiverList_Account: ['host'] });
    const started = await ok('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: ['callee0'], Timeout: 60000, CallInfo: { MediaType: 'Audio' } });
    await ok('call_engine_http_srv/end_call', { CallId: (started.Response as { CallId: string }).CallId });
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.ok((codes.get(0) ?? 0) > 0, `some requests succeeded under load: ${JSON.stringify([...codes])}`);
    // Callbacks queued before, during and after the cuts go out without any other traffic.
    for (let i = 0; ; i++) {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema.name}.callback_outbox WHERE status = 'pending'`);
      if (rows[0]!.n === 0) break;
      assert.ok(i < 300, `${rows[0]!.n} callbacks still pending`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
