// Fuzzes the /rtc protocol: random requests of every type, with fields of every shape, on an authenticated
// connection. Each must get a reply that is ok or carries a documented code (never 50000 INTERNAL), the server must
// keep answering, and a bystander in the same rooms must keep working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { RtcErrors } from '../../src/realtime/protocol.ts';
import { rtcLogin, type RtcTestClient } from '../helpers/rtc-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const TYPES = [
  'room.enter', 'room.leave', 'room.message', 'auth', 'auth.renew',
  'call.start', 'call.accept', 'call.reject', 'call.hangup', 'call.cancel', 'call.join', 'call.invite', 'call.get',
  'live.enter', 'live.leave', 'live.text', 'live.custom', 'live.gift', 'live.takeSeat', 'live.leaveSeat',
  'media.publish', 'media.unpublish', 'media.subscribe', 'media.unsubscribe', 'media.mute', 'nope',
];
const FIELDS = ['roomId', 'strRoomId', 'role', 'privateMapKey', 'data', 'to', 'userSig', 'callees', 'mediaType', 'callId', 'target', 'targets', 'ringTimeoutMs', 'userData', 'chatGroupId', 'text', 'extensionInfo', 'businessId', 'giftId', 'count', 'receivers', 'index', 'sdp', 'stream', 'userId', 'subscriptionId', 'audio', 'video'];
/** SDP-shaped strings: the media requests' parser and werift must refuse them without a crash. */
const SDPS = ['v=0\r\n', 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n', 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n', 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n'];
const value = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: fc.constantFrom(null, true, 0, -1, 1.5, 1e300, 2 ** 53, 4294967295, '', '__proto__', 'live-fz', 'fz-bystander', 'Audio', 'Video', 'rose', ['fz-bystander'], [], 777) },
  { weight: 1, arbitrary: fc.string({ maxLength: 3 }).map((s) => s.repeat(500)) },
  { weight: 1, arbitrary: fc.constantFrom(...SDPS, 'main', 'sub', 's1') },
);
const request = fc.record({ type: fc.constantFrom(...TYPES), fields: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 5 }) });
// The protocol's catalogue, and send_gift's codes that live.gift passes on.
const DOCUMENTED = new Set<number>([...Object.values(RtcErrors).map((e) => e.code).filter((c) => c !== RtcErrors.INTERNAL.code), 102001, 102002, 102004, 102008]);

describe('/rtc fuzz', () => {
  let t: TestServer;
  let fuzzer: RtcTestClient;
  let bystander: RtcTestClient;

  before(async () => {
    t = await startTestServer();
    await t.server.apps.update(t.app.sdkAppId, { rateLimits: 'off' });
    await t.server.accounts.importOne(t.app.sdkAppId, { userId: 'fz-bystander' });
    await t.server.live.create(t.app.sdkAppId, 'live-fz', 'fz-bystander', {});
    await t.server.gifts.addGift(t.app.sdkAppId, { giftId: 'rose', coins: 1, defaultName: 'Rose' });
    fuzzer = (await rtcLogin(t.server.url, t.app, 'fz-fuzzer')).client;
    bystander = (await rtcLogin(t.server.url, t.app, 'fz-bystander')).client;
    assert.equal((await bystander.request('room.enter', { roomId: 777 })).ok, true);
    assert.equal((await bystander.request('live.enter', { roomId: 'live-fz' })).ok, true);
  });
  after(async () => {
    fuzzer.ws.terminate();
    bystander.ws.terminate();
    await t.close();
  });

  it('answers every request with ok or a documented code, and the bystander keeps working', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(request, async ({ type, fields }) => {
        // Stay under the flood limit (100 frames per 1 s window); floods have their own test.
        if (++n % 90 === 0) await new Promise((r) => setTimeout(r, 1000));
        const reply = await fuzzer.request(type, fields);
        if (reply.ok === true) return;
        assert.ok(DOCUMENTED.has(reply.code as number), `${type} ${JSON.stringify(fields).slice(0, 300)} → ${JSON.stringify(reply)}`);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 15_000 },
    );
    assert.equal((await bystander.request('room.message', { roomId: 777, data: 'still fine' })).ok, true);
    assert.equal((await bystander.request('live.text', { roomId: 'live-fz', text: 'still fine' })).ok, true);
  });
});
