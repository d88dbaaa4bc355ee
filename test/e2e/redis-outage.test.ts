// A node whose Redis stops answering, then goes away, then comes back (through a TCP proxy in front of the machine's
// Redis): requests fail fast with their family's error instead of hanging, a failed write is never applied later,
// /healthz says which dependency is down, and the node serves again once Redis is back. An unreachable Redis at
// start is a clear, non-zero exit. Runs when TRTCD_TEST_REDIS_URL is set (.ci/run sets it).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { restUrl, tempDir } from '../helpers/server.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const REDIS_URL = process.env.TRTCD_TEST_REDIS_URL || undefined;
const SKIP = REDIS_URL ? false : 'TRTCD_TEST_REDIS_URL not set: Redis outage tests skipped';

/** A bound far above the 2 s coordination timeout: an answer later than this is a hang. */
const HANG_MS = 8000;

describe('a node whose Redis goes away', { skip: SKIP }, () => {
  let proxy: TcpProxy;
  let node: ServerChild;
  let sdkAppId: number;
  let usersig: string;
  let n = 0;
  before(async () => {
    const target = new URL(REDIS_URL!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const dir = tempDir();
    const created = runCli(['app', 'create', '--json', '--data-dir', dir]);
    assert.equal(created.status, 0, created.stderr);
    sdkAppId = (JSON.parse(created.stdout) as { sdkAppId: number }).sdkAppId;
    // Limits off: the only Redis a write needs is its lock, the case where a late grant could apply a failed write.
    assert.equal(runCli(['app', 'set', String(sdkAppId), 'rateLimits=off', '--data-dir', dir]).status, 0);
    usersig = runCli(['usersig', String(sdkAppId), 'administrator', '--data-dir', dir]).stdout.trim();
    node = await startChild(['--data-dir', dir, '--redis', `redis://127.0.0.1:${proxy.port}`]);
  });
  after(async () => {
    await node?.stop('SIGKILL');
    await proxy?.close();
  });

  const post = async (cmd: string, body: unknown): Promise<Record<string, unknown>> => {
    const q = { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: String(n++), contenttype: 'json' };
    const res = await fetch(restUrl(node.url, cmd, q), { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(HANG_MS) });
    return (await res.json()) as Record<string, unknown>;
  };
  const health = async () => {
    const res = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(HANG_MS) });
    return { status: res.status, body: (await res.json()) as { status: string; version: string; store: { status: string; kind: string }; redis: { status: string; error?: string } } };
  };
  const until = async (what: string, cond: () => Promise<boolean>) => {
    for (let i = 0; !(await cond()); i++) {
      assert.ok(i < 100, `${what} in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const room = (id: string) => ({ RoomInfo: { RoomId: id, Owner_Account: 'host' } });

  it('reports the store, Redis and the version on /healthz', async () => {
    const h = await health();
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    assert.match(h.body.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(h.body.store, { status: 'ok', kind: 'sqlite' });
    assert.deepEqual(h.body.redis, { status: 'ok' });
    assert.equal((await post('im_open_login_svc/multiaccount_import', { Accounts: ['host', 'robot', 'callee'] })).ErrorCode, 0);
    assert.equal((await post('live_engine_http_srv/create_room', room('before'))).ErrorCode, 0);
  });

  for (const mode of ['hold', 'cut'] as const) {
    it(`Redis ${mode === 'hold' ? 'not answering' : 'gone'}: writes fail fast with the family's error, are never applied later, and work again once Redis is back`, { timeout: 60_000 }, async () => {
      proxy.mode(mode);
      const [live, call] = await Promise.all([
        post('live_engine_http_srv/update_room_info', { RoomInfo: { RoomId: 'before', RoomName: `ghost-${mode}` } }),
        post('call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: ['callee'], Timeout: 60000, CallInfo: { MediaType: 'Audio' } }),
      ]);
      assert.equal(live.ErrorCode, 100001, JSON.stringify(live));
      // A new call needs no lock: it may go through (the store is up), or fail with the call engine's error; it answers.
      assert.ok(call.ErrorCode === 0 || call.ErrorCode === 101001, JSON.stringify(call));
      const callId = (call.Response as { CallId?: string } | undefined)?.CallId;
      const h = await health();
      assert.equal(h.status, 503);
      assert.equal(h.body.status, 'unavailable');
      assert.equal(h.body.redis.status, 'down');
      assert.equal(h.body.store.status, 'ok');

      proxy.mode('pass');
      await until('healthz back to 200', async () => (await health()).status === 200);
      // What waited in the held connection has reached Redis by now (the health check went through it).
      const info = await post('live_engine_http_srv/get_room_info', { RoomId: 'before' });
      assert.equal(info.ErrorCode, 0, JSON.stringify(info));
      assert.notEqual((info.Response as { RoomInfo: { RoomName?: string } }).RoomInfo.RoomName, `ghost-${mode}`, 'the failed change was not applied after Redis came back');
      const modified = await post('live_engine_http_srv/update_room_info', { RoomInfo: { RoomId: 'before', RoomName: `after-${mode}` } });
      assert.equal(modified.ErrorCode, 0, JSON.stringify(modified));
      if (callId) assert.equal((await post('call_engine_http_srv/end_call', { CallId: callId })).ErrorCode, 0);
    });
  }

  it('start with an unreachable Redis exits non-zero, naming Redis', async () => {
    const closed = await startTcpProxy({ host: '127.0.0.1', port: 1 });
    closed.mode('cut');
    try {
      const r = runCli(['start', '--port', '0', '--data-dir', tempDir(), '--redis', `redis://:secret@127.0.0.1:${closed.port}`, '--log-level', 'silent']);
      assert.notEqual(r.status, 0);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
      assert.doesNotMatch(r.stderr, /secret/);
    } finally {
      await closed.close();
    }
  });
});
