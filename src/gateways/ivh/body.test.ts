import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { captureLog, LEVEL } from '../../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { until, upload, type UploadReply } from '../../../test/helpers/upload.ts';
import { ivhSignature, ivhSigningString } from '../../auth/ivh-signature.ts';
import { BodyReader, DEFAULT_BODY_LIMITS } from '../../http/body.ts';
import { Metrics } from '../../metrics.ts';
import { IVH_CHANNEL_PATH } from './channel.ts';
import { IvhGateway } from './gateway.ts';

const STAT = '/v2/ivh/sessionmanager/sessionmanagerservice/statsession';

type Envelope = { Header: { Code: number; Message: string; RequestID: string }; Payload: Record<string, unknown> };

let t: TestServer;
let server: Server;
let port: number;
let seen = 0;
const { log, lines } = captureLog();
// A budget of unauthenticated bytes smaller than the bodies below, and a short timeout.
const bodies = new BodyReader({ ...DEFAULT_BODY_LIMITS, unauthenticatedBytes: 4096, timeoutMs: 50 });

before(async () => {
  t = await startTestServer();
  const gw = new IvhGateway({ apps: t.server.apps, service: t.server.digitalHuman, log, metrics: new Metrics(), bodies });
  server = createServer((req, res) => {
    seen++;
    gw.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.close();
});

/** The documented signed query. */
function signed(accessToken = t.app.ivh.accessToken): string {
  const signing = ivhSigningString({ appkey: t.app.ivh.appKey, timestamp: String(Math.floor(Date.now() / 1000)) });
  return `${signing}&signature=${encodeURIComponent(ivhSignature(accessToken, signing))}`;
}

async function post(query: string, body: Buffer | string): Promise<UploadReply> {
  const u = upload(port, { path: `${STAT}?${query}`, declared: Buffer.byteLength(body), first: body });
  return u.response.finally(() => u.destroy());
}

const env = (r: UploadReply): Envelope => JSON.parse(r.text) as Envelope;
const statBody = (pad = ''): string => JSON.stringify({ Header: { RequestID: 'req-1' }, Payload: { ReqId: 'r1', SessionId: 'm0', Pad: pad } });

describe('IVH request bodies', () => {
  it('reads the body of a signed request as authenticated: the unauthenticated budget does not limit it', async () => {
    const r = env(await post(signed(), statBody('x'.repeat(16 * 1024))));
    assert.equal(r.Header.Code, 110018); // past the body: the session does not exist
    assert.equal(r.Header.RequestID, 'req-1');
  });

  it('echoes RequestID and ReqId on a signature failure when the body fits the budget, and answers unread when it does not', async () => {
    const small = env(await post(signed('wrong'), statBody()));
    assert.equal(small.Header.Code, 100005);
    assert.equal(small.Header.RequestID, 'req-1');
    assert.deepEqual(small.Payload, { ReqId: 'r1' });
    // Not a byte of the 16 KiB body is sent: the refusal comes from the query alone.
    const u = upload(port, { path: `${STAT}?${signed('wrong')}`, declared: 16 * 1024 });
    try {
      const big = env(await u.response);
      assert.equal(big.Header.Code, 100005);
      assert.match(big.Header.RequestID, /^[0-9a-f]{32}$/);
      assert.deepEqual(big.Payload, {});
    } finally {
      u.destroy();
    }
    assert.equal(bodies.held, 0);
  });

  it('100001 for a body that is not valid UTF-8, and for a query that is not once percent-decoded', async () => {
    const bad = Buffer.concat([Buffer.from('{"Header":{},"Payload":{"ReqId":"r1","SessionId":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}')]);
    const body = env(await post(signed(), bad));
    assert.equal(body.Header.Code, 100001);
    assert.match(body.Header.Message, /malformed/);
    const query = env(await post(`${signed()}&x=%C3%28`, statBody()));
    assert.equal(query.Header.Code, 100001);
    assert.match(query.Header.Message, /UTF-8/);
  });

  it('refuses a command-channel upgrade whose query is not UTF-8 with HTTP 400 and 100001', async () => {
    const headers = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    const u = upload(t.server.port, { method: 'GET', path: `${IVH_CHANNEL_PATH}?${signed()}&requestid=%C3%28`, headers, declared: 0 });
    try {
      const r = await u.response;
      assert.equal(r.status, 400);
      assert.equal(env(r).Header.Code, 100001);
    } finally {
      u.destroy();
    }
  });

  it('100001 when the body does not arrive within the timeout', async () => {
    const u = upload(port, { path: `${STAT}?${signed()}`, declared: 1000, first: '{"Header":' });
    const reply = await u.response;
    u.destroy();
    assert.equal(env(reply).Header.Code, 100001);
    assert.match(env(reply).Header.Message, /did not arrive within 50 ms/);
    assert.equal(reply.headers.connection, 'close');
  });

  it('logs an upload the client abandons once, at debug level', async () => {
    const [begun, before] = [lines.length, seen];
    const u = upload(port, { path: `${STAT}?${signed()}`, declared: 100_000, first: '{"Header":' });
    await until(() => seen, (n) => n > before, 'the request received');
    u.destroy();
    await until(() => lines.slice(begun).filter((l) => /aborted/.test(l.msg)).length, (n) => n > 0, 'the abort logged');
    assert.equal(env(await post(signed(), statBody())).Header.Code, 110018);
    const mine = lines.slice(begun);
    assert.equal(mine.filter((l) => /aborted/.test(l.msg)).length, 1);
    assert.equal(mine.find((l) => /aborted/.test(l.msg))!.level, LEVEL.debug);
    assert.deepEqual(mine.filter((l) => l.level >= LEVEL.warn), []);
  });
});
