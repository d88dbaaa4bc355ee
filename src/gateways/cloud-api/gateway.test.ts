import assert from 'node:assert/strict';
import { parseSettingChanges } from '../../cli/setting-changes.ts';
import { createServer, request, Agent, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { iotexplorer } from 'tencentcloud-sdk-nodejs/tencentcloud/services/iotexplorer/index.js';
import { loopbackAgent } from '../../../test/helpers/cloud-api.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { canonicalHeaders, canonicalRequest, sha256Hex, stringToSign, tc3Signature, utcDate, v1Signature, v1StringToSign } from '../../auth/tc3.ts';
import { MemoryRateLimiter } from '../../limits/rate-limiter.ts';
import { createLogger } from '../../logger.ts';
import { Metrics } from '../../metrics.ts';
import { DomainError } from '../../services/errors.ts';
import { defineAction, type ActionTable, type CloudServices } from './action.ts';
import { CloudErrors } from './errors.ts';
import { CloudApiGateway, unflatten } from './gateway.ts';
import { GatewayError } from '../gateway-error.ts';

// The SDK routes through $http_proxy when it has no agent; every client below gets an agent, and the variable goes too.
delete process.env.http_proxy;
delete process.env.HTTP_PROXY;

const VERSION = '2019-04-23';
const ACTION = 'CreateTRTCSignaturesWithRoomId';

// Test scaffolding only: a table that echoes what the gateway hands to an action, independent of the product actions.
const testActions: ActionTable = {
  [`${VERSION}/${ACTION}`]: defineAction({
    regions: ['ap-guangzhou', 'ap-shanghai'],
    limit: 10_000,
    params: Type.Object(
      {
        TRTCUserIds: Type.Array(Type.String(), { maxItems: 10 }),
        RoomId: Type.String({ minLength: 1 }),
        Count: Type.Optional(Type.Integer()),
        Ratio: Type.Optional(Type.Number()),
        Flag: Type.Optional(Type.Boolean()),
        Mode: Type.Optional(Type.Union([Type.Literal('a'), Type.Literal('b')])),
        Filters: Type.Optional(Type.Array(Type.Object({ Name: Type.String(), Values: Type.Array(Type.String()) }, { additionalProperties: false }))),
      },
      { additionalProperties: false },
    ),
    async handle(ctx, p) {
      return { Echo: p, Region: ctx.region, SdkAppId: ctx.app.sdkAppId };
    },
  }),
  [`${VERSION}/Fail`]: defineAction({
    limit: 10_000,
    params: Type.Object({ Kind: Type.String() }, { additionalProperties: false }),
    async handle(_ctx, p) {
      if (p.Kind === 'domain') throw new DomainError('NOT_FOUND', 'no such room');
      if (p.Kind === 'listed') throw new DomainError('ALREADY_EXISTS', 'room exists', 'ROOM_EXISTS');
      if (p.Kind === 'cloud') throw new GatewayError(CloudErrors.TRTC_SERVICE_NOT_OPEN);
      throw new Error('boom');
    },
    errors: { ROOM_EXISTS: CloudErrors.ROOM_ID_EXIST },
  }),
  [`${VERSION}/Limited`]: defineAction({
    limit: 1,
    params: Type.Object({}, { additionalProperties: false }),
    async handle() {
      return {};
    },
  }),
};

let t: TestServer;
let gw: Server;
let port: number;
let secretId: string;
let secretKey: string;
const metrics = new Metrics();

before(async () => {
  t = await startTestServer();
  ({ secretId, secretKey } = t.app.cloudApi);
  const gateway = new CloudApiGateway({
    apps: t.server.apps,
    services: {} as CloudServices,
    actions: testActions,
    limiter: new MemoryRateLimiter(),
    log: createLogger('silent'),
    metrics,
  });
  gw = createServer((req, res) => gateway.handle(req, res));
  await new Promise<void>((resolve) => gw.listen(0, '127.0.0.1', resolve));
  port = (gw.address() as AddressInfo).port;
});
after(async () => {
  gw.closeAllConnections();
  await new Promise<void>((resolve) => gw.close(() => resolve()));
  await t.close();
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: { Response: Record<string, unknown> & { RequestId: string; Error?: { Code: string; Message: string } } };
}

/** One raw HTTP request; `declaredLength` sends only the headers with that Content-Length. */
function send(
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; declaredLength?: number; port?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...opts.headers };
    if (opts.declaredLength !== undefined) headers['Content-Length'] = opts.declaredLength;
    else if (opts.body !== undefined) headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = request({ host: '127.0.0.1', port: opts.port ?? port, method: opts.method ?? 'POST', path: opts.path ?? '/', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) as Reply['json'] });
        req.destroy();
      });
    });
    req.on('error', reject);
    if (opts.declaredLength !== undefined) req.flushHeaders();
    else req.end(opts.body);
  });
}

const nowS = (): number => Math.floor(Date.now() / 1000);

/** A TC3-signed request, built like a client would, with every part overridable. */
function v3(
  o: {
    body?: string;
    method?: string;
    query?: string;
    sentQuery?: string;
    action?: string | null;
    version?: string | null;
    region?: string | null;
    ts?: number;
    id?: string;
    key?: string;
    date?: string;
    service?: string;
    signHost?: string;
    contentType?: string;
    extra?: Record<string, string>;
    tamper?: (auth: string) => string;
    port?: number;
  } = {},
): Promise<Reply> {
  const method = o.method ?? 'POST';
  const body = o.body ?? (method === 'GET' ? '' : JSON.stringify({ TRTCUserIds: ['u1'], RoomId: 'r1' }));
  const ts = o.ts ?? nowS();
  const date = o.date ?? utcDate(ts);
  const service = o.service ?? 'iotexplorer';
  const contentType = o.contentType ?? (method === 'GET' ? 'application/x-www-form-urlencoded' : 'application/json');
  const host = `127.0.0.1:${o.port ?? port}`;
  const cr = canonicalRequest({
    method,
    query: o.query ?? '',
    canonicalHeaders: canonicalHeaders({ 'content-type': contentType, host: o.signHost ?? host }, ['content-type', 'host']),
    signedHeaders: 'content-type;host',
    payloadHash: sha256Hex(body),
  });
  const signature = tc3Signature({ secretKey: o.key ?? secretKey, date, service, stringToSign: stringToSign({ timestamp: ts, date, service, canonicalRequest: cr }) });
  const auth = `TC3-HMAC-SHA256 Credential=${o.id ?? secretId}/${date}/${service}/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`;
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'X-TC-Timestamp': String(ts),
    Authorization: o.tamper ? o.tamper(auth) : auth,
    ...o.extra,
  };
  if (o.action !== null) headers['X-TC-Action'] = o.action ?? ACTION;
  if (o.version !== null) headers['X-TC-Version'] = o.version ?? VERSION;
  if (o.region !== null) headers['X-TC-Region'] = o.region ?? 'ap-guangzhou';
  const sent = o.sentQuery ?? o.query;
  return send({ method, path: sent ? `/?${sent}` : '/', headers, body: method === 'GET' && body === '' ? undefined : body, port: o.port });
}

let nonce = 4242;

/** A signature v1 request (form POST or GET query), with a fresh Nonce unless `params` gives one. */
function v1(o: { method?: 'GET' | 'POST'; params: Record<string, string>; sigMethod?: 'HmacSHA1' | 'HmacSHA256'; key?: string; ts?: number; signHost?: string }): Promise<Reply> {
  const method = o.method ?? 'POST';
  const params: Record<string, string> = {
    Action: ACTION,
    Version: VERSION,
    Region: 'ap-guangzhou',
    Timestamp: String(o.ts ?? nowS()),
    Nonce: String(nonce++),
    SecretId: secretId,
    SignatureMethod: o.sigMethod ?? 'HmacSHA256',
    ...o.params,
  };
  const host = o.signHost ?? `127.0.0.1:${port}`;
  params.Signature = v1Signature(o.key ?? secretKey, o.sigMethod ?? 'HmacSHA256', v1StringToSign(method, host, params));
  const qs = new URLSearchParams(params).toString();
  if (method === 'GET') return send({ method, path: `/?${qs}` });
  return send({ method, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: qs });
}

function code(r: Reply): string {
  assert.equal(r.status, 200);
  assert.match(r.json.Response.RequestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return r.json.Response.Error?.Code ?? 'OK';
}

describe('Cloud API responses', () => {
  it('answers a signed call with HTTP 200, application/json and {"Response":{…,"RequestId"}}', async () => {
    const r = await v3({ extra: { 'X-TC-TraceId': 'trace-123' } });
    assert.equal(code(r), 'OK');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-tc-traceid'], 'trace-123');
    assert.deepEqual(Object.keys(r.json), ['Response']);
    assert.deepEqual(r.json.Response.Echo, { TRTCUserIds: ['u1'], RoomId: 'r1' });
    assert.equal(r.json.Response.Region, 'ap-guangzhou');
    assert.equal(r.json.Response.SdkAppId, t.app.sdkAppId);
    const text = await metrics.registry.metrics();
    assert.match(text, /trtcd_requests_total\{family="cloud-api",command="2019-04-23\/CreateTRTCSignaturesWithRoomId",code="0"\} [1-9]/);
  });

  it('answers errors with {"Response":{"Error":{"Code","Message"},"RequestId"}}', async () => {
    const r = await v3({ action: 'Nope' });
    assert.equal(code(r), 'InvalidAction');
    assert.deepEqual(Object.keys(r.json.Response), ['Error', 'RequestId']);
    assert.deepEqual(Object.keys(r.json.Response.Error!), ['Code', 'Message']);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(await metrics.registry.metrics(), /trtcd_requests_total\{family="cloud-api",command="unknown",code="InvalidAction"\} [1-9]/);
  });

  it('accepts the host signed with or without its port, and no region', async () => {
    assert.equal(code(await v3({ signHost: '127.0.0.1' })), 'OK');
    assert.equal(code(await v3({ region: null })), 'OK');
    // The service of the scope is whatever the client derived from its endpoint.
    assert.equal(code(await v3({ service: '127' })), 'OK');
  });

  it('accepts any X-TC-Token (there is no STS)', async () => {
    assert.equal(code(await v3({ extra: { 'X-TC-Token': 'whatever' } })), 'OK');
  });
});

describe('Cloud API common errors (raw requests)', () => {
  it('UnsupportedProtocol for a method other than GET and POST', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const r = await send({ method, headers: { 'X-TC-Action': ACTION, 'Content-Type': 'application/json' }, body: '{}' });
      assert.equal(code(r), 'UnsupportedProtocol', method);
    }
  });

  it('RequestSizeLimitExceeded over 10 MB (TC3), 1 MB (v1 form) and 32 KB (GET)', async () => {
    const auth = 'TC3-HMAC-SHA256 Credential=AKIDx/2026-01-01/iotexplorer/tc3_request, SignedHeaders=content-type;host, Signature=' + 'a'.repeat(64);
    let r = await send({ headers: { Authorization: auth, 'X-TC-Action': ACTION, 'Content-Type': 'application/json' }, declaredLength: 10 * 1024 * 1024 + 1 });
    assert.equal(code(r), 'RequestSizeLimitExceeded');
    assert.equal(r.headers.connection, 'close');
    r = await send({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, declaredLength: 1024 * 1024 + 1 });
    assert.equal(code(r), 'RequestSizeLimitExceeded');
    r = await send({ method: 'GET', path: '/?Action=x', declaredLength: 32 * 1024 });
    assert.equal(code(r), 'RequestSizeLimitExceeded');
    // Just under the TC3 limit is read (and then refused for its signature, not its size).
    r = await send({ headers: { Authorization: auth, 'X-TC-Action': ACTION, 'Content-Type': 'application/json' }, body: ' '.repeat(2 * 1024 * 1024) });
    assert.notEqual(code(r), 'RequestSizeLimitExceeded');
  });

  it('AuthFailure.InvalidAuthorization for a missing or malformed Authorization', async () => {
    let r = await send({ headers: { 'X-TC-Action': ACTION, 'X-TC-Version': VERSION, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(code(r), 'AuthFailure.InvalidAuthorization');
    for (const bad of [(a: string) => a.replace('SignedHeaders=', 'Signed='), (a: string) => a.replace('TC3-HMAC-SHA256', 'HMAC'), () => 'TC3-HMAC-SHA256 garbage', () => 'Bearer x']) {
      r = await v3({ tamper: bad });
      assert.equal(code(r), 'AuthFailure.InvalidAuthorization');
    }
  });

  it('MissingParameter for a missing X-TC-Action or X-TC-Version, naming it', async () => {
    let r = await v3({ action: null });
    assert.equal(code(r), 'MissingParameter');
    assert.match(r.json.Response.Error!.Message, /X-TC-Action/);
    r = await v3({ version: null });
    assert.equal(code(r), 'MissingParameter');
    assert.match(r.json.Response.Error!.Message, /X-TC-Version/);
  });

  it('AuthFailure.SignatureExpire for a timestamp 10 minutes old or more than 300 s ahead', async () => {
    assert.equal(code(await v3({ ts: nowS() - 600 })), 'AuthFailure.SignatureExpire');
    assert.equal(code(await v3({ ts: nowS() + 400 })), 'AuthFailure.SignatureExpire');
    assert.equal(code(await v3({ ts: nowS() - 250 })), 'OK');
  });

  it('AuthFailure.InvalidSecretId and AuthFailure.SecretIdNotFound', async () => {
    assert.equal(code(await v3({ id: 'not-a-key' })), 'AuthFailure.InvalidSecretId');
    assert.equal(code(await v3({ id: 'AKID' + 'x'.repeat(32) })), 'AuthFailure.SecretIdNotFound');
  });

  it('AuthFailure.SignatureFailure for a bad signature, a wrong SecretKey, a changed body, a scope date mismatch', async () => {
    assert.equal(code(await v3({ tamper: (a) => a.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === 'a' ? 'b' : 'a'}`) })), 'AuthFailure.SignatureFailure');
    assert.equal(code(await v3({ key: secretKey + 'x' })), 'AuthFailure.SignatureFailure');
    assert.equal(code(await v3({ signHost: 'example.com' })), 'AuthFailure.SignatureFailure');
    const r = await v3({ date: utcDate(nowS() - 86_400) });
    assert.equal(code(r), 'AuthFailure.SignatureFailure');
    assert.match(r.json.Response.Error!.Message, /scope date/);
  });

  it('NoSuchVersion, then InvalidAction, then UnsupportedRegion', async () => {
    assert.equal(code(await v3({ version: '2017-03-12' })), 'NoSuchVersion');
    assert.equal(code(await v3({ action: 'DescribeInstances' })), 'InvalidAction');
    assert.equal(code(await v3({ version: '2017-03-12', action: 'DescribeInstances' })), 'NoSuchVersion');
    assert.equal(code(await v3({ region: 'ap-beijing' })), 'UnsupportedRegion');
  });

  it('InvalidParameter for malformed JSON or a body that is not an object', async () => {
    for (const body of ['{"RoomId":', 'null', '[1]', '"x"']) {
      const r = await v3({ body });
      assert.equal(code(r), 'InvalidParameter', body);
    }
    const r = await v3({ body: '{"RoomId":' });
    assert.match(r.json.Response.Error!.Message, /malformed JSON/);
  });

  it('maps schema errors to MissingParameter, UnknownParameter, InvalidParameter and InvalidParameterValue', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ TRTCUserIds: ['u'] }, 'MissingParameter', /`RoomId`/],
      [{ TRTCUserIds: ['u'], RoomId: 'r', Extra: 1 }, 'UnknownParameter', /`Extra`/],
      [{ TRTCUserIds: ['u'], RoomId: 1 }, 'InvalidParameter', /`RoomId`/],
      [{ TRTCUserIds: 'u', RoomId: 'r' }, 'InvalidParameter', /`TRTCUserIds`/],
      [{ TRTCUserIds: [1], RoomId: 'r' }, 'InvalidParameter', /`TRTCUserIds\.0`/],
      [{ TRTCUserIds: ['u'], RoomId: '' }, 'InvalidParameterValue', /`RoomId`/],
      [{ TRTCUserIds: Array.from({ length: 11 }, (_, i) => `u${i}`), RoomId: 'r' }, 'InvalidParameterValue', /`TRTCUserIds`/],
      [{ TRTCUserIds: ['u'], RoomId: 'r', Mode: 'c' }, 'InvalidParameterValue', /`Mode`/],
      [{ TRTCUserIds: ['u'], RoomId: 'r', Mode: 3 }, 'InvalidParameter', /`Mode`/],
      [{ TRTCUserIds: ['u'], RoomId: 'r', Filters: [{ Name: 'n', Values: [], X: 1 }] }, 'UnknownParameter', /`Filters\.0\.X`/],
    ];
    for (const [body, want, message] of cases) {
      const r = await v3({ body: JSON.stringify(body) });
      assert.equal(code(r), want, JSON.stringify(body));
      assert.match(r.json.Response.Error!.Message, message);
    }
  });

  it('maps action failures: DomainError by the action table or by code, CloudError as is, anything else InternalError', async () => {
    const call = (Kind: string): Promise<Reply> => v3({ action: 'Fail', body: JSON.stringify({ Kind }) });
    let r = await call('domain');
    assert.equal(code(r), 'FailedOperation');
    assert.equal(r.json.Response.Error!.Message, 'no such room');
    assert.equal(code(await call('listed')), 'InvalidParameter.RoomIdExist');
    assert.equal(code(await call('cloud')), 'UnsupportedOperation.TRTCServiceNotOpen');
    r = await call('crash');
    assert.equal(code(r), 'InternalError');
    assert.doesNotMatch(r.json.Response.Error!.Message, /boom/);
  });

  it('RequestLimitExceeded past the per-app, per-action limit under rateLimits=tencent, none under off', async () => {
    const burst = async (): Promise<string[]> => Promise.all(Array.from({ length: 4 }, () => v3({ action: 'Limited', body: '{}' }).then(code)));
    assert.ok((await burst()).includes('RequestLimitExceeded'));
    await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
    try {
      assert.deepEqual(await burst(), ['OK', 'OK', 'OK', 'OK']);
    } finally {
      await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'tencent' });
    }
  });

  it('refuses a disabled app, an expired app and an IP outside the allowlist', async () => {
    const cases: Array<[string, string, string, string]> = [
      ['disabled', 'true', 'false', 'AuthFailure.UnauthorizedOperation'],
      ['expiresAt', '1000', 'never', 'AuthFailure.UnauthorizedOperation'],
      ['ipAllowlist', '10.0.0.1', '', 'IpNotInWhitelist'],
    ];
    for (const [key, on, off, want] of cases) {
      await t.server.apps.update(t.app.sdkAppId, parseSettingChanges([[key, on]]));
      try {
        assert.equal(code(await v3()), want, key);
      } finally {
        await t.server.apps.update(t.app.sdkAppId, parseSettingChanges([[key, off]]));
      }
    }
    assert.equal(code(await v3()), 'OK');
  });
});

describe('Cloud API signature v1 and GET (raw requests)', () => {
  it('accepts a v1 form POST and a v1 GET, rebuilding arrays, objects, integers, numbers and booleans', async () => {
    const params = {
      'TRTCUserIds.0': 'a b',
      'TRTCUserIds.1': 'c&d',
      RoomId: 'r=1',
      Count: '7',
      Ratio: '0.5',
      Flag: 'true',
      'Filters.0.Name': 'n',
      'Filters.0.Values.0': 'v',
    };
    for (const method of ['POST', 'GET'] as const) {
      for (const sigMethod of ['HmacSHA1', 'HmacSHA256'] as const) {
        const r = await v1({ method, sigMethod, params });
        assert.equal(code(r), 'OK', `${method} ${sigMethod}`);
        assert.deepEqual(r.json.Response.Echo, {
          TRTCUserIds: ['a b', 'c&d'],
          RoomId: 'r=1',
          Count: 7,
          Ratio: 0.5,
          Flag: true,
          Filters: [{ Name: 'n', Values: ['v'] }],
        });
      }
    }
  });

  it('refuses a v1 request with a wrong key, an old timestamp, an unknown SignatureMethod, a missing Nonce', async () => {
    const params = { 'TRTCUserIds.0': 'a', RoomId: 'r' };
    assert.equal(code(await v1({ params, key: 'nope' })), 'AuthFailure.SignatureFailure');
    assert.equal(code(await v1({ params, ts: nowS() - 600 })), 'AuthFailure.SignatureExpire');
    assert.equal(code(await v1({ params: { ...params, SignatureMethod: 'MD5' } })), 'AuthFailure.SignatureFailure');
    assert.equal(code(await v1({ params: { ...params, Nonce: '' } })), 'MissingParameter');
    assert.equal(code(await v1({ params: { ...params, Count: 'x' } })), 'InvalidParameter');
    assert.equal(code(await v1({ params: { ...params, Action: 'Nope' } })), 'InvalidAction');
  });

  it('accepts a TC3 GET whose query carries the flattened parameters', async () => {
    const query = 'TRTCUserIds.0=u1&TRTCUserIds.1=u2&RoomId=r%201&Count=3';
    const r = await v3({ method: 'GET', query });
    assert.equal(code(r), 'OK');
    assert.deepEqual(r.json.Response.Echo, { TRTCUserIds: ['u1', 'u2'], RoomId: 'r 1', Count: 3 });
    // The raw query is signed as sent: the same parameters encoded differently are another request.
    assert.equal(code(await v3({ method: 'GET', query, sentQuery: query.replace('%20', '+') })), 'AuthFailure.SignatureFailure');
  });

  it('unflattens by the schema and refuses conflicting or malformed names', () => {
    assert.deepEqual(unflatten([['A.1', 'y'], ['A.0', 'x'], ['B.k', '1']], undefined), { A: ['x', 'y'], B: { k: '1' } });
    assert.throws(() => unflatten([['A', '1'], ['A.0', 'x']], undefined), /conflicts/);
    assert.throws(() => unflatten([['A..B', '1']], undefined), /malformed/);
    const proto = unflatten([['__proto__.x', '1']], undefined);
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.ok(Object.hasOwn(proto, '__proto__'));
  });
});

type IotClient = InstanceType<typeof iotexplorer.v20190423.Client>;

function sdk(o: { key?: string; id?: string; signMethod?: 'TC3-HMAC-SHA256' | 'HmacSHA1' | 'HmacSHA256'; reqMethod?: 'POST' | 'GET'; endpoint?: string } = {}): IotClient {
  // Every name resolves to 127.0.0.1, so the realistic endpoint (service `iotexplorer`) reaches the local server.
  const agent = loopbackAgent();

  return new iotexplorer.v20190423.Client({
    credential: { secretId: o.id ?? secretId, secretKey: o.key ?? secretKey },
    region: 'ap-guangzhou',
    profile: {
      signMethod: o.signMethod ?? 'TC3-HMAC-SHA256',
      httpProfile: { endpoint: o.endpoint ?? `127.0.0.1:${port}`, protocol: 'http://', reqTimeout: 10, reqMethod: o.reqMethod ?? 'POST', agent },
    },
  });
}

async function sdkError(p: Promise<unknown>): Promise<{ code?: string; requestId?: string; traceId?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; requestId?: string; traceId?: string };
  }
  assert.fail('the SDK call succeeded');
}

describe('Cloud API with the official Node SDK', () => {
  const req = { TRTCUserIds: ['u1', 'u2'], RoomId: 'room-1' };

  it('signs TC3 against 127.0.0.1:PORT (service "127", host signed without its port)', async () => {
    const res = (await sdk().CreateTRTCSignaturesWithRoomId(req)) as unknown as Record<string, unknown>;
    assert.deepEqual(res.Echo, req);
    assert.equal(typeof res.RequestId, 'string');
  });

  it('signs TC3 against iotexplorer.tencentcloudapi.com:PORT (service "iotexplorer")', async () => {
    const res = (await sdk({ endpoint: `iotexplorer.tencentcloudapi.com:${port}` }).CreateTRTCSignaturesWithRoomId(req)) as unknown as Record<string, unknown>;
    assert.deepEqual(res.Echo, req);
  });

  it('AuthFailure.SignatureFailure for a wrong SecretKey, with RequestId and the echoed trace id', async () => {
    const err = await sdkError(sdk({ key: secretKey + 'x' }).CreateTRTCSignaturesWithRoomId(req));
    assert.equal(err.code, 'AuthFailure.SignatureFailure');
    assert.ok(err.requestId);
    assert.ok(err.traceId);
  });

  it('AuthFailure.SecretIdNotFound for an unknown SecretId', async () => {
    const err = await sdkError(sdk({ id: 'AKID' + 'z'.repeat(32) }).CreateTRTCSignaturesWithRoomId(req));
    assert.equal(err.code, 'AuthFailure.SecretIdNotFound');
  });

  it('accepts signature v1 HmacSHA256 and HmacSHA1', async () => {
    for (const signMethod of ['HmacSHA256', 'HmacSHA1'] as const) {
      const res = (await sdk({ signMethod }).CreateTRTCSignaturesWithRoomId(req)) as unknown as Record<string, unknown>;
      assert.deepEqual(res.Echo, req, signMethod);
    }
    const err = await sdkError(sdk({ signMethod: 'HmacSHA256', key: 'wrong' }).CreateTRTCSignaturesWithRoomId(req));
    assert.equal(err.code, 'AuthFailure.SignatureFailure');
  });

  it('accepts GET (TC3 and v1), converting integers and booleans back', async () => {
    for (const signMethod of ['TC3-HMAC-SHA256', 'HmacSHA256'] as const) {
      const client = sdk({ reqMethod: 'GET', signMethod });
      const res = (await client.CreateTRTCSignaturesWithRoomId(req)) as unknown as Record<string, unknown>;
      assert.deepEqual(res.Echo, req, signMethod);
      const more = (await client.request(ACTION, { ...req, Count: 5, Flag: false })) as Record<string, unknown>;
      assert.deepEqual(more.Echo, { ...req, Count: 5, Flag: false }, signMethod);
    }
  });
});

describe('Cloud API routing in the server', () => {
  it('sends `/` with X-TC-Action or a TC3 Authorization to the Cloud API gateway, and leaves other requests to REST v4', async () => {
    const p = t.server.port;
    let r = await v3({ port: p, action: null });
    assert.equal(code(r), 'MissingParameter');
    r = await v3({ port: p, id: 'AKID' + 'q'.repeat(32) });
    assert.equal(code(r), 'AuthFailure.SecretIdNotFound');
    r = await send({ port: p, method: 'PUT', headers: { 'X-TC-Action': ACTION } });
    assert.equal(code(r), 'UnsupportedProtocol');
    r = await send({ port: p, method: 'GET', path: `/?Action=${ACTION}&Version=${VERSION}` });
    assert.equal(code(r), 'AuthFailure.InvalidAuthorization');
    r = await send({ port: p, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Action=x' });
    assert.equal(code(r), 'AuthFailure.InvalidAuthorization');
    // A plain POST / is not a Cloud API request.
    r = await send({ port: p, body: '{}' });
    assert.equal(r.json.Response, undefined);
    assert.equal((r.json as unknown as { ErrorCode: number }).ErrorCode, 60002);
  });

  it('reaches the server through the SDK (unknown SecretId)', async () => {
    const client = new iotexplorer.v20190423.Client({
      credential: { secretId: 'AKID' + 'w'.repeat(32), secretKey: 'x' },
      region: 'ap-guangzhou',
      profile: { httpProfile: { endpoint: `127.0.0.1:${t.server.port}`, protocol: 'http://', reqTimeout: 10, agent: new Agent() } },
    });
    const err = await sdkError(client.CreateTRTCSignaturesWithRoomId({ TRTCUserIds: ['a'], RoomId: 'r' }));
    assert.equal(err.code, 'AuthFailure.SecretIdNotFound');
  });
});
