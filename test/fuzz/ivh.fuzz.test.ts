import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import WebSocket from 'ws';
import { ivhSignature, ivhSigningString } from '../../src/auth/ivh-signature.ts';
import { encodePrivateMapKeyBuffer } from '../../src/auth/private-map-key.ts';
import { encodeTlsBase64, genUserSig } from '../../src/auth/usersig.ts';
import { IvhCloseCodes, IVH_CHANNEL_PATH } from '../../src/gateways/ivh/channel.ts';
import { parseQuery } from '../../src/http/body.ts';
import { IvhErrors } from '../../src/gateways/ivh/errors.ts';
import { IVH_ECHO_READ_LIMIT } from '../../src/gateways/ivh/gateway.ts';
import { rawRequest, type RawReply } from '../helpers/raw-http.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// AI Digital Human (IVH) fuzzing: the HTTP APIs under /v2/ivh/ with random paths, signed or broken queries and random
// Header / Payload shapes (always HTTP 200 + {"Header":{Code,Message,RequestID},"Payload":{…}}), the command-channel
// upgrade, and ~300 random frames on a live command channel next to a well-behaved one.

const RUNS = Number(process.env.FUZZ_RUNS ?? 600);
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 300);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let t: TestServer;
let port: number;
before(async () => {
  t = await startTestServer({ ivhPrepareDelayMs: 0 });
  port = Number(new URL(t.server.url).port);
  await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'p' });
  await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'fz', concurrency: 1000 });
  await t.server.digitalHuman.createProject(t.app.sdkAppId, { projectId: 'fz-small', concurrency: 1 });
  await t.server.digitalHuman.createAsset(t.app.sdkAppId, { assetKey: 'fz-asset', concurrency: 1000 });
});
after(() => t.close());

const SM = '/v2/ivh/sessionmanager/sessionmanagerservice/';
const ID = '/v2/ivh/interactdriver/interactdriverservice/';
const ROUTES = [
  `${SM}createsession`,
  `${SM}createsessionbyasset`,
  `${SM}statsession`,
  `${SM}startsession`,
  `${SM}closesession`,
  `${SM}listsessionofuin`,
  `${SM}listsessionofprojectid`,
  `${SM}listsessionofassetvk`,
  `${SM}gettrtcsign`,
  `${ID}command`,
];
/** Every Header.Code the gateway may answer. */
const CODES = new Set<number>([0, ...Object.values(IvhErrors).map((e) => e.code)]);
const INTERNAL = IvhErrors.INTERNAL.code;
const nowS = (): number => Math.floor(Date.now() / 1000);
const hex32 = /^[0-9a-f]{32}$/;
const PRINTABLE = /^[\x20-\x7e]{1,128}$/;

function signedQuery(extra: Record<string, string> = {}, o: { timestamp?: number; appKey?: string; token?: string } = {}): string {
  const q: Record<string, string> = { appkey: o.appKey ?? t.app.ivh.appKey, timestamp: String(o.timestamp ?? nowS()), ...extra };
  const signing = ivhSigningString(q);
  const sent = Object.entries(q).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return `${sent.join('&')}&signature=${encodeURIComponent(ivhSignature(o.token ?? t.app.ivh.accessToken, signing))}`;
}

function send(method: string, path: string, body: Buffer): Promise<RawReply> {
  const withBody = method !== 'GET' && method !== 'HEAD';
  return withBody ? rawRequest(port, method, path, { 'content-length': String(body.length), 'content-type': 'application/json' }, body) : rawRequest(port, method, path, {});
}

interface Envelope {
  Header: { Code: number; Message: string; RequestID: string };
  Payload: Record<string, unknown>;
}

/** A well-formed IVH API call (setup, not fuzz). */
async function api(path: string, payload: Record<string, unknown>): Promise<Envelope> {
  const r = await send('POST', `${path}?${signedQuery()}`, Buffer.from(JSON.stringify({ Header: {}, Payload: payload })));
  assert.equal(r.status, 200);
  return JSON.parse(r.body) as Envelope;
}

let reqSeq = 0;
const rid = (): string => (++reqSeq).toString(16).padStart(32, '0');

/** Creates, readies and starts a session; returns its SessionId. */
async function startedSession(userId: string, driverType: 1 | 3, projectId = 'p'): Promise<string> {
  const created = await api(`${SM}createsession`, { ReqId: rid(), VirtualmanProjectId: projectId, UserId: userId, Protocol: 'rtmp', DriverType: driverType });
  assert.equal(created.Header.Code, 0, JSON.stringify(created));
  const sessionId = created.Payload.SessionId as string;
  for (let i = 0; ; i++) {
    const stat = await api(`${SM}statsession`, { ReqId: rid(), SessionId: sessionId });
    if (stat.Payload.SessionStatus === 1) break;
    assert.ok(i < 200, 'session never became ready');
    await new Promise((r) => setTimeout(r, 10));
  }
  const started = await api(`${SM}startsession`, { ReqId: rid(), SessionId: sessionId });
  assert.equal(started.Header.Code, 0, JSON.stringify(started));
  return sessionId;
}

/** Checks the IVH HTTP envelope shape common to every reply. */
function assertEnvelope(r: RawReply, where: string): Envelope {
  assert.equal(r.status, 200, where);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', where);
  const env = JSON.parse(r.body) as Envelope;
  assert.deepEqual(Object.keys(env), ['Header', 'Payload'], where);
  assert.deepEqual(Object.keys(env.Header), ['Code', 'Message', 'RequestID'], where);
  assert.ok(Number.isInteger(env.Header.Code), where);
  assert.ok(CODES.has(env.Header.Code), `unknown code: ${where}`);
  assert.notEqual(env.Header.Code, INTERNAL, `internal error: ${where}`);
  assert.equal(typeof env.Header.Message, 'string', where);
  assert.equal(env.Header.Code === 0, env.Header.Message === '', where);
  assert.equal(typeof env.Header.RequestID, 'string', where);
  assert.ok(env.Payload !== null && typeof env.Payload === 'object' && !Array.isArray(env.Payload), where);
  return env;
}

// ---- HTTP payloads ----

const junkValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, 0, -1, 1.5, 1e300, 2 ** 53, '', ' ', '\u0000', '__proto__') },
);
/** `undefined` leaves the field out. */
const absent = fc.constant(undefined);
const huge = fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.integer({ min: 1_000, max: 50_000 })).map(([s, n]) => s.repeat(n));

/**
 * ProtocolOption for the caller's own TRTC app: keys signed with the app's real secret (so verification gets past the
 * HMAC) over random or mutated PrivateMapKey buffers. `$keys:<descriptor>` is expanded when the request is sent, since
 * the keys must name the payload's UserId.
 */
const keyDescriptor = fc.record({
  sig: fc.constantFrom('valid', 'expired', 'other-user', 'garbage'),
  buf: fc.oneof(
    fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a).toString('hex')) }),
    fc.record({
      kind: fc.constant('struct' as const),
      version: fc.constantFrom(0, 1, 1, 2),
      roomId: fc.constantFrom(0, 1234, 4294967295),
      strRoomId: fc.constantFrom('', 'ext-room', 'x'.repeat(70)),
      expireDelta: fc.constantFrom(-10, 3600),
      privilegeMap: fc.constantFrom(0, 1, 255, 0xffffffff),
      accountLen: fc.constantFrom(-1, 0, 65535), // -1: the UserId's length
      cut: fc.integer({ min: -3, max: 3 }),
    }),
  ),
});
type KeyDescriptor = typeof keyDescriptor extends fc.Arbitrary<infer T> ? T : never;
const externalOption = fc
  .record({ room: fc.oneof(fc.constant({ TrtcRoomId: 1234 }), fc.constant({ TrtcStrRoomId: 'ext-room' })), keys: keyDescriptor, appIdAsString: fc.boolean() })
  .map(({ room, keys, appIdAsString }) => ({ TrtcUseExternalApp: true, TrtcAppId: appIdAsString ? '$appid-string' : '$appid', ...room, TrtcUserSig: '$keys', TrtcPrivateMapKey: `$keys:${JSON.stringify(keys)}` }));

/** Expands the `$appid` and `$keys` placeholders of an external-app ProtocolOption for the payload's UserId. */
function expandKeys(payload: Record<string, unknown>): void {
  const o = payload.ProtocolOption as Record<string, unknown> | undefined;
  if (!o || typeof o.TrtcPrivateMapKey !== 'string' || !o.TrtcPrivateMapKey.startsWith('$keys:')) return;
  const d = JSON.parse(o.TrtcPrivateMapKey.slice(6)) as KeyDescriptor;
  const userId = typeof payload.UserId === 'string' ? payload.UserId : 'nobody';
  const app = t.app;
  const now = nowS();
  o.TrtcAppId = o.TrtcAppId === '$appid-string' ? String(app.sdkAppId) : app.sdkAppId;
  const who = d.sig === 'other-user' ? `${userId}x` : userId;
  const expire = d.sig === 'expired' ? 1 : 3600;
  const at = d.sig === 'expired' ? now - 100 : now;
  o.TrtcUserSig = genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: who, expire, now: at });
  let userbuf: Buffer;
  if (d.buf.kind === 'raw') userbuf = Buffer.from(d.buf.bytes, 'hex');
  else {
    const b = d.buf;
    const version = b.version === 0 ? 0 : 1;
    const fields = { version, account: userId, sdkAppId: app.sdkAppId, roomId: b.roomId, expireAt: now + b.expireDelta, privilegeMap: b.privilegeMap, accountType: 0 } as const;
    const full = encodePrivateMapKeyBuffer(version === 1 ? { ...fields, strRoomId: b.strRoomId } : fields);
    if (b.version === 2) full[0] = 2;
    if (b.accountLen >= 0) full.writeUInt16BE(b.accountLen, 1);
    userbuf = b.cut < 0 ? full.subarray(0, full.length + b.cut) : Buffer.concat([full, Buffer.alloc(b.cut, 0x41)]);
  }
  o.TrtcPrivateMapKey = d.sig === 'garbage' ? encodeTlsBase64(deflateSync(Buffer.from(JSON.stringify({ 'TLS.ver': '2.0', 'TLS.userbuf': userbuf.toString('base64') })))) : genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId: who, expire, now: at, userbuf });
}

type Half = 'valid' | 'junk';
type Gen = Record<Half, fc.Arbitrary<unknown>>;
const g = (valid: fc.Arbitrary<unknown>, junk: fc.Arbitrary<unknown>): Gen => ({ valid, junk });

const userIdValid = fc.oneof(fc.constantFrom('fz-u1', 'fz-u2', 'fz-u3', 'x'.repeat(32)), fc.stringMatching(/^fz-[A-Za-z0-9_]{1,20}$/));
const FIELDS: Record<string, Gen> = {
  ReqId: g(fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.string({ minLength: 1, maxLength: 40 })), fc.oneof(absent, fc.constantFrom('', 'x'.repeat(129)), junkValue)),
  // `$session:N` becomes the N-th real SessionId when the request is sent.
  SessionId: g(fc.nat({ max: 20 }).map((n) => `$session:${n}`), fc.oneof(absent, fc.constantFrom('', 'm1', 'm0000000000000000000', '$session:x'), fc.string({ maxLength: 30 }), junkValue)),
  UserId: g(userIdValid, fc.oneof(absent, fc.constantFrom('', 'x'.repeat(33), 'a\nb', 'ü'.repeat(17)), fc.string({ maxLength: 40 }), junkValue)),
  Protocol: g(fc.constantFrom('rtmp', 'trtc', 'webrtc'), fc.oneof(absent, fc.constantFrom('', 'RTMP', 'hls', 'trtc ', 1), junkValue)),
  DriverType: g(fc.constantFrom(1, 3), fc.oneof(absent, fc.constantFrom(0, 2, 4, -1, 1.5, '1', 2 ** 53, 1e300), junkValue)),
  VirtualmanProjectId: g(fc.constantFrom('fz', 'fz', 'fz-small'), fc.oneof(absent, fc.constantFrom('', 'nope', 'fz-asset', 'FZ', '__proto__'), junkValue)),
  AssetVirtualmanKey: g(fc.constant('fz-asset'), fc.oneof(absent, fc.constantFrom('', 'nope', 'fz', '__proto__'), junkValue)),
  ProtocolOption: g(
    fc.oneof(
      absent,
      fc.record(
        {
          TrtcRoomId: fc.integer({ min: 1, max: 4294967294 }),
          TrtcStrRoomId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
          StrTrtcRoomId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
          TrtcAutoGenRoomIdType: fc.constantFrom(0, 1),
          CssCustomPushUrl: fc.constantFrom('rtmp://push.example.com/live/x', ''),
        },
        { requiredKeys: [] },
      ),
      externalOption,
    ),
    fc.oneof(
      fc.record(
        {
          TrtcUseExternalApp: fc.oneof(fc.boolean(), junkValue),
          TrtcAppId: fc.oneof(fc.constant(null).map(() => t.app.sdkAppId), fc.constant(null).map(() => String(t.app.sdkAppId)), fc.integer(), junkValue),
          TrtcRoomId: fc.oneof(fc.constantFrom(0, -1, 4294967295, 1.5, '12', 2 ** 53), junkValue),
          TrtcStrRoomId: fc.oneof(fc.constantFrom('', 'x'.repeat(65), 'é'.repeat(33)), huge, junkValue),
          StrTrtcRoomId: junkValue,
          TrtcAutoGenRoomIdType: junkValue,
          TrtcUserSig: fc.oneof(fc.string({ maxLength: 40 }), junkValue),
          TrtcPrivateMapKey: fc.oneof(fc.string({ maxLength: 40 }), junkValue),
          CssCustomPushUrl: junkValue,
          ['__proto__']: junkValue,
        },
        { requiredKeys: [] },
      ),
      junkValue,
    ),
  ),
  StreamMaxInterval: g(fc.oneof(absent, fc.integer({ min: 2000, max: 6000 })), fc.oneof(fc.constantFrom(0, 1999, 6001, 2500.5, '3000', -1, 1e300), junkValue)),
  ExtraInfo: g(fc.oneof(absent, fc.constant({}), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }))), fc.oneof(fc.constantFrom('x', [], 1), junkValue)),
  RoomId: g(
    fc.oneof(fc.integer({ min: 1, max: 4294967294 }), fc.integer({ min: 1, max: 4294967294 }).map(String), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)),
    fc.oneof(absent, fc.constantFrom(0, -1, 4294967295, 1.5, 2 ** 53, '', '0', '4294967295', '01'), fc.record({ RoomId: fc.nat() }), junkValue),
  ),
  StrRoomId: g(fc.oneof(absent, fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)), fc.oneof(fc.constantFrom('', 'x'.repeat(65)), huge, junkValue)),
  Command: g(fc.constant('SEND_TEXT'), fc.oneof(absent, fc.constantFrom('', 'SEND_AUDIO', 'SEND_STREAMTEXT', 'SEND_HEARTBEAT', 'send_text', 'X'), junkValue)),
  Data: g(
    fc.oneof(fc.record({ Text: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constant('<speak>hi<break time="300ms"/></speak>')) }), fc.constant({ Interrupt: true })),
    fc.oneof(
      fc.record({ Text: fc.oneof(fc.constantFrom('', ' ', '<speak>', '<speak><foo/></speak>', 'x'.repeat(4001)), huge, junkValue), Interrupt: fc.oneof(fc.boolean(), junkValue) }, { requiredKeys: [] }),
      fc.constantFrom('x', [], 1, null),
      junkValue,
    ),
  ),
};

/** Required and optional fields of each API. */
const SHAPES: Record<string, { required: string[]; optional: string[] }> = {
  createsession: { required: ['ReqId', 'VirtualmanProjectId', 'UserId', 'Protocol', 'DriverType'], optional: ['ProtocolOption', 'StreamMaxInterval', 'ExtraInfo'] },
  createsessionbyasset: { required: ['ReqId', 'AssetVirtualmanKey', 'UserId', 'Protocol', 'DriverType'], optional: ['ProtocolOption', 'StreamMaxInterval', 'ExtraInfo'] },
  statsession: { required: ['ReqId', 'SessionId'], optional: [] },
  startsession: { required: ['ReqId', 'SessionId'], optional: [] },
  closesession: { required: ['ReqId', 'SessionId'], optional: [] },
  listsessionofuin: { required: ['ReqId'], optional: [] },
  listsessionofprojectid: { required: ['ReqId', 'VirtualmanProjectId'], optional: [] },
  listsessionofassetvk: { required: ['ReqId', 'AssetVirtualmanKey'], optional: [] },
  gettrtcsign: { required: ['ReqId', 'SessionId', 'UserId', 'RoomId'], optional: ['StrRoomId'] },
  command: { required: ['ReqId', 'SessionId', 'Command', 'Data'], optional: [] },
};
const ALL_FIELDS = Object.keys(FIELDS);

/** A payload for an API: clean, with one field wrong, or anything (every field possibly present, right or wrong). */
function payloadFor(name: string, mode: 'clean' | 'one' | 'dirty'): fc.Arbitrary<Record<string, unknown>> {
  const shape = (Object.hasOwn(SHAPES, name) ? SHAPES[name] : undefined) ?? { required: ['ReqId'], optional: ['SessionId'] };
  const fields = [...shape.required, ...shape.optional];
  const valid = fc.record(Object.fromEntries(fields.map((f) => [f, FIELDS[f]!.valid])));
  if (mode === 'clean') return valid;
  if (mode === 'one') {
    return valid.chain((p) => fc.constantFrom(...fields).chain((k) => FIELDS[k]!.junk.map((v) => ({ ...p, [k]: v }))));
  }
  return fc.record(Object.fromEntries(ALL_FIELDS.map((f) => [f, fc.oneof({ weight: 2, arbitrary: FIELDS[f]!.valid }, { weight: 1, arbitrary: FIELDS[f]!.junk })])), { requiredKeys: [] });
}

const headerArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<unknown>({}) },
  { weight: 3, arbitrary: fc.record({ RequestID: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('', 'x'.repeat(128), 'x'.repeat(129), 'tab\there', 'é'), junkValue) }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, [], 'h', 1) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), junkValue) },
);

const pathArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ROUTES) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/v2/ivh/',
      `${SM}createsession/`,
      `${SM}CREATESESSION`,
      `${SM}`,
      `${SM}__proto__`,
      `${SM}constructor`,
      `${SM}hasOwnProperty`,
      '/v2/ivh/sessionmanager//statsession',
      `${SM}statsession%00`,
      `${ID}commandchannel`,
      '/v2/ivh/../ivh/sessionmanager/sessionmanagerservice/statsession',
    ),
  },
  { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[A-Za-z0-9_.%~-]{0,12}$/), { maxLength: 4 }).map((segs) => `/v2/ivh/${segs.join('/')}`) },
);
const methodArb = fc.oneof({ weight: 10, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD') });
const queryArb = fc.constantFrom(
  'signed',
  'signed',
  'signed',
  'signed-extra',
  'signed-skew',
  'unencoded',
  'missing-appkey',
  'missing-timestamp',
  'missing-signature',
  'stale',
  'future',
  'junk-timestamp',
  'wrong-signature',
  'unknown-appkey',
  'empty',
  'junk',
);

interface HttpCase {
  method: string;
  path: string;
  query: string;
  body: string | Buffer;
  authentic: boolean;
  /** The Header and Payload sent when the body is a JSON envelope. */
  header?: unknown;
  payload?: Record<string, unknown>;
}

const bodyKind = fc.constantFrom('envelope', 'envelope', 'envelope', 'envelope', 'envelope', 'envelope', 'no-header', 'payload-junk', 'json', 'text', 'bytes', 'empty');

const httpCase = fc.tuple(pathArb, fc.constantFrom<'clean' | 'one' | 'dirty'>('clean', 'one', 'one', 'dirty', 'dirty')).chain(([path, mode]) =>
  fc
    .record({
      method: mode === 'clean' ? fc.constant('POST') : methodArb,
      q: mode === 'clean' ? fc.constant('signed') : queryArb,
      skew: fc.integer({ min: -250, max: 250 }),
      header: headerArb,
      payload: payloadFor(path.slice(path.lastIndexOf('/') + 1), mode),
      kind: mode === 'clean' ? fc.constant('envelope') : bodyKind,
      json: fc.jsonValue({ maxDepth: 3 }),
      text: fc.oneof(fc.string({ maxLength: 64 }), fc.constantFrom('{', '{"Header":{},"Payload":', '{"Payload":{"ReqId":"r"}}x', 'null', '[]', '\uFEFF{}')),
      bytes: fc.uint8Array({ maxLength: 128 }),
      junkPayload: fc.constantFrom<unknown>(null, [], 'p', 1, true),
      junkQuery: fc.stringMatching(/^[A-Za-z0-9=&%+._-]{0,40}$/),
    })
    .map((c): HttpCase => {
      let query: string;
      let authentic = false;
      switch (c.q) {
        case 'signed':
          query = signedQuery();
          authentic = true;
          break;
        case 'signed-extra':
          query = signedQuery({ requestid: 'x', foo: 'bar baz' });
          authentic = true;
          break;
        case 'signed-skew':
          query = signedQuery({}, { timestamp: nowS() + c.skew });
          authentic = true;
          break;
        case 'unencoded': {
          // The documentation warns that a raw `+` decodes to a space; without one the raw signature still works.
          const signing = ivhSigningString({ appkey: t.app.ivh.appKey, timestamp: String(nowS()) });
          const sig = ivhSignature(t.app.ivh.accessToken, signing);
          query = `${signing}&signature=${sig}`;
          authentic = !sig.includes('+');
          break;
        }
        case 'missing-appkey':
          query = signedQuery().replace(/(^|&)appkey=[^&]*/, '');
          break;
        case 'missing-timestamp':
          query = signedQuery().replace(/(^|&)timestamp=\d+/, '');
          break;
        case 'missing-signature':
          query = signedQuery().replace(/&signature=.*$/, '');
          break;
        case 'stale':
          query = signedQuery({}, { timestamp: nowS() - 301 - Math.abs(c.skew) });
          break;
        case 'future':
          query = signedQuery({}, { timestamp: nowS() + 301 + Math.abs(c.skew) });
          break;
        case 'junk-timestamp':
          query = `appkey=${t.app.ivh.appKey}&timestamp=${encodeURIComponent(['abc', '-1', '1e9', '', '9999999999999'][Math.abs(c.skew) % 5]!)}&signature=x`;
          break;
        case 'wrong-signature':
          query = signedQuery({}, { token: `${t.app.ivh.accessToken}x` });
          break;
        case 'unknown-appkey':
          query = signedQuery({}, { appKey: '0123456789abcdef0123456789abcdef' });
          break;
        case 'empty':
          query = '';
          break;
        default:
          query = c.junkQuery;
      }
      const base = { method: c.method, path, query, authentic };
      switch (c.kind) {
        case 'envelope':
          return { ...base, body: JSON.stringify({ Header: c.header, Payload: c.payload }), header: c.header, payload: c.payload };
        case 'no-header':
          return { ...base, body: JSON.stringify({ Payload: c.payload }), payload: c.payload };
        case 'payload-junk':
          return { ...base, body: JSON.stringify({ Header: c.header, Payload: c.junkPayload }), header: c.header };
        case 'json':
          return { ...base, body: JSON.stringify(c.json) };
        case 'text':
          return { ...base, body: c.text };
        case 'bytes':
          return { ...base, body: Buffer.from(c.bytes) };
        default:
          return { ...base, body: '' };
      }
    })
    .map((c) => Object.assign(c, { [fc.toStringMethod]: () => describeHttp(c) })),
);

function describeHttp(c: HttpCase): string {
  const body = typeof c.body === 'string' ? c.body : c.body.toString('utf8');
  return `${c.method} ${c.path}?${c.query.slice(0, 200)} body=${JSON.stringify(body.length > 800 ? `${body.slice(0, 800)}…(${body.length})` : body)} authentic=${c.authentic}`;
}

/** SessionIds of real sessions (created before the run and by the fuzzed createsession calls). */
const sessions: string[] = [];

describe('IVH HTTP gateway fuzzing', () => {
  before(async () => {
    sessions.push(await startedSession('fz-s1', 1, 'fz'), await startedSession('fz-s2', 3, 'fz'));
    const trtc = await api(`${SM}createsession`, { ReqId: rid(), VirtualmanProjectId: 'fz', UserId: 'fz-s3', Protocol: 'trtc', DriverType: 1 });
    sessions.push(trtc.Payload.SessionId as string);
  });

  it('answers random paths, queries, headers and payloads with HTTP 200 and the IVH envelope', async (ctx) => {
    const codes = new Map<number, number>();
    const messages = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(httpCase, async (c) => {
        let bodyText = typeof c.body === 'string' ? c.body.replace(/"\$session:(\d+)"/g, (_m, n: string) => JSON.stringify(sessions[Number(n) % sessions.length])) : c.body;
        if (typeof bodyText === 'string' && bodyText.includes('"$keys:')) {
          const env = JSON.parse(bodyText) as { Header?: unknown; Payload: Record<string, unknown> };
          expandKeys(env.Payload);
          bodyText = JSON.stringify(env);
        }
        const r = await send(c.method, `${c.path}${c.query ? `?${c.query}` : ''}`, Buffer.from(bodyText));
        const where = `${describeHttp(c)} → ${r.status} ${r.body.slice(0, 300)}`;
        if (c.method === 'HEAD') {
          assert.equal(r.status, 200, where);
          return;
        }
        const env = assertEnvelope(r, where);
        codes.set(env.Header.Code, (codes.get(env.Header.Code) ?? 0) + 1);
        const message = `${env.Header.Code} ${env.Header.Message.replace(/\d+/g, 'N').slice(0, 70)}`;
        messages.set(message, (messages.get(message) ?? 0) + 1);
        if (env.Header.Code === 0) {
          assert.ok(c.authentic, `an unauthenticated request succeeded: ${where}`);
          const sent = JSON.parse(bodyText.toString()) as { Payload: Record<string, unknown> };
          assert.equal(env.Payload.ReqId, sent.Payload.ReqId, where);
          if (typeof env.Payload.SessionId === 'string' && (c.path.endsWith('createsession') || c.path.endsWith('createsessionbyasset'))) sessions.push(env.Payload.SessionId);
        }
        // Payload.ReqId, when echoed, is the one sent.
        if ('ReqId' in env.Payload) assert.equal(env.Payload.ReqId, c.payload?.ReqId, where);
        // Header.RequestID: the client's when it is 1-128 printable characters and the body was read, else 32 hex digits.
        // A request refused by its signature has its body read only up to IVH_ECHO_READ_LIMIT (a 100005 after the
        // signature, from the service, reads it whole: either is possible for a large body answered 100005). A query
        // that is not valid UTF-8 once percent-decoded is refused before the body is read.
        const known = ROUTES.includes(c.path) && c.method === 'POST' && parseQuery(c.query) !== null;
        const requestId = c.header !== null && typeof c.header === 'object' && !Array.isArray(c.header) ? (c.header as Record<string, unknown>).RequestID : undefined;
        const echoes = known && typeof requestId === 'string' && PRINTABLE.test(requestId);
        const maybeUnread = env.Header.Code === IvhErrors.UNAUTHORIZED.code && Buffer.byteLength(bodyText) > IVH_ECHO_READ_LIMIT;
        if (echoes && maybeUnread) assert.ok(env.Header.RequestID === requestId || hex32.test(env.Header.RequestID), where);
        else if (echoes) assert.equal(env.Header.RequestID, requestId, where);
        else assert.match(env.Header.RequestID, hex32, where);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: RUNS > 600 ? undefined : 15_000, seed: SEED, includeErrorInReport: true },
    );
    ctx.diagnostic(`sessions=${sessions.length} codes=${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => b[1] - a[1])))}`);
    ctx.diagnostic(`messages=${JSON.stringify(Object.fromEntries([...messages].sort((a, b) => b[1] - a[1]).slice(0, 40)))}`);
    assert.ok((codes.get(0) ?? 0) > 0, 'some requests succeeded');
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });

  it('refuses a body over the limit and answers after it', async () => {
    const big = Buffer.from(JSON.stringify({ Header: { RequestID: 'big' }, Payload: { ReqId: 'r', Pad: 'x'.repeat(1024 * 1024) } }));
    const env = assertEnvelope(await send('POST', `${SM}statsession?${signedQuery()}`, big), 'oversized body');
    assert.equal(env.Header.Code, IvhErrors.INVALID_PARAMETER.code);
    const after_ = await api(`${SM}listsessionofuin`, { ReqId: 'after' });
    assert.equal(after_.Header.Code, 0);
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });
});

// ---- The command channel ----

/** A channel's frames, and its close. */
class Channel {
  readonly frames: unknown[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d, isBinary) => {
      this.frames.push(isBinary ? { binary: true } : String(d));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until a frame matching `pred` arrived after index `from`, or the socket closed; the frame or null. */
  async waitFor(pred: (f: Envelope) => boolean, from: number, timeoutMs = 5000): Promise<Envelope | null> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.frames.length; i++) {
        const f = this.frames[i];
        if (typeof f !== 'string') continue;
        const env = JSON.parse(f) as Envelope;
        if (pred(env)) return env;
      }
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async closedWith(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.closed;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

function wsUrl(path: string): string {
  return `ws://127.0.0.1:${port}${path}`;
}

function openChannel(sessionId: string): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(`${IVH_CHANNEL_PATH}?${signedQuery({ requestid: sessionId })}`));
    const ch = new Channel(ws);
    ws.once('open', () => resolve(ch));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Every frame a channel received is an IVH envelope; events belong to the channel's session; refusals echo ReqId. */
function assertFrames(ch: Channel, sessionId: string, label: string, messages?: Map<string, number>): { events: number; refusals: number } {
  let events = 0;
  let refusals = 0;
  for (const raw of ch.frames) {
    const where = `${label}: ${JSON.stringify(raw).slice(0, 400)}`;
    assert.equal(typeof raw, 'string', `binary frame from the server: ${where}`);
    const env = JSON.parse(raw as string) as Envelope;
    assert.deepEqual(Object.keys(env), ['Header', 'Payload'], where);
    assert.ok(Number.isInteger(env.Header.Code), where);
    assert.ok(CODES.has(env.Header.Code), `unknown code: ${where}`);
    assert.notEqual(env.Header.Code, INTERNAL, `internal error: ${where}`);
    assert.equal(typeof env.Header.Message, 'string', where);
    assert.equal(typeof env.Header.RequestID, 'string', where);
    assert.ok(env.Payload !== null && typeof env.Payload === 'object' && !Array.isArray(env.Payload), where);
    if (env.Header.Code === 0) {
      events++;
      assert.ok(env.Payload.Type === 3 || env.Payload.Type === 9, where);
      assert.equal(env.Payload.SessionId, sessionId, `an event of another session: ${where}`);
      assert.equal(env.Payload.ReqId, env.Header.RequestID, where);
    } else {
      refusals++;
      const key = `${env.Header.Code} ${env.Header.Message.replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 60)}`;
      messages?.set(key, (messages.get(key) ?? 0) + 1);
      assert.deepEqual(env.Payload, { ReqId: env.Header.RequestID }, where);
      assert.ok(env.Header.RequestID.length <= 128, where);
    }
  }
  return { events, refusals };
}

const base64 = fc.uint8Array({ maxLength: 3200 }).map((a) => Buffer.from(a).toString('base64'));
const seq = fc.oneof(
  { weight: 4, arbitrary: fc.constant(1) },
  { weight: 4, arbitrary: fc.integer({ min: 2, max: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, '1', null, 2 ** 53) },
);
const reqIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a1', 'a2', 'a3', 'a4') }, // reused so that streams continue across frames
  { weight: 3, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, '', 7, null, {}, 'x'.repeat(129), 'x'.repeat(128), 'barrier-0') },
);
/** Mostly valid, sometimes junk. */
const mostly = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: junkValue });
const dataFor = (command: unknown): fc.Arbitrary<unknown> => {
  switch (command) {
    case 'SEND_AUDIO':
      return fc.record(
        { Audio: fc.oneof({ weight: 6, arbitrary: base64 }, { weight: 1, arbitrary: fc.constantFrom('', 'A', 'AA', 'AAA=', '!!!!', 'QQ==', 'QUE=', 7) }), Seq: seq, IsFinal: mostly(fc.boolean()), Interrupt: mostly(fc.boolean()) },
        { requiredKeys: ['Audio', 'Seq'] },
      );
    case 'SEND_STREAMTEXT':
      return fc.record({ Text: fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.constant('x'.repeat(1001)) }, { weight: 1, arbitrary: junkValue }), Seq: seq, IsFinal: fc.boolean(), Interrupt: fc.boolean(), IsSentence: mostly(fc.boolean()) }, { requiredKeys: ['Text', 'Seq'] });
    case 'SEND_TEXT':
      return fc.record(
        {
          Text: fc.oneof(
            { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
            { weight: 2, arbitrary: fc.constantFrom('<speak>hi<break time="200ms"/></speak>', '<speak>', '<speak><x/></speak>', ' ', 'x'.repeat(4001), '<speak><prosody rate="2">a</prosody></speak>') },
            { weight: 1, arbitrary: junkValue },
          ),
          Interrupt: mostly(fc.boolean()),
          ChatCommand: mostly(fc.string({ maxLength: 5 })),
          CloudAiVisitorBizId: mostly(fc.string({ maxLength: 70 })),
          SmartActionEnabled: mostly(fc.boolean()),
        },
        { requiredKeys: [] },
      );
    default:
      return fc.oneof(fc.constant({ Text: 'PING' }), junkValue);
  }
};
const commandArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('SEND_AUDIO', 'SEND_AUDIO', 'SEND_TEXT', 'SEND_STREAMTEXT', 'SEND_HEARTBEAT') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, '', 'send_text', 'SEND_VIDEO', '__proto__', 1, null, ['SEND_TEXT']) },
);

type Frame =
  | { kind: 'text'; text: string }
  | { kind: 'binary'; bytes: Uint8Array }
  | { kind: 'bad-utf8' }
  | { kind: 'oversize' }
  | { kind: 'json'; value: unknown };

/** `$A` / `$B` are replaced by the two sessions' ids when the frame is sent. */
const sessionRef = fc.oneof(
  { weight: 6, arbitrary: fc.constant<unknown>('$A') },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(undefined, '', null) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('$B', 'm1', 7, {}) },
);
const commandFrame = commandArb.chain((command) =>
  fc
    .record(
      {
        Header: fc.oneof(fc.constant({}), junkValue),
        Payload: fc.oneof(
          { weight: 12, arbitrary: fc.record({ ReqId: reqIdArb, SessionId: sessionRef, Command: fc.constant(command), Data: fc.oneof({ weight: 8, arbitrary: dataFor(command) }, { weight: 1, arbitrary: junkValue }) }, { requiredKeys: ['Command'] }) },
          { weight: 1, arbitrary: fc.record({ ReqId: reqIdArb, SessionID: sessionRef, Command: fc.constant(command), Data: dataFor(command) }) },
          { weight: 1, arbitrary: junkValue },
        ),
      },
      { requiredKeys: ['Payload'] },
    )
    .map((value): Frame => ({ kind: 'json', value })),
);
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 30, arbitrary: commandFrame },
  { weight: 3, arbitrary: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('', '{', '[]', 'null', '{"Payload":', '{"Payload":[]}', '"x"', '1')).map((text): Frame => ({ kind: 'text', text })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v): Frame => ({ kind: 'text', text: JSON.stringify(v) })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Frame => ({ kind: 'binary', bytes })) },
  { weight: 1, arbitrary: huge.map((h): Frame => ({ kind: 'json', value: { Header: {}, Payload: { ReqId: 'huge', SessionId: '$A', Command: 'SEND_TEXT', Data: { Text: h } } } })) },
  { weight: 1, arbitrary: fc.constantFrom<Frame>({ kind: 'bad-utf8' }, { kind: 'oversize' }) },
);

/** The close code the server must use after a frame, or null when the channel must stay open. */
function expectedClose(f: Frame): number | null {
  if (f.kind === 'bad-utf8') return 1007; // RFC 6455: invalid UTF-8 in a text frame (ws)
  if (f.kind === 'oversize') return 1009; // over maxFrame (ws)
  return null;
}

/** The channel's documented close codes, and the protocol-level ones ws uses for the frames provoked here. */
const DOCUMENTED_CLOSES = new Set<number>(Object.values(IvhCloseCodes));

describe('IVH command channel fuzzing', () => {
  let a: string;
  let b: string;

  before(async () => {
    a = await startedSession('ws-a', 3);
    b = await startedSession('ws-b', 1);
  });

  it('refuses random upgrades with an HTTP status and the IVH envelope', async () => {
    const c = await startedSession('ws-c', 1);
    const pending = await api(`${SM}createsession`, { ReqId: rid(), VirtualmanProjectId: 'p', UserId: 'ws-d', Protocol: 'webrtc', DriverType: 1 });
    assert.equal(pending.Header.Code, 0);    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(IVH_CHANNEL_PATH, IVH_CHANNEL_PATH, `${IVH_CHANNEL_PATH}/`, '/v2/ws/ivh/', '/v2/ws/ivh/x', `${IVH_CHANNEL_PATH.toUpperCase()}`),
        fc.constantFrom('real', 'real', 'unknown', 'not-started', 'missing', 'stale', 'wrong', 'junk'),
        async (path, q) => {
          const sessionId = q === 'unknown' ? 'm123' : q === 'not-started' ? (pending.Payload.SessionId as string) : c;
          let query = signedQuery({ requestid: sessionId });
          if (q === 'missing') query = signedQuery();
          if (q === 'stale') query = signedQuery({ requestid: c }, { timestamp: nowS() - 1000 });
          if (q === 'wrong') query = signedQuery({ requestid: c }, { token: 'nope' });
          if (q === 'junk') query = 'requestid=%ZZ&&=';
          const outcome = await new Promise<{ opened: boolean; status?: number; body?: string }>((resolve, reject) => {
            const ws = new WebSocket(wsUrl(`${path}?${query}`));
            ws.once('open', () => (ws.close(), resolve({ opened: true })));
            ws.once('unexpected-response', (_req, res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve({ opened: false, status: res.statusCode, body }));
            });
            ws.once('error', reject);
          });
          const shouldOpen = path === IVH_CHANNEL_PATH && q === 'real';
          assert.equal(outcome.opened, shouldOpen, `${path} ${q}: ${JSON.stringify(outcome)}`);
          if (!outcome.opened && !path.startsWith('/v2/ws/ivh/')) {
            assert.equal(outcome.status, 404); // not the IVH prefix: the server's generic refusal
          } else if (!outcome.opened) {
            assert.ok([400, 401, 404, 405, 409, 410].includes(outcome.status!), `${path} ${q}: ${outcome.status}`);
            const env = JSON.parse(outcome.body!) as Envelope;
            assert.ok(Number.isInteger(env.Header.Code) && env.Header.Code !== 0 && env.Header.Code !== INTERNAL, outcome.body);
            assert.match(env.Header.RequestID, hex32);
          }
        },
      ),
      { numRuns: 80, seed: SEED },
    );
  });

  it(`survives ${FRAMES} random frames on one channel while a second, well-behaved channel is unaffected`, async (ctx) => {
    let chA = await openChannel(a);
    const chB = await openChannel(b);
    const retiredA: Channel[] = [];
    const closes: number[] = [];
    let barrier = 0;
    let barriersB = 0;

    /** A frame every channel refuses with its ReqId: once its reply is in, every earlier frame was handled. */
    const sync = async (ch: Channel, label: string): Promise<void> => {
      const id = `barrier-${++barrier}`;
      const from = ch.frames.length;
      ch.ws.send(JSON.stringify({ Header: {}, Payload: { ReqId: id } }));
      const reply = await ch.waitFor((f) => f.Header.RequestID === id, from);
      assert.ok(reply, `${label}: the channel closed instead of answering (${JSON.stringify(ch.closed)})`);
      assert.equal(reply.Header.Code, IvhErrors.INVALID_PARAMETER.code);
    };

    const frames = fc.sample(frameArb, SEED === undefined ? FRAMES : { numRuns: FRAMES, seed: SEED });
    for (const [i, f] of frames.entries()) {
      const label = `frame ${i} ${JSON.stringify(f).slice(0, 300)}`;
      const subst = (v: unknown): string => JSON.stringify(v).replaceAll('"$A"', JSON.stringify(a)).replaceAll('"$B"', JSON.stringify(b));
      switch (f.kind) {
        case 'text':
          chA.ws.send(f.text);
          break;
        case 'binary':
          chA.ws.send(Buffer.from(f.bytes), { binary: true });
          break;
        case 'bad-utf8':
          chA.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
          break;
        case 'oversize':
          chA.ws.send(JSON.stringify({ Header: {}, Payload: { ReqId: 'big', Pad: 'x'.repeat(1024 * 1024 + 1) } }));
          break;
        default:
          chA.ws.send(subst(f.value));
      }
      const expected = expectedClose(f);
      if (expected === null) {
        await sync(chA, label);
      } else {
        const closed = await chA.closedWith();
        assert.equal(closed.code, expected, `${label}: closed with ${JSON.stringify(closed)}`);
        closes.push(closed.code);
        retiredA.push(chA);
        chA = await openChannel(a); // a reconnect is a fresh channel for the same session
      }
      // The neighbour keeps answering throughout.
      if (i % 25 === 0) {
        await sync(chB, `B after ${label}`);
        barriersB++;
      }
    }

    // The fuzzed channel is still open (no unexpected close) and its session still drives.
    const messages = new Map<string, number>();
    let eventsA = 0;
    for (const ch of [...retiredA, chA]) eventsA += assertFrames(ch, a, 'A', messages).events;
    assert.ok(chA.open, `A closed: ${JSON.stringify(chA.closed)}`);
    for (const code of closes) assert.ok(DOCUMENTED_CLOSES.has(code) || code === 1007 || code === 1009, `close code ${code}`);
    const stat = await api(`${SM}statsession`, { ReqId: rid(), SessionId: a });
    assert.equal(stat.Payload.SessionStatus, 1, JSON.stringify(stat));

    // The well-behaved channel: never closed, only its own events, and a text drive still works end to end.
    const from = chB.frames.length;
    chB.ws.send(JSON.stringify({ Header: {}, Payload: { ReqId: 'b-final', SessionId: b, Command: 'SEND_TEXT', Data: { Text: 'hello' } } }));
    const start = await chB.waitFor((f) => f.Header.RequestID === 'b-final', from);
    assert.ok(start && start.Header.Code === 0 && start.Payload.SpeakStatus === 'TextStart', JSON.stringify(start));
    const over = await chB.waitFor((f) => f.Header.RequestID === 'b-final' && f.Payload.SpeakStatus === 'TextOver', from, 5000);
    assert.ok(over, 'B never got TextOver');
    assert.equal(chB.closed, null);
    const statsB = assertFrames(chB, b, 'B');
    assert.equal(statsB.refusals, barriersB, 'B was refused nothing but its barriers');
    ctx.diagnostic(`A: ${eventsA} events; reconnects=${closes.length} (${closes.join(',')}); B: ${statsB.events} events`);
    ctx.diagnostic(`A refusals: ${JSON.stringify(Object.fromEntries([...messages].sort((x, y) => y[1] - x[1])))}`);

    // A still drives after the fuzz.
    await sync(chA, 'A after the fuzz');
    chA.ws.close();
    chB.ws.close();
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });
});
