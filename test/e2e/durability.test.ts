import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, startChild } from '../helpers/child.ts';
import { freshStore, PG_SKIP, PG_URL, STORES } from '../helpers/pg.ts';
import { restUrl } from '../helpers/server.ts';

describe('durability', () => {
  if (!PG_URL) it('keeps every acknowledged account import across kill -9 on PostgreSQL', (t) => t.skip(PG_SKIP));
  for (const kind of STORES) it(`keeps every acknowledged account import across kill -9 on ${kind}`, async () => {
    const store = await freshStore(kind);
    const { sdkAppId } = JSON.parse(runCli(['app', 'create', '--json', ...store.args]).stdout) as { sdkAppId: number };
    runCli(['app', 'set', String(sdkAppId), 'rateLimits=off', ...store.args]);
    const usersig = runCli(['usersig', String(sdkAppId), 'administrator', ...store.args]).stdout.trim();
    const q = { sdkappid: String(sdkAppId), identifier: 'administrator', usersig, random: '1', contenttype: 'json' };
    const post = async (url: string, cmd: string, body: unknown) =>
      (await (await fetch(restUrl(url, `im_open_login_svc/${cmd}`, q), { method: 'POST', body: JSON.stringify(body) })).json()) as Record<string, unknown>;

    const first = await startChild(store.args);
    const acked: string[] = [];
    // Fire imports without waiting and kill while some are still in flight: only the acknowledged ones must survive.
    const inflight = Array.from({ length: 200 }, (_, i) => `durable_${i}`).map((id) =>
      post(first.url, 'account_import', { UserID: id }).then(
        (env) => env.ErrorCode === 0 && acked.push(id),
        () => undefined,
      ),
    );
    await Promise.race([Promise.all(inflight), new Promise((r) => setTimeout(r, 300))]);
    await first.stop('SIGKILL');
    await Promise.allSettled(inflight);
    assert.ok(acked.length > 0, 'some imports were acknowledged before the kill');

    const second = await startChild(store.args);
    try {
      for (let i = 0; i < acked.length; i += 100) {
        const env = await post(second.url, 'account_check', { CheckItem: acked.slice(i, i + 100).map((UserID) => ({ UserID })) });
        const lost = (env.ResultItem as Array<{ UserID: string; AccountStatus: string }>).filter((r) => r.AccountStatus !== 'Imported');
        assert.deepEqual(lost, [], 'acknowledged imports lost');
      }
    } finally {
      await second.stop('SIGKILL');
      await store.drop();
    }
  });
});
