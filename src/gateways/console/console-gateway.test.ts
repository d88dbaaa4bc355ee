import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../config.ts';
import { MediaPeer } from '../../../test/helpers/media-peer.ts';
import { rtcLogin } from '../../../test/helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';

const TOKEN = 'unit-console-token-abcdefgh';

type ErrorBody = { error: { code: string; message: string } };

describe('console gateway', () => {
  let t: TestServer;
  let other: { sdkAppId: number; secretKey: string };
  let otherCallback: number;

  before(async () => {
    t = await startTestServer({ consoleToken: TOKEN, callbackRetryBaseMs: 600_000 });
    other = await t.server.apps.create();
    // A callback of the other app that failed for good (its URL is nobody's).
    await t.server.apps.update(other.sdkAppId, { 'callback.url': 'http://127.0.0.1:9/cb' });
    await t.server.store.outbox.enqueue([
      { sdk_app_id: other.sdkAppId, command: 'Live.CallbackAfterCreateRoom', order_key: 'x', body: '{}', client_ip: '', platform: 'RESTAPI', status: 'failed', attempts: 3, next_attempt_at: 0, created_at: Date.now(), delivered_at: 0, last_status: 500, last_error: 'HTTP 500' },
    ]);
    otherCallback = Number((await t.server.store.outbox.list({ sdkAppId: other.sdkAppId, limit: 1 }))[0]!.id);
  });
  after(() => t.close());

  const url = (p: string) => `${t.server.url}/console/${p}`;
  const bearer = { authorization: `Bearer ${TOKEN}` };
  const errorOf = async (r: Response): Promise<ErrorBody['error']> => ((await r.json()) as ErrorBody).error;
  const login = (body: string, type = 'application/x-www-form-urlencoded') => fetch(url('login'), { method: 'POST', body, headers: { 'content-type': type }, redirect: 'manual' });
  const cookieOf = (r: Response) => r.headers.get('set-cookie')!.split(';')[0]!;

  it('answers nothing under /console/ without a token or app login: 401 as JSON for the API, as a page otherwise', async () => {
    for (const p of ['', 'index.html', 'console.js', 'console.css', 'nothing-here']) {
      const r = await fetch(url(p));
      assert.equal(r.status, 401, p);
      assert.match(r.headers.get('content-type')!, /text\/html/);
      assert.match(await r.text(), /data-code="Unauthorized"/);
    }
    for (const [method, p] of [['GET', 'api/state'], ['POST', `api/apps/${t.app.sdkAppId}/callbacks/1/retry`], ['GET', 'api/unknown']]) {
      const r = await fetch(url(p!), { method });
      assert.equal(r.status, 401, p);
      assert.equal((await errorOf(r)).code, 'Unauthorized');
    }
  });

  it('refuses malformed and wrong credentials: a wrong Bearer, forged cookies, a wrong token in the address', async () => {
    const cookies = ['trtcd_console=t.wrong', 'trtcd_console=', `trtcd_console=a.${t.app.sdkAppId}.${'A'.repeat(43)}`, 'trtcd_console=a.x.y', `trtcd_console=t.${TOKEN}x`, `other=t.${TOKEN}`];
    for (const cookie of cookies) assert.equal((await fetch(url('api/state'), { headers: { cookie } })).status, 401, cookie);
    for (const authorization of [`Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, 'Bearer ', `bearer ${TOKEN}`]) {
      assert.equal((await fetch(url('api/state'), { headers: { authorization } })).status, 401, authorization);
    }
    assert.equal((await fetch(url('?token=nope'), { redirect: 'manual' })).status, 401);
  });

  it('the token (address or Bearer) shows every app; a redirect takes the token out of the address', async () => {
    const opened = await fetch(url(`?token=${TOKEN}`), { redirect: 'manual' });
    assert.equal(opened.status, 303);
    assert.equal(opened.headers.get('location'), '/console/');
    assert.match(opened.headers.get('set-cookie')!, /^trtcd_console=t\.[\w-]+; Path=\/console\/; HttpOnly; SameSite=Strict$/);
    const page = await fetch(url(''), { headers: { cookie: cookieOf(opened) } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>trtcd console<\/title>/);
    const state = (await (await fetch(url('api/state'), { headers: bearer })).json()) as { viewer: string; apps: Array<{ sdkAppId: number }>; app: { sdkAppId: number } };
    assert.equal(state.viewer, 'token');
    assert.deepEqual(state.apps.map((a) => a.sdkAppId).sort(), [t.app.sdkAppId, other.sdkAppId].sort());
    assert.equal(state.app.sdkAppId, state.apps[0]!.sdkAppId, 'the first app in full when none is asked for');
    const shown = (await (await fetch(url(`api/state?sdkAppId=${other.sdkAppId}`), { headers: bearer })).json()) as { app: { sdkAppId: number; callbacks: unknown[] } };
    assert.equal(shown.app.sdkAppId, other.sdkAppId);
    assert.equal(shown.app.callbacks.length, 1);
  });

  it('an app login (SDKAppID + SecretKey, form or JSON) shows that app only, and not another app’s callbacks', async () => {
    const r = await login(new URLSearchParams({ sdkAppId: String(t.app.sdkAppId), secretKey: t.app.secretKey }).toString());
    assert.equal(r.status, 303);
    const cookie = cookieOf(r);
    // Asking for another app shows its own.
    const state = (await (await fetch(url(`api/state?sdkAppId=${other.sdkAppId}`), { headers: { cookie } })).json()) as { viewer: string; apps: Array<{ sdkAppId: number }>; app: { sdkAppId: number } };
    assert.equal(state.viewer, 'app');
    assert.deepEqual(state.apps.map((a) => a.sdkAppId), [t.app.sdkAppId]);
    assert.equal(state.app.sdkAppId, t.app.sdkAppId);
    assert.doesNotMatch(JSON.stringify(state), new RegExp(t.app.secretKey), 'no secret is shown');
    // Wrong tenant: the other app's callback is as unknown as a missing one.
    const retry = await fetch(url(`api/apps/${other.sdkAppId}/callbacks/${otherCallback}/retry`), { method: 'POST', headers: { cookie } });
    assert.equal(retry.status, 404);
    assert.equal((await errorOf(retry)).code, 'NotFound');
    const mine = await fetch(url(`api/apps/${t.app.sdkAppId}/callbacks/${otherCallback}/retry`), { method: 'POST', headers: { cookie } });
    assert.equal(mine.status, 404, 'a callback id of another app under its own app id');
    const json = await login(JSON.stringify({ sdkAppId: other.sdkAppId, secretKey: other.secretKey }), 'application/json');
    assert.equal(json.status, 303);
    // Signing out clears the cookie.
    const out = await fetch(url('logout'), { method: 'POST', headers: { cookie }, redirect: 'manual' });
    assert.equal(out.status, 303);
    assert.match(out.headers.get('set-cookie')!, /^trtcd_console=; Max-Age=0/);
  });

  it('retry now: a failed callback is made due again; a delivered one is left; bad ids, paths and methods get the console’s errors', async () => {
    const r = await fetch(url(`api/apps/${other.sdkAppId}/callbacks/${otherCallback}/retry`), { method: 'POST', headers: bearer });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { retried: boolean; callback: { id: number; status: string } };
    assert.deepEqual([body.retried, body.callback.id, body.callback.status], [true, otherCallback, 'pending']);
    await t.server.callbacks.settled();
    await t.server.store.outbox.update(otherCallback, { status: 'delivered' });
    const again = (await (await fetch(url(`api/apps/${other.sdkAppId}/callbacks/${otherCallback}/retry`), { method: 'POST', headers: bearer })).json()) as { retried: boolean };
    assert.equal(again.retried, false);
    for (const p of [`api/apps/${other.sdkAppId}/callbacks/999999/retry`, 'api/apps/0/callbacks/1/retry', 'api/apps/x/callbacks/1/retry', `api/apps/${other.sdkAppId}/callbacks/-1/retry`, `api/apps/${other.sdkAppId}/callbacks/${'9'.repeat(40)}/retry`, 'api/nothing']) {
      const res = await fetch(url(p), { method: 'POST', headers: bearer });
      assert.equal(res.status, 404, p);
      assert.equal((await errorOf(res)).code, 'NotFound');
    }
    const get = await fetch(url(`api/apps/${other.sdkAppId}/callbacks/${otherCallback}/retry`), { headers: bearer });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const post = await fetch(url('api/state'), { method: 'POST', headers: bearer });
    assert.equal(post.status, 405);
    assert.equal((await fetch(url('login'))).status, 405);
    assert.equal((await fetch(url('index.html'), { method: 'DELETE', headers: { cookie: `trtcd_console=t.${TOKEN}` } })).status, 405);
  });

  it('login refuses malformed, wrong-typed and oversized bodies, and limits failed logins per address', async () => {
    assert.equal((await login('{"sdkAppId":', 'application/json')).status, 400);
    assert.equal((await login('[1,2]', 'application/json')).status, 400);
    assert.equal((await login(JSON.stringify({ sdkAppId: [t.app.sdkAppId], secretKey: t.app.secretKey }), 'application/json')).status, 401);
    assert.equal((await login(JSON.stringify({ sdkAppId: t.app.sdkAppId, secretKey: 12 }), 'application/json')).status, 401);
    assert.equal((await login(`token=${'x'.repeat(5000)}`)).status, 413);
    let limited = 0;
    for (let i = 0; i < 12; i++) if ((await login(`sdkAppId=${t.app.sdkAppId}&secretKey=wrong`)).status === 429) limited++;
    assert.ok(limited >= 1, 'the failed logins are limited');
    const r = await login(`sdkAppId=${t.app.sdkAppId}&secretKey=wrong`);
    assert.equal(r.status, 429);
    assert.match(await r.text(), /data-code="TooManyRequests"/);
    // Good credentials still open it: only failures are counted.
    assert.equal((await login(`sdkAppId=${t.app.sdkAppId}&secretKey=${encodeURIComponent(t.app.secretKey)}`)).status, 303);
  });

  it('consoleToken off: no token opens the console, an app login still does; a malformed token is a configuration error', async () => {
    const s = await startTestServer({ consoleToken: 'off' });
    try {
      for (const token of ['', 'off', 'anything']) assert.equal((await fetch(`${s.server.url}/console/api/state`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
      const r = await fetch(`${s.server.url}/console/login`, { method: 'POST', body: 'token=off', redirect: 'manual' });
      assert.equal(r.status, 401);
      const app = await fetch(`${s.server.url}/console/login`, { method: 'POST', body: `sdkAppId=${s.app.sdkAppId}&secretKey=${encodeURIComponent(s.app.secretKey)}`, redirect: 'manual' });
      assert.equal(app.status, 303);
    } finally {
      await s.close();
    }
    assert.throws(() => loadConfig({ env: { TRTCD_CONSOLE_TOKEN: 'short' } }), /consoleToken/);
    assert.throws(() => loadConfig({ env: { TRTCD_CONSOLE_TOKEN: 'has spaces in it 0123456789' } }), /consoleToken/);
  });

  it('previews (live thumbnails): refused without a stream, for another tenant, with bad bodies and methods; unknown ids', async () => {
    const appCookie = cookieOf(await login(new URLSearchParams({ sdkAppId: String(t.app.sdkAppId), secretKey: t.app.secretKey }).toString()));
    const post = (appId: number, body: string, headers: Record<string, string> = bearer) => fetch(url(`api/apps/${appId}/previews`), { method: 'POST', body, headers });
    const good = { roomId: 42, userId: 'nobody', stream: 'main', sdp: 'v=0' };
    const r = await post(t.app.sdkAppId, JSON.stringify(good));
    assert.equal(r.status, 404);
    assert.equal((await errorOf(r)).code, 'NotFound');
    // Another app's stream, seen with one app's login: not found, whatever exists there.
    assert.equal((await post(other.sdkAppId, JSON.stringify(good), { cookie: appCookie })).status, 404);
    assert.equal((await post(999, JSON.stringify(good))).status, 404, 'an app that does not exist');
    for (const bad of ['{', '[]', 'null', JSON.stringify({ ...good, roomId: 0 }), JSON.stringify({ ...good, roomId: 'x' }), JSON.stringify({ ...good, strRoomId: 'both' }), JSON.stringify({ ...good, userId: '' }), JSON.stringify({ ...good, userId: 7 }), JSON.stringify({ ...good, stream: 'aux' }), JSON.stringify({ ...good, sdp: 1 }), JSON.stringify({ roomId: 42, userId: 'u' })]) {
      const res = await post(t.app.sdkAppId, bad);
      assert.equal(res.status, 400, bad);
      assert.equal((await errorOf(res)).code, 'BadRequest');
    }
    assert.equal((await post(t.app.sdkAppId, JSON.stringify({ ...good, sdp: 'x'.repeat(40_000) }))).status, 413);
    assert.equal((await fetch(url(`api/apps/${t.app.sdkAppId}/previews`), { headers: bearer })).status, 405);
    assert.equal((await fetch(url('api/previews/s999999'), { method: 'DELETE', headers: bearer })).status, 404);
    assert.equal((await fetch(url('api/previews/s1'), { headers: bearer })).status, 405);
    assert.equal((await fetch(url('api/previews/s1'), { method: 'DELETE' })).status, 401);
  });

  it('a preview of a published stream opens with the token, is answered with SDP, and only the token or its own app closes it', { timeout: 20_000 }, async () => {
    const { client } = await rtcLogin(t.server.url, other, 'pub-other');
    const pub = new MediaPeer('publish', ['video']);
    const viewer = new MediaPeer('subscribe', ['video']);
    try {
      assert.equal((await client.request('room.enter', { roomId: 77 })).ok, true);
      const published = await client.request('media.publish', { roomId: 77, sdp: await pub.offer() });
      assert.equal(published.ok, true, JSON.stringify(published));
      await pub.answer(published.sdp as string);
      const res = await fetch(url(`api/apps/${other.sdkAppId}/previews`), { method: 'POST', headers: bearer, body: JSON.stringify({ roomId: 77, userId: 'pub-other', sdp: await viewer.offer() }) });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { previewId: string; sdp: string };
      assert.match(body.sdp, /m=video/);
      const stream = t.server.rtc.media.sfu.find(other.sdkAppId, { roomId: 77 }, 'pub-other', 'main')!;
      assert.equal(stream.subscriptions.size, 1);
      // The snapshot counts no subscriber for it.
      const state = (await (await fetch(url(`api/state?sdkAppId=${other.sdkAppId}`), { headers: bearer })).json()) as { app: { trtcRooms: Array<{ streams: Array<{ subscribers: number }> }> } };
      assert.equal(state.app.trtcRooms[0]!.streams[0]!.subscribers, 0);
      const appCookie = cookieOf(await login(new URLSearchParams({ sdkAppId: String(t.app.sdkAppId), secretKey: t.app.secretKey }).toString()));
      assert.equal((await fetch(url(`api/previews/${body.previewId}`), { method: 'DELETE', headers: { cookie: appCookie } })).status, 404, 'another app’s preview');
      assert.equal(stream.subscriptions.size, 1);
      assert.equal((await fetch(url(`api/previews/${body.previewId}`), { method: 'DELETE', headers: bearer })).status, 204);
      assert.equal(stream.subscriptions.size, 0);
    } finally {
      client.ws.terminate();
      await pub.close();
      await viewer.close();
    }
  });
});
