import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { genUserSig } from '../../auth/usersig.ts';
import { restUrl, startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { concurrentCodes, freezeClock, withFreshServer } from './testkit.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

const check = { CheckItem: [{ UserID: 'administrator' }] };
const CMD = 'im_open_login_svc/account_check';

async function code(command: string, body: unknown, query: Record<string, string | undefined> = {}): Promise<number> {
  const env = await t.rest(command, body, query);
  assert.equal(typeof env.RequestId, 'string');
  assert.equal(env.ActionStatus, env.ErrorCode === 0 ? 'OK' : 'FAIL');
  assert.equal(typeof env.ErrorInfo, 'string');
  return env.ErrorCode as number;
}

function sig(opts: { userId?: string; sdkAppId?: number; secretKey?: string; expire?: number; now?: number } = {}): string {
  return genUserSig({
    sdkAppId: opts.sdkAppId ?? t.app.sdkAppId,
    secretKey: opts.secretKey ?? t.app.secretKey,
    userId: opts.userId ?? 'administrator',
    expire: opts.expire ?? 3600,
    now: opts.now,
  });
}

describe('REST v4 envelope', () => {
  it('answers a valid admin call with the envelope in Tencent field order', async () => {
    const res = await fetch(restUrl(t.server.url, `v4/${CMD}`.slice(3), { sdkappid: String(t.app.sdkAppId), identifier: 'administrator', usersig: t.adminSig, random: '1', contenttype: 'json' }), {
      method: 'POST',
      body: JSON.stringify(check),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const text = await res.text();
    assert.match(text, /^\{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RequestId":"Id-[0-9a-f]{32}-O-Seq-\d+","ResultItem":/);
  });

  it('gives every request a distinct RequestId', async () => {
    const a = await t.rest(CMD, check);
    const b = await t.rest(CMD, check);
    assert.notEqual(a.RequestId, b.RequestId);
  });
});

describe('REST v4 common error codes', () => {
  it('60002 for a URL that is not /v4/<service>/<command>', async () => {
    for (const path of ['/v4/im_open_login_svc', '/v4/a/b/c', '/v3/im_open_login_svc/account_check', '/nope', '/v4/a%20b/c']) {
      const res = await fetch(`${t.server.url}${path}?random=1&contenttype=json`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { ErrorCode: number }).ErrorCode, 60002, path);
    }
  });

  it('60002 for a missing or invalid random and for contenttype other than json', async () => {
    assert.equal(await code(CMD, check, { random: undefined }), 60002);
    assert.equal(await code(CMD, check, { random: 'abc' }), 60002);
    assert.equal(await code(CMD, check, { random: '4294967296' }), 60002);
    assert.equal(await code(CMD, check, { random: '-1' }), 60002);
    assert.equal(await code(CMD, check, { random: '4294967295' }), 0);
    assert.equal(await code(CMD, check, { contenttype: 'xml' }), 60002);
    assert.equal(await code(CMD, check, { contenttype: undefined }), 60002);
  });

  it('60003 for an empty body, malformed JSON or a non-object', async () => {
    assert.equal(await code(CMD, ''), 60003);
    assert.equal(await code(CMD, '{"CheckItem":['), 60003);
    assert.equal(await code(CMD, '[]'), 60003);
    assert.equal(await code(CMD, 'null'), 60003);
    assert.equal(await code(CMD, '42'), 60003);
  });

  it('60004 when identifier is missing', async () => {
    assert.equal(await code(CMD, check, { identifier: undefined }), 60004);
    assert.equal(await code(CMD, check, { identifier: '' }), 60004);
  });

  it('60006 for an unknown or non-numeric sdkappid', async () => {
    assert.equal(await code(CMD, check, { sdkappid: '1234' }), 60006);
    assert.equal(await code(CMD, check, { sdkappid: 'abc' }), 60006);
    assert.equal(await code(CMD, check, { sdkappid: '99999999999' }), 60006);
  });

  it('60008 for a method other than POST and for an oversized body', async () => {
    const url = restUrl(t.server.url, CMD, { sdkappid: String(t.app.sdkAppId), identifier: 'administrator', usersig: t.adminSig, random: '1', contenttype: 'json' });
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await fetch(url, { method });
      assert.equal(((await res.json()) as { ErrorCode: number }).ErrorCode, 60008, method);
    }
    const big = JSON.stringify({ CheckItem: [{ UserID: 'x'.repeat(1024 * 1024) }] });
    assert.equal(await code(CMD, big), 60008);
  });

  it('60009 for an unknown service or command', async () => {
    assert.equal(await code('im_open_login_svc/no_such_command', {}), 60009);
    assert.equal(await code('no_such_svc/account_check', {}), 60009);
    assert.equal(await code('im_open_login_svc/__proto__', {}), 60009);
    assert.equal(await code('im_open_login_svc/constructor', {}), 60009);
  });

  it('60010 for a valid UserSig of a non-admin identifier', async () => {
    assert.equal(await code(CMD, check, { identifier: 'alice', usersig: sig({ userId: 'alice' }) }), 60010);
  });

  it('60012 when sdkappid is missing', async () => {
    assert.equal(await code(CMD, check, { sdkappid: undefined }), 60012);
    assert.equal(await code(CMD, check, { sdkappid: '' }), 60012);
  });

  it('60015 when an account field is not a string', async () => {
    assert.equal(await code(CMD, { CheckItem: [{ UserID: 123 }] }), 60015);
    assert.equal(await code('im_open_login_svc/account_import', { UserID: 7 }), 60015);
    assert.equal(await code('im_open_login_svc/multiaccount_import', { Accounts: ['a', 2] }), 60015);
  });

  it('60016 for a disabled app, 60020 for an expired one, 60021 for a source IP not allowed', async () => {
    const id = t.app.sdkAppId;
    await t.server.apps.update(id, { disabled: true });
    assert.equal(await code(CMD, check), 60016);
    await t.server.apps.update(id, { disabled: false, expiresAt: 1000000000 });
    assert.equal(await code(CMD, check), 60020);
    await t.server.apps.update(id, { expiresAt: null, ipAllowlist: ['10.1.2.0/24'] });
    assert.equal(await code(CMD, check), 60021);
    await t.server.apps.update(id, { ipAllowlist: ['127.0.0.0/8', '::1'] });
    assert.equal(await code(CMD, check), 0);
    await t.server.apps.update(id, { ipAllowlist: [] });
    assert.equal(await code(CMD, check), 0);
  });
});

describe('REST v4 UserSig errors', () => {
  it('70002 for an empty usersig', async () => {
    assert.equal(await code(CMD, check, { usersig: undefined }), 70002);
    assert.equal(await code(CMD, check, { usersig: '' }), 70002);
  });

  it('70003 for a truncated or garbage usersig', async () => {
    assert.equal(await code(CMD, check, { usersig: t.adminSig.slice(0, 40) }), 70003);
    assert.equal(await code(CMD, check, { usersig: 'not-a-usersig' }), 70003);
  });

  it('70009 for a UserSig made with another key', async () => {
    assert.equal(await code(CMD, check, { usersig: sig({ secretKey: 'f'.repeat(64) }) }), 70009);
  });

  it('70013 for a UserSig made for another identifier', async () => {
    assert.equal(await code(CMD, check, { usersig: sig({ userId: 'bob' }) }), 70013);
  });

  it('70014 for a UserSig made for another SDKAppID', async () => {
    assert.equal(await code(CMD, check, { usersig: sig({ sdkAppId: 1400999999 }) }), 70014);
  });

  it('70001 for an expired UserSig', async () => {
    assert.equal(await code(CMD, check, { usersig: sig({ expire: 60, now: Math.floor(Date.now() / 1000) - 3600 }) }), 70001);
  });
});

describe('REST v4 rate limits', () => {
  // The windows are real one-second windows: freeze the clock so a slow machine cannot straddle two of them.
  freezeClock();

  it('60011 over the app-wide limit (appRateLimit), again after the window passes', async () => {
    const id = t.app.sdkAppId;
    await t.server.apps.update(id, { appRateLimit: 2 });
    assert.deepEqual([await code(CMD, check), await code(CMD, check), await code(CMD, check)], [0, 0, 60011]);
    mock.timers.tick(1000);
    assert.equal(await code(CMD, check), 0);
    await t.server.apps.update(id, { appRateLimit: 0 });
  });

  it('60007 over the published per-API limit (account_check: 100/s), none when rateLimits=off', () =>
    withFreshServer(async (fresh) => {
      const codes = await concurrentCodes(fresh, CMD, check, 130);
      assert.equal(codes.filter((c) => c === 0).length, 100);
      assert.equal(codes.filter((c) => c === 60007).length, 30);
      mock.timers.tick(1000);
      assert.equal((await fresh.rest(CMD, check)).ErrorCode, 0);
      await fresh.server.apps.update(fresh.app.sdkAppId, { rateLimits: 'off' });
      const after = await concurrentCodes(fresh, CMD, check, 130);
      assert.deepEqual(new Set(after), new Set([0]));
    }));
});
