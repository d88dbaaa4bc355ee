import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSettings } from '../../services/apps/settings.ts';
import { liveCallbackToken } from '../../webhooks/live-callbacks.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { concurrentCodes, freezeClock, withFreshServer } from './testkit.ts';

const SET = 'live_config/set_callback_token';
const GET = 'live_config/get_callback_token';
const ENVELOPE = ['ActionStatus', 'ErrorInfo', 'ErrorCode', 'RequestId'];

let t: TestServer;
before(async () => {
  t = await startTestServer();
  await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
});
after(() => t.close());

async function expectError(command: string, body: unknown, code: number, info: RegExp): Promise<void> {
  const env = await t.rest(command, body);
  assert.equal(env.ErrorCode, code, JSON.stringify(env));
  assert.equal(env.ActionStatus, 'FAIL');
  assert.match(String(env.ErrorInfo), info);
}

describe('live_config/set_callback_token and get_callback_token', () => {
  it('get answers 100302 while no token was ever set', async () => {
    await expectError(GET, {}, 100302, /callback authentication configuration does not exist/);
  });

  it('the first set needs both Token and IsTokenEnable', async () => {
    await expectError(SET, { Token: 'abc' }, 100002, /both required the first time/);
    await expectError(SET, { IsTokenEnable: true }, 100002, /both required the first time/);
    await expectError(SET, {}, 100002, /both required the first time/);
    await expectError(GET, {}, 100302, /does not exist/);
  });

  it('validates Token (1-128 characters) and the field types with 100002 naming the field', async () => {
    await expectError(SET, { Token: '', IsTokenEnable: true }, 100002, /Token must be 1-128 characters/);
    await expectError(SET, { Token: 'x'.repeat(129), IsTokenEnable: true }, 100002, /Token must be 1-128 characters/);
    await expectError(SET, { Token: 5, IsTokenEnable: true }, 100002, /\/Token: Expected string/);
    await expectError(SET, { Token: 'abc', IsTokenEnable: 'true' }, 100002, /\/IsTokenEnable: Expected boolean/);
  });

  it('sets the documented sample, then get returns it in Response', async () => {
    const token = 'x'.repeat(128);
    const set = await t.rest(SET, { Token: token, IsTokenEnable: true });
    assert.equal(set.ErrorCode, 0, JSON.stringify(set));
    assert.deepEqual(Object.keys(set), ENVELOPE);
    const got = await t.rest(GET, {});
    assert.equal(got.ErrorCode, 0);
    assert.deepEqual(Object.keys(got), [...ENVELOPE, 'Response']);
    assert.deepEqual(got.Response, { Token: token, IsTokenEnable: true });
  });

  it('later calls change only the fields they carry', async () => {
    assert.equal((await t.rest(SET, { IsTokenEnable: false })).ErrorCode, 0);
    assert.deepEqual((await t.rest(GET, {})).Response, { Token: 'x'.repeat(128), IsTokenEnable: false });
    assert.equal((await t.rest(SET, { Token: 'xxxxyyyy' })).ErrorCode, 0);
    assert.deepEqual((await t.rest(GET, {})).Response, { Token: 'xxxxyyyy', IsTokenEnable: false });
    assert.equal((await t.rest(SET, {})).ErrorCode, 0, 'nothing to change is fine once configured');
  });

  it('is stored in the app settings (liveCallback.*), visible to the CLI and kept across a reload', async () => {
    const s = t.server.apps.get(t.app.sdkAppId)!.settings.liveCallback;
    assert.deepEqual(s, { token: 'xxxxyyyy', enabled: false, configured: true, giftNonBlocking: false });
    const row = await t.server.store.apps.get(t.app.sdkAppId);
    assert.deepEqual(parseSettings(row!.settings).liveCallback, s);
  });

  it('an empty liveCallback.token (app set) removes the configuration', async () => {
    await t.server.apps.update(t.app.sdkAppId, { 'liveCallback.token': '' });
    await expectError(GET, {}, 100302, /does not exist/);
  });
});

describe('which token signs Live.* callbacks', () => {
  const base = parseSettings('{}');
  it('the live_config token when configured and enabled; none when disabled; else callback.token', () => {
    assert.equal(liveCallbackToken({ ...base, callback: { token: 'im' } }), 'im');
    assert.equal(liveCallbackToken({ ...base, callback: { token: 'im' }, liveCallback: { ...base.liveCallback, token: 'live', enabled: true, configured: true } }), 'live');
    assert.equal(liveCallbackToken({ ...base, callback: { token: 'im' }, liveCallback: { ...base.liveCallback, token: 'live', enabled: false, configured: true } }), '');
  });

  it('old stored settings without liveCallback parse to "not configured"', () => {
    assert.deepEqual(parseSettings(JSON.stringify({ callback: { url: 'x', token: 'y' } })).liveCallback, { token: '', enabled: false, configured: false, giftNonBlocking: false });
  });
});

describe('rate limits: 200/s for both commands', () => {
  freezeClock();

  it('205 concurrent requests: 200 pass, 5 get 60007', () =>
    withFreshServer(async (fresh) => {
      for (const [cmd, pass] of [
        [GET, 100302],
        [SET, 100002],
      ] as const) {
        const codes = await concurrentCodes(fresh, cmd, {}, 205);
        assert.equal(codes.filter((c) => c === pass).length, 200, cmd);
        assert.equal(codes.filter((c) => c === 60007).length, 5, cmd);
      }
    }));
});
