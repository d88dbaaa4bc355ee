import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { ivhSignature, ivhSigningString } from '../../auth/ivh-signature.ts';
import { verifyPrivateMapKey } from '../../auth/private-map-key.ts';
import { verifyUserSig } from '../../auth/usersig.ts';
import { InProcessBus } from '../../bus/bus.ts';
import { createLogger } from '../../logger.ts';
import { Metrics } from '../../metrics.ts';
import type { App } from '../../services/apps/apps-service.ts';
import { IVH_CLOSED_TOPIC, IVH_EVENT_TOPIC, type IvhEvent } from '../../services/digital-human/session.ts';
import { DomainError } from '../../services/errors.ts';
import { IvhChannels, IvhCloseCodes, IVH_CHANNEL_PATH, IVH_WS_PREFIX } from './channel.ts';
import { IvhAuthErrors, IvhErrors } from './errors.ts';
import type { IvhSessions } from './gateway.ts';

const SM = '/v2/ivh/sessionmanager/sessionmanagerservice/';
const COMMAND = '/v2/ivh/interactdriver/interactdriverservice/command';

type Envelope = { Header: { Code: number; Message: string; RequestID: string }; Payload: Record<string, unknown> };

/** The signed query of the documentation: every parameter but signature, sorted, raw; signature URL-encoded. */
function signedQuery(appKey: string, accessToken: string, o: { requestId?: string; timestamp?: number } = {}): string {
  const q: Record<string, string> = { appkey: appKey, timestamp: String(o.timestamp ?? Math.floor(Date.now() / 1000)) };
  if (o.requestId !== undefined) q.requestid = o.requestId;
  const signing = ivhSigningString(q);
  return `${signing}&signature=${encodeURIComponent(ivhSignature(accessToken, signing))}`;
}

const reqId = (): string => randomUUID().replaceAll('-', '');

/** Collects a WebSocket's frames; `next` waits for the first unread one that matches. */
class Frames {
  private readonly seen: Envelope[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.seen.push(JSON.parse(String(d)) as Envelope);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async next(pred: (f: Envelope) => boolean = () => true, timeoutMs = 5000): Promise<Envelope> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.seen.findIndex(pred);
      if (i >= 0) return this.seen.splice(i, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms; unread: ${JSON.stringify(this.seen)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(t), resolve()));
      });
    }
  }

  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }

  get unread(): number {
    return this.seen.length;
  }

  send(payload: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ Header: {}, Payload: payload }));
  }
}

type Opened = { frames: Frames } | { status: number; body: string };

function openWs(base: string, path: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + path);
    const frames = new Frames(ws);
    ws.once('open', () => resolve({ frames }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

async function openOk(base: string, path: string): Promise<Frames> {
  const r = await openWs(base, path);
  if (!('frames' in r)) throw new Error(`upgrade refused: ${r.status} ${r.body}`);
  return r.frames;
}

async function openRefused(base: string, path: string): Promise<{ status: number; env: Envelope }> {
  const r = await openWs(base, path);
  if ('frames' in r) {
    r.frames.ws.close();
    throw new Error('upgrade accepted');
  }
  return { status: r.status, env: JSON.parse(r.body) as Envelope };
}

describe('IVH gateway (HTTP, WebSocket) on a running server', () => {
  let t: TestServer;
  let app: App;
  const q = (o?: { requestId?: string; timestamp?: number }): string => signedQuery(app.ivh.appKey, app.ivh.accessToken, o);

  async function raw(path: string, body: string, query = q(), method = 'POST'): Promise<{ status: number; env: Envelope }> {
    const res = await fetch(`${t.server.url}${path}?${query}`, { method, body: method === 'GET' ? undefined : body });
    return { status: res.status, env: (await res.json()) as Envelope };
  }
  async function call(api: string, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<Envelope> {
    const r = await raw(api.startsWith('/') ? api : SM + api, JSON.stringify({ Header: header, Payload: payload }));
    assert.equal(r.status, 200);
    return r.env;
  }
  async function ok(api: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const env = await call(api, payload);
    assert.equal(env.Header.Code, 0, JSON.stringify(env));
    assert.equal(env.Payload.ReqId, payload.ReqId);
    return env.Payload;
  }
  async function ready(sessionId: string): Promise<Record<string, unknown>> {
    for (let i = 0; i < 250; i++) {
      const p = await ok('statsession', { ReqId: reqId(), SessionId: sessionId });
      if (p.SessionStatus === 1) return p;
      assert.equal(p.SessionStatus, 3);
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('session never became ready');
  }
  const wsPath = (sessionId: string): string => `${IVH_CHANNEL_PATH}?${q({ requestId: sessionId })}`;

  before(async () => {
    t = await startTestServer({ ivhPrepareDelayMs: 50 });
    app = t.app;
    await t.server.digitalHuman.createProject(app.sdkAppId, { projectId: 'proj_accept' });
    await t.server.digitalHuman.createAsset(app.sdkAppId, { assetKey: 'asset_accept' });
  });
  after(() => t.close());

  describe('authentication and envelope', () => {
    const body = JSON.stringify({ Header: {}, Payload: { ReqId: 'r1', SessionId: 'm1' } });

    it('refuses a wrong signature with 100005', async () => {
      const wrong = signedQuery(app.ivh.appKey, 'not-the-access-token');
      const { status, env } = await raw(`${SM}statsession`, body, wrong);
      assert.equal(status, 200);
      assert.equal(env.Header.Code, 100005);
      assert.equal(env.Header.Message, IvhAuthErrors.SIGNATURE_MISMATCH.message);
      assert.deepEqual(env.Payload, { ReqId: 'r1' });
    });

    it('refuses a signature sent without URL-encoding when it has + (decoded as a space), like the documentation warns', async () => {
      // Find a timestamp whose signature contains '+' and send it raw.
      let ts = Math.floor(Date.now() / 1000);
      for (;; ts--) if (ivhSignature(app.ivh.accessToken, ivhSigningString({ appkey: app.ivh.appKey, timestamp: String(ts) })).includes('+')) break;
      const signing = ivhSigningString({ appkey: app.ivh.appKey, timestamp: String(ts) });
      const { env } = await raw(`${SM}statsession`, body, `${signing}&signature=${ivhSignature(app.ivh.accessToken, signing)}`);
      assert.equal(env.Header.Message, IvhAuthErrors.SIGNATURE_MISMATCH.message);
      const encoded = await raw(`${SM}statsession`, body, `${signing}&signature=${encodeURIComponent(ivhSignature(app.ivh.accessToken, signing))}`);
      assert.equal(encoded.env.Header.Code, IvhErrors.SESSION_NOT_FOUND.code);
    });

    it('refuses a stale or future timestamp (±300 s) with 100005', async () => {
      for (const skew of [-301, 301]) {
        const { env } = await raw(`${SM}statsession`, body, q({ timestamp: Math.floor(Date.now() / 1000) + skew }));
        assert.equal(env.Header.Code, 100005);
        assert.match(env.Header.Message, /timestamp expired/);
      }
      const within = await raw(`${SM}statsession`, body, q({ timestamp: Math.floor(Date.now() / 1000) - 250 }));
      assert.equal(within.env.Header.Code, IvhErrors.SESSION_NOT_FOUND.code);
    });

    it('refuses a timestamp that is not Unix seconds', async () => {
      const { env } = await raw(`${SM}statsession`, body, `appkey=${app.ivh.appKey}&timestamp=abc&signature=x`);
      assert.equal(env.Header.Code, 100005);
      assert.equal(env.Header.Message, IvhAuthErrors.TIMESTAMP_INVALID.message);
    });

    it('refuses an unknown appkey with 100005', async () => {
      const { env } = await raw(`${SM}statsession`, body, signedQuery('0123456789abcdef0123456789abcdef', app.ivh.accessToken));
      assert.equal(env.Header.Code, 100005);
      assert.equal(env.Header.Message, IvhAuthErrors.UNKNOWN_APPKEY.message);
    });

    it('refuses missing query parameters with 100005 naming them', async () => {
      for (const [query, missing] of [
        ['', 'appkey, timestamp, signature'],
        [`appkey=${app.ivh.appKey}&timestamp=1`, 'signature'],
        [`timestamp=1&signature=abc`, 'appkey'],
      ] as const) {
        const { env } = await raw(`${SM}statsession`, body, query);
        assert.equal(env.Header.Code, 100005);
        assert.equal(env.Header.Message, `Authentication failed: the query parameter ${missing} is missing.`);
      }
    });

    it('refuses a disabled app with 100005', async () => {
      await t.server.apps.update(app.sdkAppId, { disabled: true });
      try {
        const { env } = await raw(`${SM}statsession`, body);
        assert.equal(env.Header.Code, 100005);
        assert.match(env.Header.Message, /disabled/);
      } finally {
        await t.server.apps.update(app.sdkAppId, { disabled: false });
      }
    });

    it('answers bad JSON, a missing Payload or ReqId, and wrong types with 100001 naming the field', async () => {
      const cases: Array<[string, RegExp]> = [
        ['{"Header":{},"Payload":', /malformed JSON/],
        ['', /JSON object/],
        ['[1]', /JSON object/],
        ['{"Header":{}}', /^Payload is required\.$/],
        ['{"Header":{},"Payload":[]}', /^Payload must be an object\.$/],
        ['{"Header":"x","Payload":{"ReqId":"r"}}', /^Header must be an object\.$/],
        ['{"Header":{},"Payload":{"SessionId":"m1"}}', /^Payload\.ReqId is required\.$/],
        ['{"Header":{},"Payload":{"ReqId":7,"SessionId":"m1"}}', /^Payload\.ReqId must be a string\.$/],
        ['{"Header":{},"Payload":{"ReqId":"r"}}', /^Payload\.SessionId is required\.$/],
        ['{"Header":{},"Payload":{"ReqId":"r","SessionId":5}}', /^Payload\.SessionId must be a string\.$/],
      ];
      for (const [text, message] of cases) {
        const { status, env } = await raw(`${SM}statsession`, text);
        assert.equal(status, 200);
        assert.equal(env.Header.Code, 100001, text);
        assert.match(env.Header.Message, message, text);
      }
    });

    it('checks createsession fields: Protocol, DriverType, StreamMaxInterval, ProtocolOption types', async () => {
      const base = { ReqId: reqId(), VirtualmanProjectId: 'proj_accept', UserId: 'avatar_x', Protocol: 'trtc', DriverType: 1 };
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ VirtualmanProjectId: undefined }, /Payload\.VirtualmanProjectId is required/],
        [{ UserId: undefined }, /Payload\.UserId is required/],
        [{ Protocol: 'TRTC' }, /Payload\.Protocol must be rtmp, trtc or webrtc/],
        [{ DriverType: '1' }, /Payload\.DriverType must be an integer/],
        [{ DriverType: 2 }, /Payload\.DriverType must be 1 \(text\) or 3 \(audio\)/],
        [{ DriverType: undefined }, /Payload\.DriverType is required/],
        [{ StreamMaxInterval: 1999 }, /Payload\.StreamMaxInterval must be from 2000 to 6000/],
        [{ StreamMaxInterval: 6001 }, /Payload\.StreamMaxInterval/],
        [{ ProtocolOption: 'x' }, /Payload\.ProtocolOption must be an object/],
        [{ ProtocolOption: { TrtcRoomId: '12' } }, /Payload\.ProtocolOption\.TrtcRoomId must be an integer/],
        [{ ProtocolOption: { TrtcUseExternalApp: 'no' } }, /Payload\.ProtocolOption\.TrtcUseExternalApp must be a boolean/],
        [{ VirtualmanProjectId: 'no_such_project' }, /does not exist/],
      ];
      for (const [change, message] of cases) {
        const env = await call('createsession', { ...base, ...change });
        assert.equal(env.Header.Code, 100001, JSON.stringify(change));
        assert.match(env.Header.Message, message);
      }
    });

    it('answers an unknown path and a non-POST method with 100001', async () => {
      const unknown = await raw('/v2/ivh/sessionmanager/sessionmanagerservice/getsessionstatus', body);
      assert.equal(unknown.status, 200);
      assert.equal(unknown.env.Header.Code, 100001);
      assert.match(unknown.env.Header.Message, /Unknown API path \/v2\/ivh\/sessionmanager\/sessionmanagerservice\/getsessionstatus/);
      const get = await raw(`${SM}statsession`, '', q(), 'GET');
      assert.equal(get.env.Header.Code, 100001);
      assert.match(get.env.Header.Message, /use POST/);
    });

    it('refuses a body over the size limit with 100001', async () => {
      const big = JSON.stringify({ Header: {}, Payload: { ReqId: 'r', Pad: 'x'.repeat(1024 * 1024) } });
      const { env } = await raw(`${SM}statsession`, big);
      assert.equal(env.Header.Code, 100001);
      assert.match(env.Header.Message, /size limit/);
    });

    it('echoes Header.RequestID, and generates a 32-hex one otherwise', async () => {
      const echoed = await call('statsession', { ReqId: 'r', SessionId: 'nope' }, { RequestID: 'my-request-1' });
      assert.equal(echoed.Header.RequestID, 'my-request-1');
      const generated = await call('statsession', { ReqId: 'r', SessionId: 'nope' });
      assert.match(generated.Header.RequestID, /^[0-9a-f]{32}$/);
      // Also on an authentication failure.
      const { env } = await raw(`${SM}statsession`, JSON.stringify({ Header: { RequestID: 'auth-1' }, Payload: { ReqId: 'r' } }), 'appkey=x&timestamp=1&signature=y');
      assert.equal(env.Header.RequestID, 'auth-1');
    });

    it('answers an unknown SessionId with 110018 on every session API, and the command channel with 404', async () => {
      for (const api of ['statsession', 'startsession', 'closesession']) {
        const env = await call(api, { ReqId: 'r', SessionId: 'm000' });
        assert.equal(env.Header.Code, 110018, api);
      }
      const cmd = await call(COMMAND, { ReqId: 'r', SessionId: 'm000', Command: 'SEND_TEXT', Data: { Text: 'hi' } });
      assert.equal(cmd.Header.Code, 110018);
      const sign = await call('gettrtcsign', { ReqId: 'r', SessionId: 'm000', RoomId: '1', UserId: 'u' });
      assert.equal(sign.Header.Code, 110018);
      const { status, env } = await openRefused(t.server.url, wsPath('m000'));
      assert.equal(status, 404);
      assert.equal(env.Header.Code, 110018);
    });

    it('refuses a command-channel upgrade with bad authentication with HTTP 401', async () => {
      const stale = await openRefused(t.server.url, `${IVH_CHANNEL_PATH}?${q({ requestId: 'm1', timestamp: 1000 })}`);
      assert.equal(stale.status, 401);
      assert.equal(stale.env.Header.Code, 100005);
      const noRequestId = await openRefused(t.server.url, `${IVH_CHANNEL_PATH}?${q()}`);
      assert.equal(noRequestId.status, 401);
      assert.match(noRequestId.env.Header.Message, /requestid/);
      // The signature covers requestid: the same signature for another session fails.
      const good = q({ requestId: 'm1' });
      const forged = await openRefused(t.server.url, `${IVH_CHANNEL_PATH}?${good.replace('requestid=m1', 'requestid=m2')}`);
      assert.equal(forged.status, 401);
      assert.equal(forged.env.Header.Message, IvhAuthErrors.SIGNATURE_MISMATCH.message);
      const elsewhere = await openWs(t.server.url, `${IVH_WS_PREFIX}other?${good}`);
      assert.ok(!('frames' in elsewhere) && elsewhere.status === 404);
    });
  });

  describe('acceptance flow', () => {
    let sessionId: string;
    let addr: URL;
    let ws: Frames;

    it('createsession (trtc, DriverType 1) → preparing, then statsession reaches 1', async () => {
      const p = await ok('createsession', { ReqId: reqId(), VirtualmanProjectId: 'proj_accept', UserId: 'avatar_1', Protocol: 'trtc', DriverType: 1 });
      assert.deepEqual(Object.keys(p).sort(), ['PlayStreamAddr', 'ReqId', 'SessionId', 'SessionStatus']);
      sessionId = p.SessionId as string;
      assert.match(sessionId, /^m\d+$/);
      assert.equal(p.SessionStatus, 3);
      const stat = await ready(sessionId);
      assert.deepEqual(Object.keys(stat).sort(), ['ErrorCode', 'ErrorMessage', 'IsSessionStarted', 'PlayStreamAddr', 'ReqId', 'SessionStatus', 'SpeakStatus']);
      assert.equal(stat.IsSessionStarted, false);
      assert.equal(stat.SpeakStatus, 'Initial');
      assert.equal(stat.ErrorCode, 0);
      addr = new URL((stat.PlayStreamAddr || p.PlayStreamAddr) as string);
      assert.equal(addr.protocol, 'trtc:');
      assert.equal(addr.searchParams.get('sdkappid'), String(app.sdkAppId));
    });

    it('commands and the command channel before startsession → 110016', async () => {
      const env = await call(COMMAND, { ReqId: reqId(), SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: 'hello' } });
      assert.equal(env.Header.Code, 110016);
      const { status, env: refused } = await openRefused(t.server.url, wsPath(sessionId));
      assert.equal(status, 409);
      assert.equal(refused.Header.Code, 110016);
    });

    it('lists the session in progress', async () => {
      const byUin = await ok('listsessionofuin', { ReqId: reqId() });
      const mine = (byUin.Sessions as Array<Record<string, unknown>>).find((s) => s.SessionId === sessionId);
      assert.deepEqual(mine, { UserId: 'avatar_1', SessionId: sessionId, SessionStatus: 1, PlayStreamAddr: addr.href, DriverType: 1, IsSessionStarted: false });
      const byProject = await ok('listsessionofprojectid', { ReqId: reqId(), VirtualmanProjectId: 'proj_accept' });
      assert.deepEqual((byProject.Sessions as Array<Record<string, unknown>>).map((s) => s.SessionId), [sessionId]);
      const none = await ok('listsessionofprojectid', { ReqId: reqId(), VirtualmanProjectId: 'other' });
      assert.deepEqual(none.Sessions, []);
    });

    it('startsession → {ReqId}; IsSessionStarted true', async () => {
      const p = await ok('startsession', { ReqId: reqId(), SessionId: sessionId });
      assert.deepEqual(Object.keys(p), ['ReqId']);
      const stat = await ok('statsession', { ReqId: reqId(), SessionId: sessionId });
      assert.equal(stat.IsSessionStarted, true);
    });

    it('gettrtcsign (the seed sample shape: RoomId as a string) → keys for that room only', async () => {
      const numeric = addr.searchParams.get('roomid');
      const str = addr.searchParams.get('strroomid');
      const room = numeric ?? str;
      assert.ok(room, addr.href);
      const r = reqId();
      const env = await call('gettrtcsign', { ReqId: r, SessionId: sessionId, RoomId: room, UserId: 'viewer_1' });
      assert.equal(env.Header.Code, 0, JSON.stringify(env));
      assert.deepEqual(Object.keys(env.Payload).sort(), ['PrivateMapKey', 'ReqId', 'UserSig']);
      const { UserSig, PrivateMapKey } = env.Payload as { UserSig: string; PrivateMapKey: string };
      const who = { sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: 'viewer_1' };
      assert.equal(verifyUserSig(UserSig, who).ok, true);
      const roomRef = numeric !== null ? { roomId: Number(numeric) } : { strRoomId: str! };
      assert.equal(verifyPrivateMapKey(PrivateMapKey, { ...who, ...roomRef }).ok, true);
      const other = numeric !== null ? { roomId: Number(numeric) === 1 ? 2 : Number(numeric) - 1 } : { strRoomId: `${str}_other` };
      const wrong = verifyPrivateMapKey(PrivateMapKey, { ...who, ...other });
      assert.equal(wrong.ok, false);
      assert.equal(!wrong.ok && wrong.reason, 'ROOM_MISMATCH');
      if (numeric !== null) {
        // The CN shape: RoomId as a number.
        const n = await call('gettrtcsign', { ReqId: r, SessionId: sessionId, RoomId: Number(numeric), UserId: 'viewer_2' });
        assert.equal(n.Header.Code, 0);
        const mismatch = await call('gettrtcsign', { ReqId: r, SessionId: sessionId, RoomId: other.roomId, UserId: 'viewer_2' });
        assert.equal(mismatch.Header.Code, 100001);
      }
      const missing = await call('gettrtcsign', { ReqId: r, SessionId: sessionId, UserId: 'viewer_2' });
      assert.equal(missing.Header.Code, 100001);
      assert.match(missing.Header.Message, /RoomId or Payload\.StrRoomId is required/);
    });

    it('the command channel: SEND_TEXT with SSML → TextStart then TextOver frames', async () => {
      ws = await openOk(t.server.url, wsPath(sessionId));
      const r = reqId();
      ws.send({ ReqId: r, SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: '<speak>你好<break time="200ms"/>world</speak>', ChatCommand: 'NotUseChat' } });
      const start = await ws.next();
      assert.deepEqual(start.Header, { Code: 0, Message: '', RequestID: r });
      assert.equal(start.Payload.Type, 3);
      assert.equal(start.Payload.SessionId, sessionId);
      assert.equal(start.Payload.ReqId, r);
      assert.equal(start.Payload.SpeakStatus, 'TextStart');
      const over = await ws.next(() => true, 10_000);
      assert.equal(over.Payload.SpeakStatus, 'TextOver');
      assert.equal(over.Payload.ReqId, r);
      const stat = await ok('statsession', { ReqId: reqId(), SessionId: sessionId });
      assert.equal(stat.SpeakStatus, 'TextOver');
    });

    it('refused commands come back as frames with the code: text over 4000 characters, malformed SSML → 100001', async () => {
      const long = reqId();
      ws.send({ ReqId: long, SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: 'a'.repeat(4001) } });
      const f1 = await ws.next((f) => f.Payload.ReqId === long);
      assert.equal(f1.Header.Code, 100001);
      assert.deepEqual(f1.Payload, { ReqId: long });
      const bad = reqId();
      ws.send({ ReqId: bad, SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: '<speak>你好<break time="200ms">world</speak>' } });
      const f2 = await ws.next((f) => f.Payload.ReqId === bad);
      assert.equal(f2.Header.Code, 100001);
      // The HTTP command answers the same way.
      const http = await call(COMMAND, { ReqId: reqId(), SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: '<speak>unclosed' } });
      assert.equal(http.Header.Code, 100001);
      const audio = await call(COMMAND, { ReqId: reqId(), SessionId: sessionId, Command: 'SEND_AUDIO', Data: {} });
      assert.equal(audio.Header.Code, 100001);
      assert.match(audio.Header.Message, /SEND_TEXT over HTTP/);
    });

    it('malformed frames are answered with 100001; a heartbeat with nothing', async () => {
      ws.ws.send('not json');
      assert.match((await ws.next((f) => f.Header.Code === 100001)).Header.Message, /malformed JSON/);
      ws.send({ SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: 'x' } });
      assert.match((await ws.next((f) => f.Header.Code === 100001)).Header.Message, /ReqId is required/);
      ws.send({ ReqId: 'r', SessionId: 'm_other', Command: 'SEND_TEXT', Data: { Text: 'x' } });
      assert.match((await ws.next((f) => f.Header.Code === 100001)).Header.Message, /does not match/);
      ws.send({ ReqId: 'r', SessionId: sessionId, Command: 'SEND_TEXT', Data: 'x' });
      assert.match((await ws.next((f) => f.Header.Code === 100001)).Header.Message, /Data must be an object/);
      ws.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      assert.match((await ws.next((f) => f.Header.Code === 100001)).Header.Message, /Binary frames/);
      ws.send({ ReqId: reqId(), SessionId: sessionId, Command: 'SEND_HEARTBEAT', Data: { Text: 'PING' } });
      ws.send({ SessionId: sessionId, Command: 'SEND_HEARTBEAT', Data: { Text: 'PING' } });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(ws.unread, 0);
    });

    it('a second connection replaces the first and gets the last drives again', async () => {
      const second = await openOk(t.server.url, wsPath(sessionId));
      assert.equal((await ws.closedWith()).code, IvhCloseCodes.REPLACED);
      const again = await second.next();
      assert.equal(again.Payload.SpeakStatus, 'TextStart');
      assert.equal((await second.next()).Payload.SpeakStatus, 'TextOver');
      ws = second;
    });

    it('closesession → the channel closes, statsession 2, commands 110013', async () => {
      const p = await ok('closesession', { ReqId: reqId(), SessionId: sessionId });
      assert.deepEqual(Object.keys(p), ['ReqId']);
      const closed = await ws.closedWith();
      assert.equal(closed.code, IvhCloseCodes.SESSION_CLOSED);
      const stat = await ok('statsession', { ReqId: reqId(), SessionId: sessionId });
      assert.equal(stat.SessionStatus, 2);
      assert.equal(stat.IsSessionStarted, true);
      const cmd = await call(COMMAND, { ReqId: reqId(), SessionId: sessionId, Command: 'SEND_TEXT', Data: { Text: 'hello' } });
      assert.equal(cmd.Header.Code, 110013);
      const again = await call('closesession', { ReqId: reqId(), SessionId: sessionId });
      assert.equal(again.Header.Code, 110013);
      const sign = await call('gettrtcsign', { ReqId: reqId(), SessionId: sessionId, RoomId: addr.searchParams.get('roomid') ?? addr.searchParams.get('strroomid'), UserId: 'viewer_3' });
      assert.equal(sign.Header.Code, 110013);
      const { status, env } = await openRefused(t.server.url, wsPath(sessionId));
      assert.equal(status, 410);
      assert.equal(env.Header.Code, 110013);
      const list = await ok('listsessionofuin', { ReqId: reqId() });
      assert.ok(!(list.Sessions as Array<Record<string, unknown>>).some((s) => s.SessionId === sessionId));
    });

    it('createsessionbyasset (rtmp, DriverType 3) and listsessionofassetvk; gettrtcsign off trtc → 100001', async () => {
      const p = await ok('createsessionbyasset', { ReqId: reqId(), AssetVirtualmanKey: 'asset_accept', UserId: 'avatar_2', Protocol: 'rtmp', DriverType: 3, StreamMaxInterval: 3000 });
      const id = p.SessionId as string;
      const list = await ok('listsessionofassetvk', { ReqId: reqId(), AssetVirtualmanKey: 'asset_accept' });
      assert.deepEqual((list.Sessions as Array<Record<string, unknown>>).map((s) => [s.SessionId, s.DriverType]), [[id, 3]]);
      const stat = await ready(id);
      assert.match(stat.PlayStreamAddr as string, /^rtmp:\/\//);
      const sign = await call('gettrtcsign', { ReqId: reqId(), SessionId: id, RoomId: 5, UserId: 'viewer' });
      assert.equal(sign.Header.Code, 100001);
      await ok('closesession', { ReqId: reqId(), SessionId: id });
    });

    it('a trtc session in a string room given as StrTrtcRoomId; gettrtcsign by StrRoomId and by RoomId string', async () => {
      const p = await ok('createsession', {
        ReqId: reqId(),
        VirtualmanProjectId: 'proj_accept',
        UserId: 'avatar_3',
        Protocol: 'trtc',
        DriverType: 1,
        ProtocolOption: { StrTrtcRoomId: '12345' },
      });
      const id = p.SessionId as string;
      const stat = await ready(id);
      const url = new URL(stat.PlayStreamAddr as string);
      assert.equal(url.searchParams.get('strroomid'), '12345');
      const who = { sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: 'viewer_s' };
      for (const room of [{ StrRoomId: '12345' }, { RoomId: '12345' }]) {
        const env = await call('gettrtcsign', { ReqId: reqId(), SessionId: id, UserId: 'viewer_s', ...room });
        assert.equal(env.Header.Code, 0, JSON.stringify(env));
        assert.equal(verifyPrivateMapKey(env.Payload.PrivateMapKey as string, { ...who, strRoomId: '12345' }).ok, true);
        assert.equal(verifyPrivateMapKey(env.Payload.PrivateMapKey as string, { ...who, roomId: 12345 }).ok, false);
      }
      await ok('closesession', { ReqId: reqId(), SessionId: id });
    });
  });
});

describe('IVH command channel at shutdown', () => {
  it('closes open channels with 1001 and lets the server stop', async () => {
    const t = await startTestServer({ ivhPrepareDelayMs: 10 });
    const { app } = t;
    const q = signedQuery(app.ivh.appKey, app.ivh.accessToken);
    await t.server.digitalHuman.createProject(app.sdkAppId, { projectId: 'proj_shutdown' });
    const post = async (api: string, payload: Record<string, unknown>): Promise<Envelope> =>
      (await (await fetch(`${t.server.url}${SM}${api}?${q}`, { method: 'POST', body: JSON.stringify({ Header: {}, Payload: { ReqId: reqId(), ...payload } }) })).json()) as Envelope;
    const created = await post('createsession', { VirtualmanProjectId: 'proj_shutdown', UserId: 'avatar_s', Protocol: 'webrtc', DriverType: 1 });
    const sessionId = created.Payload.SessionId as string;
    while ((await post('statsession', { SessionId: sessionId })).Payload.SessionStatus !== 1) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await post('startsession', { SessionId: sessionId })).Header.Code, 0);
    const ws = await openOk(t.server.url, `${IVH_CHANNEL_PATH}?${signedQuery(app.ivh.appKey, app.ivh.accessToken, { requestId: sessionId })}`);
    const t0 = Date.now();
    await t.close();
    assert.ok(Date.now() - t0 < 3000);
    assert.equal((await ws.closedWith()).code, IvhCloseCodes.SHUTDOWN);
  });
});

/** A stand-in service: sessions named in `started` accept the channel; commands are recorded or refused. */
function fakeService(started: Set<string>, commands: string[]): IvhSessions {
  const nope = (): never => {
    throw new Error('not used');
  };
  return {
    createSession: nope,
    stat: nope,
    startSession: nope,
    close: nope,
    list: nope,
    getTrtcSign: nope,
    touch: () => undefined,
    channelAllowed: (_app, sessionId) => {
      if (!started.has(sessionId)) throw new DomainError('FAILED_PRECONDITION', 'not started', 'SESSION_NOT_STARTED');
    },
    command: (_app, sessionId, reqId, command, data) => {
      if (data.Text === 'busy') throw new DomainError('LIMIT_EXCEEDED', 'too fast', 'TOO_FREQUENT');
      if (data.Text === 'crash') throw new Error('boom');
      commands.push(`${sessionId}/${reqId}/${command}`);
    },
  } as IvhSessions;
}

describe('IVH command channel (unit: fake service, short idle)', () => {
  const app = { sdkAppId: 1400000099, ivh: { appKey: 'k', accessToken: 'secret' } } as App;
  const apps = { byIvhAppKey: (k: string) => (k === 'k' ? app : undefined), admit: () => null };
  const bus = new InProcessBus();
  const started = new Set(['s1', 's2']);
  const commands: string[] = [];
  let channels: IvhChannels;
  let http: Server;
  let base: string;
  const path = (sessionId: string): string => `${IVH_CHANNEL_PATH}?${signedQuery('k', 'secret', { requestId: sessionId })}`;
  const event = (sessionId: string, e: Partial<IvhEvent>): void =>
    bus.publish(IVH_EVENT_TOPIC, { sdkAppId: app.sdkAppId, sessionId, event: { Type: 3, SessionId: sessionId, ...e } as IvhEvent });

  before(async () => {
    channels = new IvhChannels({ apps, service: fakeService(started, commands), bus, log: createLogger('silent'), metrics: new Metrics(), idleMs: 300 });
    channels.start();
    http = createServer((_req, res) => res.end());
    http.on('upgrade', (req, socket: Socket, head) => channels.upgrade(req, socket, head));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(async () => {
    await channels.stop();
    await new Promise((r) => http.close(r));
  });

  it('drops a channel without traffic after the idle delay; frames keep it open', async () => {
    const ws = await openOk(base, path('s1'));
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 150));
      ws.send({ ReqId: `hb${i}`, SessionId: 's1', Command: 'SEND_HEARTBEAT', Data: { Text: 'PING' } });
    }
    assert.equal(ws.closed, null);
    const closed = await ws.closedWith();
    assert.equal(closed.code, IvhCloseCodes.IDLE);
    assert.equal(channels.size, 0);
  });

  it('forwards the session events, maps refusals, and replays the last 3 drives on reconnect', async () => {
    const ws = await openOk(base, path('s2'));
    ws.send({ ReqId: 'a', SessionId: 's2', Command: 'SEND_TEXT', Data: { Text: 'hi' } });
    ws.send({ ReqId: 'b', Command: 'SEND_TEXT', Data: { Text: 'busy' } });
    const busy = await ws.next();
    assert.deepEqual(busy, { Header: { Code: 100012, Message: 'too fast', RequestID: 'b' }, Payload: { ReqId: 'b' } });
    ws.send({ ReqId: 'c', Command: 'SEND_TEXT', Data: { Text: 'crash' } });
    assert.equal((await ws.next()).Header.Code, -101000);
    assert.deepEqual(commands, ['s2/a/SEND_TEXT']);
    for (const r of ['d1', 'd2', 'd3', 'd4']) {
      event('s2', { ReqId: r, SpeakStatus: 'TextStart' });
      event('s2', { ReqId: r, SpeakStatus: 'TextOver' });
    }
    event('s1', { ReqId: 'x', SpeakStatus: 'TextStart' }); // another session: not forwarded here
    event('s2', { Type: 9, ReqId: 'd4', ErrorCode: -111005, ErrorMessage: 'failed' });
    const got: string[] = [];
    for (let i = 0; i < 9; i++) {
      const f = await ws.next();
      assert.equal(f.Header.Code, 0);
      assert.equal(f.Header.RequestID, f.Payload.ReqId);
      got.push(`${f.Payload.ReqId}:${f.Payload.SpeakStatus ?? f.Payload.Type}`);
    }
    assert.deepEqual(got, ['d1:TextStart', 'd1:TextOver', 'd2:TextStart', 'd2:TextOver', 'd3:TextStart', 'd3:TextOver', 'd4:TextStart', 'd4:TextOver', 'd4:9']);
    ws.ws.close();
    await ws.closedWith();
    const again = await openOk(base, path('s2'));
    const replay: string[] = [];
    for (let i = 0; i < 7; i++) {
      const f = await again.next();
      replay.push(`${f.Payload.ReqId}:${f.Payload.SpeakStatus ?? f.Payload.Type}`);
    }
    assert.deepEqual(replay, ['d2:TextStart', 'd2:TextOver', 'd3:TextStart', 'd3:TextOver', 'd4:TextStart', 'd4:TextOver', 'd4:9']);
    bus.publish(IVH_CLOSED_TOPIC, { sdkAppId: app.sdkAppId, sessionId: 's2', errorCode: 110022 });
    const closed = await again.closedWith();
    assert.equal(closed.code, IvhCloseCodes.SESSION_CLOSED);
    assert.match(closed.reason, /110022/);
  });

  it('refuses an upgrade for a session not started with 409, an unknown path with 404', async () => {
    const refused = await openRefused(base, path('s9'));
    assert.equal(refused.status, 409);
    assert.equal(refused.env.Header.Code, 110016);
    const wrong = await openWs(base, `${IVH_CHANNEL_PATH}x?${signedQuery('k', 'secret', { requestId: 's1' })}`);
    assert.ok(!('frames' in wrong) && wrong.status === 404);
  });
});
