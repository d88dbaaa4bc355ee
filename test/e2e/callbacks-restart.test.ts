import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { startReceiver } from '../helpers/receiver.ts';
import { freshStore, PG_SKIP, PG_URL, STORES } from '../helpers/pg.ts';
import { restUrl } from '../helpers/server.ts';

const children: ServerChild[] = [];
after(async () => {
  for (const c of children) await c.stop('SIGKILL');
});

describe('callback delivery across a crash', () => {
  if (!PG_URL) it('delivers every queued callback, in order, after kill -9 mid-delivery and a receiver failing first on PostgreSQL', (t) => t.skip(PG_SKIP));
  for (const kind of STORES) it(`delivers every queued callback, in order, after kill -9 mid-delivery and a receiver failing first on ${kind}`, async (t) => {
    const rx = await startReceiver();
    const store = await freshStore(kind);
    t.after(() => store.drop());
    const { sdkAppId } = JSON.parse(runCli(['app', 'create', '--json', ...store.args]).stdout) as { sdkAppId: number };
    assert.equal(runCli(['app', 'set', String(sdkAppId), `callback.url=${rx.url}`, 'rateLimits=off', ...store.args]).status, 0);
    const usersig = runCli(['usersig', String(sdkAppId), 'administrator', ...store.args]).stdout.trim();
    const env = { TRTCD_CALLBACK_RETRY_BASE_MS: '200', TRTCD_CALLBACK_RETRY_MAX_MS: '400' };
    const post = async (url: string, cmd: string, body: unknown) =>
      (await (
        await fetch(restUrl(url, cmd, { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' }), {
          method: 'POST',
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, unknown> & { Response?: { CallId: string } };

    rx.failNext(1000); // down until further notice
    const first = await startChild(store.args, env);
    children.push(first);
    await post(first.url, 'im_open_login_svc/multiaccount_import', { Accounts: ['robot', 'u1', 'u2'] });
    const ids: string[] = [];
    for (const callee of ['u1', 'u2']) {
      const started = await post(first.url, 'call_engine_http_srv/start_call_by_robot', { Robot_Account: 'robot', CalleeList_Account: [callee], Timeout: 60000, CallInfo: { MediaType: 'Audio' } });
      assert.equal(started.ErrorCode, 0, JSON.stringify(started));
      ids.push(started.Response!.CallId);
      assert.equal((await post(first.url, 'call_engine_http_srv/end_call', { CallId: started.Response!.CallId })).ErrorCode, 0);
    }
    await rx.waitAll(3); // the receiver is failing: deliveries are being retried
    await first.stop('SIGKILL');

    const pending = runCli(['callbacks', 'list', '--status', 'pending', ...store.args]).stdout.trim().split('\n').filter(Boolean);
    assert.equal(pending.length, 4, 'all four callbacks still queued after the crash');

    rx.failNext(1); // back up after one more failure
    const second = await startChild(store.args, env);
    children.push(second);
    const got = await rx.waitDelivered(4);
    for (const callId of ids) {
      const mine = got.filter((r) => JSON.stringify(r.body).includes(callId)).map((r) => r.body.CallbackCommand);
      assert.deepEqual(mine, ['Call.CallbackAfterStartCall', 'Call.CallbackAfterEndCall'], `order for ${callId}`);
    }
    await second.stop('SIGTERM');
    const log = runCli(['callbacks', 'list', '--sdkappid', String(sdkAppId), ...store.args]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; attempts: number; command: string; body: unknown });
    assert.deepEqual(log.map((r) => r.status), ['delivered', 'delivered', 'delivered', 'delivered']);
    assert.ok(log.some((r) => r.attempts > 1), 'some callbacks needed retries');
    assert.ok(log.every((r) => typeof r.body === 'object'));
    await rx.close();
  });
});
