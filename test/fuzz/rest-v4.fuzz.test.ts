import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

interface Raw {
  status: number;
  body: string;
}

function send(method: string, path: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Raw> {
  const { port } = new URL(t.server.url);
  return new Promise((resolve, reject) => {
    const withBody = method !== 'GET' && method !== 'HEAD';
    const length = withBody ? { 'content-length': String(Buffer.byteLength(body)) } : {};
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...length, ...headers } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(withBody ? body : undefined);
  });
}

function assertEnvelope(r: Raw, method: string): void {
  assert.notEqual(r.status, 500);
  if (method === 'HEAD') return;
  const env = JSON.parse(r.body) as Record<string, unknown>;
  assert.ok(env.ActionStatus === 'OK' || env.ActionStatus === 'FAIL');
  assert.equal(typeof env.ErrorCode, 'number');
  assert.equal(typeof env.ErrorInfo, 'string');
  assert.match(env.RequestId as string, /^Id-[0-9a-f]{32}-O-Seq-\d+$/);
  assert.equal(env.ErrorCode === 0, env.ActionStatus === 'OK');
}

const commands = ['account_import', 'multiaccount_import', 'account_delete', 'account_check', 'get_call_info', 'end_call', 'start_call_by_robot', 'get_record_by_callid', 'get_record_by_filter',
  'create_room', 'get_room_info', 'update_room_info', 'get_room_list', 'set_room_metadata', 'ban_member', 'send_text_msg', 'add_robot', 'get_seat_list', 'pick_user_on_seat',
  'send_gift', 'add_gift', 'get_gift_count', 'set_callback_token', 'x', '__proto__'];
const services = ['im_open_login_svc', 'call_engine_http_srv', 'call_record_http_srv', 'live_engine_http_srv', 'room_engine_http_mic', 'live_config'];
const segment = fc.oneof(fc.constantFrom('v4', ...services, ...commands), fc.stringMatching(/^[A-Za-z0-9_%.-]{0,12}$/));
const queryValue = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('json', '1', '4294967295', '1400000001', 'administrator'));
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v));
const accountBody = fc.record(
  {
    UserID: fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null)),
    Nick: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
    Accounts: fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.integer()), { maxLength: 5 }),
    CheckItem: fc.array(fc.record({ UserID: fc.oneof(fc.string({ maxLength: 40 }), fc.boolean()) }), { maxLength: 5 }),
    DeleteItem: fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }),
    CallId: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }), fc.integer()),
    Robot_Account: fc.oneof(fc.constantFrom('administrator'), fc.string({ maxLength: 8 }), fc.integer()),
    CalleeList_Account: fc.array(fc.oneof(fc.constantFrom('administrator', 'u1'), fc.string({ maxLength: 8 })), { maxLength: 3 }),
    Timeout: fc.oneof(fc.integer({ min: 0, max: 700_000 }), fc.string()),
    CallInfo: fc.record({ MediaType: fc.constantFrom('Audio', 'Video', 'X'), RoomId: fc.string({ maxLength: 12 }), RoomIdType: fc.integer({ min: 0, max: 3 }) }, { requiredKeys: [] }),
    NumberPerPage: fc.integer({ min: -1, max: 200 }),
    RoomId: fc.oneof(fc.constantFrom('room-1', ''), fc.string({ maxLength: 60 }), fc.integer()),
    RoomInfo: fc.record({ RoomId: fc.oneof(fc.constantFrom('room-1'), fc.string({ maxLength: 60 })), MaxSeatCount: fc.integer({ min: -1, max: 30 }), TakeSeatMode: fc.constantFrom('FreeToTake', 'ApplyToTake', 1, 2, 3) }, { requiredKeys: [] }),
    Metadata: fc.array(fc.record({ Key: fc.string({ maxLength: 60 }), Value: fc.string({ maxLength: 10 }) }), { maxLength: 3 }),
    MemberList_Account: fc.array(fc.oneof(fc.constantFrom('administrator'), fc.string({ maxLength: 8 })), { maxLength: 3 }),
    GiftId: fc.oneof(fc.constantFrom('gift1'), fc.string({ maxLength: 25 }), fc.integer()),
    Count: fc.oneof(fc.integer({ min: -2, max: 20_000 }), fc.string()),
    Index: fc.integer({ min: -1, max: 20 }),
    Page: fc.integer({ min: -1, max: 5 }),
  },
  { requiredKeys: [] },
).map((v) => JSON.stringify(v));
const body = fc.oneof(json, accountBody, fc.string({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)));

describe('REST v4 gateway fuzzing', () => {
  it('answers random methods, paths, query strings and bodies with a well-formed envelope', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        fc.array(segment, { minLength: 0, maxLength: 4 }),
        fc.dictionary(fc.constantFrom('sdkappid', 'identifier', 'usersig', 'random', 'contenttype', 'x'), queryValue),
        fc.boolean(),
        body,
        async (method, segs, query, authentic, payload) => {
          const q = new URLSearchParams(query);
          if (authentic) {
            q.set('sdkappid', String(t.app.sdkAppId));
            q.set('identifier', 'administrator');
            q.set('usersig', t.adminSig);
            q.set('random', '1');
            q.set('contenttype', 'json');
          }
          const path = `/${segs.join('/')}?${q.toString()}`;
          assertEnvelope(await send(method, path, payload), method);
        },
      ),
      { numRuns: 1000 },
    );
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200, 'server still up');
  });

  it('answers malformed HTTP with an envelope and stays up', async () => {
    const { port } = new URL(t.server.url);
    const net = await import('node:net');
    for (const raw of ['GARBAGE\r\n\r\n', 'POST /v4/a/b HTTP/1.1\r\nContent-Length: abc\r\n\r\n', 'POST / HTTP/9.9\r\n\r\n']) {
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(Number(port), '127.0.0.1', () => s.write(raw));
        let data = '';
        s.on('data', (d) => (data += d.toString()));
        s.on('close', () => resolve(data));
        s.on('error', () => resolve(data));
      });
      assert.match(reply, /^HTTP\/1\.1 400/);
      assert.match(reply, /"ErrorCode":60002/);
    }
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });
});
