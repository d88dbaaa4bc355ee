// Fuzzes the Chat SDK gateway (<proxyServer>/binfo): on fresh sockets, some logged in first, random frames (non-JSON,
// binary junk, JSON of any shape, every command the gateway knows — the SDK's own and the call engine's — with bodies of
// every shape). Every frame the server sends must decode ("COMP" + zlib or plain JSON) to {head:{servcmd, seq}, body}
// with a numeric ErrorCode where there is one, never the internal error; the socket must still answer a heartbeat
// after the junk, and the server stay healthy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { genUserSig } from '../../src/auth/usersig.ts';
import { CallEngineErrors, ChatErrors } from '../../src/gateways/chat/errors.ts';
import { CHAT_MAX_FRAME_BYTES } from '../../src/gateways/chat/frames.ts';
import { ChatWsClient } from '../helpers/chat-ws-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const SERVCMDS = [
  'im_open_status.wslogin', 'im_open_status.wslogout', 'im_open_status.wshello', 'heartbeat.alive', 'profile.portrait_get_all', 'sns.black_list_get',
  'recentcontact.page_get', 'group_open_http_svc.get_joined_group_list', 'openim.getmsg', 'openim.getroammsg', 'openim.msgreaded', 'im_sdk_config_mgr.fetch_config',
  'im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2', 'openim.sendmsg', 'group_open_http_svc.create_group', 'group_open_http_svc.send_group_msg',
  'group_open_http_svc.get_group_self_member_info', 'group_open_http_svc.get_group_member_info', 'group_open_http_svc.quit_group', 'group_open_http_svc.destroy_group',
  'call_engine_srv.start_call', 'call_engine_srv.handle_call', 'call_engine_srv.hangup', 'call_engine_srv.cancel_invite', 'call_engine_srv.heart_beat',
  'call_engine_srv.get_call_info', 'call_engine_srv.get_invitation', 'call_engine_srv.invite_user', 'call_engine_srv.join_in_call',
  'call_engine_srv.clean_previous_device_call', 'nope.nope', '',
];
const FIELDS = ['To_Account', 'From_Account', 'MsgBody', 'MsgRandom', 'MsgSeq', 'GroupId', 'Type', 'Name', 'MemberList', 'Cookie', 'UserItem', 'GroupIdList', 'Peer_Account', 'MaxCnt', 'CallId', 'ActionType', 'CalleeList_Account', 'CallInfo', 'Timeout', 'UserData', 'Head', 'Body', '__proto__', 'constructor'];
const huge = fc.string({ minLength: 1, maxLength: 3 }).map((s) => s.repeat(10_000));
const value = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, 0, -1, 1.5, 1e300, 2 ** 53, 4294967296, '', 'fz-b', 'fz-a', '@TGS#XXXX', '__proto__', [], {}, [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'x' } }], { CallMediaType: 1, RoomId: '1', RoomIdType: 1 }, ['fz-b']) },
  { weight: 1, arbitrary: huge },
);
const body = fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 });
const engineBody = fc.record({ Head: fc.oneof(value, fc.constant({ Version: 2 })), Body: fc.oneof(body, value) }, { requiredKeys: [] });
const head = fc.record({ a2: fc.oneof(value, fc.constant(undefined)), identifier: fc.oneof(value, fc.constant(undefined)), usersig: fc.oneof(value, fc.constant(undefined)), seq: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 0, max: 99_999_999 }) }, { weight: 1, arbitrary: value }) }, { requiredKeys: [] });
const frame = fc.oneof(
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => ({ raw: s })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ raw: Buffer.from(b) })) },
  { weight: 1, arbitrary: value.map((v) => ({ raw: JSON.stringify(v) ?? 'null' })) },
  { weight: 6, arbitrary: fc.record({ servcmd: fc.constantFrom(...SERVCMDS), head, body: fc.oneof(body, engineBody, value) }) },
);

describe('Chat gateway fuzz', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    for (const u of ['fz-a', 'fz-b']) await t.server.accounts.importOne(t.app.sdkAppId, { userId: u });
  });
  after(() => t.close());

  it(`${RUNS} runs of random frames on fresh sockets: only well-formed frames back, never an internal error, still answering`, async () => {
    const sig = genUserSig({ sdkAppId: t.app.sdkAppId, secretKey: t.app.secretKey, userId: 'fz-a', expire: 3600 });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { minLength: 1, maxLength: 12 }), async (login, frames) => {
        const c = await ChatWsClient.open(t.server.url, t.app.sdkAppId);
        try {
          if (login) assert.equal((await c.login('fz-a', sig)).ErrorCode, 0);
          let oversized = false;
          for (const f of frames) {
            const bytes = 'raw' in f ? Buffer.from(f.raw) : Buffer.from(JSON.stringify({ head: { ver: 'v4', servcmd: f.servcmd, a2: c.a2 || undefined, ...f.head }, body: f.body }));
            oversized ||= bytes.length > CHAT_MAX_FRAME_BYTES;
            c.sendRaw(bytes, !('raw' in f && typeof f.raw === 'string'));
          }
          // The probe: answered after everything before it (the gateway answers in order); a frame over the limit
          // closes the socket instead (1009).
          if (oversized) assert.equal(await c.waitClosed(), 1009);
          else assert.equal((await c.request('heartbeat.alive', {})).ErrorCode, 0);
          for (const r of c.frames) {
            assert.equal(typeof r.head.servcmd, 'string');
            assert.equal(typeof r.head.seq, 'number');
            assert.ok(r.body && typeof r.body === 'object', JSON.stringify(r));
            if ('ErrorCode' in r.body) {
              assert.equal(typeof r.body.ErrorCode, 'number', JSON.stringify(r.body));
              assert.ok(![ChatErrors.INTERNAL.code, CallEngineErrors.INTERNAL.code].includes(r.body.ErrorCode as number), `internal error: ${JSON.stringify(r)}`);
            }
          }
        } finally {
          c.close();
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });

  it('closes a socket that sends more than 100 frames a second (4429)', async () => {
    const c = await ChatWsClient.open(t.server.url, t.app.sdkAppId);
    for (let i = 0; i < 150; i++) c.sendRaw(Buffer.from(JSON.stringify({ head: { servcmd: 'heartbeat.alive', seq: i }, body: {} })));
    assert.equal(await c.waitClosed(), 4429);
  });
});
