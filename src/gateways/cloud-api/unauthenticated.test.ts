import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { captureLog, LEVEL } from '../../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { until, upload, type Upload, type UploadReply } from '../../../test/helpers/upload.ts';
import { canonicalHeaders, canonicalRequest, sha256Hex, stringToSign, tc3Signature, utcDate, v1Signature, v1StringToSign } from '../../auth/tc3.ts';
import { BodyReader, DEFAULT_BODY_LIMITS, type BodyLimits } from '../../http/body.ts';
import { MemoryRateLimiter } from '../../limits/rate-limiter.ts';
import { createLogger, type Logger } from '../../logger.ts';
import { Metrics } from '../../metrics.ts';
import { defineAction, type CloudServices } from './action.ts';
import { CloudApiGateway } from './gateway.ts';

const VERSION = '2019-04-23';
const KIB = 1024;
const MIB = 1024 * KIB;
const BUDGET = 1 * MIB;

// Test scaffolding: one action that echoes its parameters.
const actions = {
  [`${VERSION}/Echo`]: defineAction({
    limit: 10_000,
    params: Type.Object({ UserId: Type.Optional(Type.String()) }, { additionalProperties: false }),
    async handle(_ctx, p) {
      return { Echo: p };
    },
  }),
};

let t: TestServer;
let secretId: string;
let secretKey: string;
before(async () => {
  t = await startTestServer({ unauthenticatedBodyBytes: BUDGET });
  ({ secretId, secretKey } = t.app.cloudApi);
});
after(() => t.close());

/** A gateway of its own (the test action table, its own body reader and log) on a free port. */
async function gateway(o: { limits?: Partial<BodyLimits>; log?: Logger } = {}): Promise<{ port: number; bodies: BodyReader; close(): Promise<void> }> {
  const bodies = new BodyReader({ ...DEFAULT_BODY_LIMITS, ...o.limits });
  const gw = new CloudApiGateway({
    apps: t.server.apps,
    services: {} as CloudServices,
    actions,
    limiter: new MemoryRateLimiter(),
    log: o.log ?? createLogger('silent'),
    metrics: new Metrics(),
    bodies,
  });
  const server: Server = createServer((req, res) => gw.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    bodies,
    close: () => (server.closeAllConnections(), new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

const nowS = (): number => Math.floor(Date.now() / 1000);

/** TC3 headers for `body` as the SDK builds them (service `127`, host without the port). */
function tc3(o: { body: Buffer | string; id?: string; key?: string; ts?: number; method?: string; query?: string }): Record<string, string> {
  const ts = o.ts ?? nowS();
  const date = utcDate(ts);
  const contentType = o.method === 'GET' ? 'application/x-www-form-urlencoded' : 'application/json';
  const cr = canonicalRequest({
    method: o.method ?? 'POST',
    query: o.query ?? '',
    canonicalHeaders: canonicalHeaders({ 'content-type': contentType, host: '127.0.0.1' }, ['content-type', 'host']),
    signedHeaders: 'content-type;host',
    payloadHash: sha256Hex(Buffer.from(o.body)),
  });
  const signature = tc3Signature({ secretKey: o.key ?? secretKey, date, service: '127', stringToSign: stringToSign({ timestamp: ts, date, service: '127', canonicalRequest: cr }) });
  return {
    'Content-Type': contentType,
    'X-TC-Action': 'Echo',
    'X-TC-Version': VERSION,
    'X-TC-Timestamp': String(ts),
    Authorization: `TC3-HMAC-SHA256 Credential=${o.id ?? secretId}/${date}/127/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
  };
}

/** A signature v1 form body (or GET query) with the given Nonce and Timestamp. */
function v1(port: number, o: { nonce: string; ts: number; id?: string; key?: string; method?: 'GET' | 'POST'; extra?: string }): string {
  const params: Record<string, string> = { Action: 'Echo', Version: VERSION, Timestamp: String(o.ts), Nonce: o.nonce, SecretId: o.id ?? secretId, SignatureMethod: 'HmacSHA256' };
  params.Signature = v1Signature(o.key ?? secretKey, 'HmacSHA256', v1StringToSign(o.method ?? 'POST', `127.0.0.1:${port}`, params));
  return new URLSearchParams(params).toString() + (o.extra ?? '');
}

/** A complete request through `upload`. */
function request(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: Buffer | string }): Promise<UploadReply> {
  const body = o.body ?? '';
  const u = upload(port, { method: o.method, path: o.path, headers: o.headers, declared: Buffer.byteLength(body), first: body });
  return u.response.finally(() => u.destroy());
}

function code(r: UploadReply): string {
  assert.equal(r.status, 200);
  const json = JSON.parse(r.text) as { Response: { Error?: { Code: string } } };
  return json.Response.Error?.Code ?? 'OK';
}

function message(r: UploadReply): string {
  return (JSON.parse(r.text) as { Response: { Error: { Message: string } } }).Response.Error.Message;
}

async function heldInMetrics(): Promise<number> {
  const text = await (await fetch(`${t.server.url}/metrics`)).text();
  return Number(/^trtcd_unauthenticated_body_bytes (\d+)$/m.exec(text)?.[1]);
}

describe('Cloud API before authentication', () => {
  it('refuses unsigned, malformed, unknown-SecretId, stale and oversized uploads from their headers, before reading the body', async () => {
    const port = t.server.port;
    const fake = 'TC3-HMAC-SHA256 Credential=AKID' + 'z'.repeat(32) + `/${utcDate(nowS())}/127/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`;
    const cases: Array<[Record<string, string>, number, string]> = [
      // Without an Authorization header the v1 limit (1 MB) applies, and the size is checked first.
      [{ 'Content-Type': 'application/json', 'X-TC-Action': 'Echo' }, 900 * KIB, 'AuthFailure.InvalidAuthorization'],
      [{ 'Content-Type': 'application/json', 'X-TC-Action': 'Echo' }, 9 * MIB, 'RequestSizeLimitExceeded'],
      [{ 'Content-Type': 'application/json', Authorization: 'TC3-HMAC-SHA256 garbage' }, 9 * MIB, 'AuthFailure.InvalidAuthorization'],
      [{ ...tc3({ body: '' }), Authorization: fake }, 9 * MIB, 'AuthFailure.SecretIdNotFound'],
      [tc3({ body: '', ts: nowS() - 600 }), 9 * MIB, 'AuthFailure.SignatureExpire'],
      [tc3({ body: '' }), 11 * MIB, 'RequestSizeLimitExceeded'],
    ];
    for (const [headers, declared, want] of cases) {
      // Not a byte of the body is sent: the answer can only come from the headers.
      const u: Upload = upload(port, { headers, declared });
      try {
        assert.equal(code(await u.response), want);
      } finally {
        u.destroy();
      }
    }
    assert.equal(await heldInMetrics(), 0);
  });

  it('holds at most its budget of unauthenticated bytes (the /metrics gauge): past it an upload is refused unread', async () => {
    const port = t.server.port;
    const declared = 300 * KIB;
    // A known SecretId with a signature that will not verify: the body has to be read before that is known.
    const forged = (): Upload => upload(port, { headers: tc3({ body: 'x', key: 'wrong' }), declared, first: 'x'.repeat(KIB) });
    const held = [forged(), forged(), forged()];
    try {
      assert.equal(await until(heldInMetrics, (n) => n === 3 * declared, 'three uploads held'), 3 * declared);
      const refused = forged();
      const r = await refused.response;
      refused.destroy();
      assert.equal(code(r), 'RequestLimitExceeded');
      assert.match(message(r), /unauthenticated/);
      assert.equal(r.headers.connection, 'close');
      assert.ok((await heldInMetrics()) <= BUDGET);
      // A finished body is checked (and refused) and gives its bytes back; abandoned ones give theirs back too.
      held[0]!.write('x'.repeat(declared - KIB));
      assert.equal(code(await held[0]!.response), 'AuthFailure.SignatureFailure');
      held[1]!.destroy();
      held[2]!.destroy();
      await until(heldInMetrics, (n) => n === 0, 'the budget given back');
    } finally {
      for (const u of held) u.destroy();
    }
  });

  it('counts a chunked body as it arrives, and refuses it once the connection holds its share', async () => {
    const gw = await gateway({ limits: { unauthenticatedBytesPerConnection: 64 * KIB } });
    try {
      const u = upload(gw.port, { headers: tc3({ body: 'x', key: 'wrong' }) });
      for (let i = 0; i < 8; i++) u.write('x'.repeat(16 * KIB));
      const r = await u.response;
      u.destroy();
      assert.equal(code(r), 'RequestSizeLimitExceeded');
      assert.match(message(r), /connection/);
      assert.equal(gw.bodies.held, 0);
      // A declared length over the connection's share is refused before reading.
      const big = upload(gw.port, { headers: tc3({ body: 'x', key: 'wrong' }), declared: 65 * KIB });
      assert.equal(code(await big.response), 'RequestSizeLimitExceeded');
      big.destroy();
    } finally {
      await gw.close();
    }
  });

  it('answers a body that does not arrive within the timeout with InvalidParameter and gives its bytes back', async () => {
    const gw = await gateway({ limits: { timeoutMs: 50 } });
    try {
      const u = upload(gw.port, { headers: tc3({ body: 'x' }), declared: 1000, first: '{"UserId":' });
      const r = await u.response;
      u.destroy();
      assert.equal(code(r), 'InvalidParameter');
      assert.match(message(r), /did not arrive within 50 ms/);
      assert.equal(r.headers.connection, 'close');
      assert.equal(gw.bodies.held, 0);
    } finally {
      await gw.close();
    }
  });

  it('logs an upload the client abandons once, at debug level, and gives its bytes back', async () => {
    const { log, lines } = captureLog();
    const gw = await gateway({ log });
    try {
      const u = upload(gw.port, { headers: tc3({ body: 'x' }), declared: 1000, first: '{"UserId":' });
      await until(() => gw.bodies.held, (n) => n === 1000, 'the upload being read');
      u.destroy();
      await until(() => lines.filter((l) => /aborted/.test(l.msg)).length, (n) => n > 0, 'the abort logged');
      // A request after it is logged after anything the abort could still log.
      const body = '{}';
      assert.equal(code(await request(gw.port, { headers: tc3({ body }), body })), 'OK');
      await until(() => lines.filter((l) => l.msg === 'cloud-api request').length, (n) => n === 1, 'the next request logged');
      const aborted = lines.filter((l) => /aborted/.test(l.msg));
      assert.equal(aborted.length, 1);
      assert.equal(aborted[0]!.level, LEVEL.debug);
      assert.deepEqual(lines.filter((l) => l.level >= LEVEL.warn), []);
      assert.equal(gw.bodies.held, 0);
    } finally {
      await gw.close();
    }
  });
});

describe('Cloud API signature v1 replay', () => {
  let gw: Awaited<ReturnType<typeof gateway>>;
  before(async () => (gw = await gateway()));
  after(() => gw.close());

  it('refuses a Nonce and Timestamp already accepted for the SecretId with AuthFailure.SignatureExpire', async () => {
    const port = gw.port;
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const ts = nowS();
    const post = (o: Parameters<typeof v1>[1]): Promise<UploadReply> => request(port, { headers: form, body: v1(port, o) });
    // A request whose signature fails does not use its Nonce up.
    assert.equal(code(await post({ nonce: '7001', ts, key: 'wrong' })), 'AuthFailure.SignatureFailure');
    assert.equal(code(await post({ nonce: '7001', ts })), 'OK');
    const replay = await post({ nonce: '7001', ts });
    assert.equal(code(replay), 'AuthFailure.SignatureExpire');
    assert.match(message(replay), /Nonce/);
    // Another Nonce, another Timestamp or another SecretId is another request.
    assert.equal(code(await post({ nonce: '7002', ts })), 'OK');
    assert.equal(code(await post({ nonce: '7001', ts: ts - 1 })), 'OK');
    const other = (await t.server.apps.create()).cloudApi;
    assert.equal(code(await post({ nonce: '7001', ts, id: other.secretId, key: other.secretKey })), 'OK');
    // The same on a GET.
    const get = (): Promise<UploadReply> => request(port, { method: 'GET', path: `/?${v1(port, { nonce: '7003', ts, method: 'GET' })}` });
    assert.equal(code(await get()), 'OK');
    assert.equal(code(await get()), 'AuthFailure.SignatureExpire');
  });
});

describe('Cloud API request text that is not UTF-8', () => {
  let gw: Awaited<ReturnType<typeof gateway>>;
  before(async () => (gw = await gateway()));
  after(() => gw.close());
  const bad = Buffer.from([0x7b, 0x22, 0x55, 0x73, 0x65, 0x72, 0x49, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]); // {"UserId":"\xC3("}

  it('refuses a TC3 JSON body with invalid UTF-8 with InvalidParameter instead of repairing it', async () => {
    const port = gw.port;
    const r = await request(port, { headers: tc3({ body: bad }), body: bad });
    assert.equal(code(r), 'InvalidParameter');
    assert.match(message(r), /UTF-8/);
    // U+FFFD sent as UTF-8 is a valid string: what a repaired body would have become, but only when sent as such.
    const replacement = Buffer.from('{"UserId":"\uFFFD("}');
    const ok = await request(port, { headers: tc3({ body: replacement }), body: replacement });
    assert.deepEqual((JSON.parse(ok.text) as { Response: { Echo: unknown } }).Response.Echo, { UserId: '\uFFFD(' });
  });

  it('refuses percent-encoded parameters that are not UTF-8 in a v1 form, a v1 GET and a TC3 GET', async () => {
    const port = gw.port;
    const ts = nowS();
    const form = await request(port, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: v1(port, { nonce: '8001', ts, extra: '&UserId=%C3%28' }) });
    assert.equal(code(form), 'InvalidParameter');
    const get = await request(port, { method: 'GET', path: `/?${v1(port, { nonce: '8002', ts, method: 'GET', extra: '&UserId=%C3%28' })}` });
    assert.equal(code(get), 'InvalidParameter');
    const query = 'UserId=%C3%28';
    const tc3Get = await request(port, { method: 'GET', path: `/?${query}`, headers: tc3({ body: '', method: 'GET', query }) });
    assert.equal(code(tc3Get), 'InvalidParameter');
    assert.match(message(tc3Get), /UTF-8/);
  });
});
