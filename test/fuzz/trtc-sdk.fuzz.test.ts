// Fuzzes trtc-sdk-v5's signalling (/v2/ws): on fresh sockets, some joined first, random frames (non-JSON text, binary,
// JSON of any shape, every client command with data of every shape, join/v2 with random abilities, MPC offers). Every
// frame the server sends must be JSON the SDK can parse (an object with a numeric cmd and seq and an object data),
// none an internal error; the server must answer a request after the junk, stay healthy, and a bystander in the room
// and a normal join must keep working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { REPLY_OF, SdkErrors } from '../../src/gateways/trtc-sdk/protocol.ts';
import { sdkClient, type SdkFrame, type SdkWsClient } from '../helpers/sdk-ws-client.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const ROOM = '9900';
/** The seq of the request that checks the server still answers (no fuzzed frame uses it). */
const PROBE_SEQ = 987_654_321;

const COMMANDS = [...Object.keys(REPLY_OF), 'leave', 'quality_report', 'channel_msg', 'abstract_cmd', 'ready_to_receive', 'receive_data_userlist', 'nope', ''];
const FIELDS = [
  'roomId', 'useStringRoomId', 'trtcRole', 'trtcScene', 'userSig', 'privateMapKey', 'version', 'ability', 'role', 'cmdId', 'msg', 'ordered', 'reliable', 'streamSeq',
  'srcTinyId', 'srcUserId', 'audio', 'bigVideo', 'auxVideo', 'smallVideo', 'customData', 'ssrc', 'state', 'muteState', 'audioSsrc', 'bigVideoSsrc', 'smallVideoSsrc',
  'auxVideoSsrc', 'type', 'sdp', 'action', 'trackId', 'kind', 'constraintConfig', 'clientSendTime', 'videoCodec', 'latencyLevel', '__proto__', 'constructor',
];
const SDPS = [
  'v=0\r\n',
  'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\na=ssrc:1 cname:x\r\n',
  'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\na=ssrc-group:FID 1 2\r\n',
  'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n',
  'm=audio\r\na=fingerprint:sha-256 zz\r\n',
];
const CODEC = { codec: 'opus', fmtp: 'minptime=10;useinbandfec=1', payload: 111, rate: 48000, channels: 2, rtcpfb: [{ id: 'transport-cc', params: [] }], rtx: 0 };
const VP8 = { payload: 96, codec: 'VP8', fmtp: '', rate: 90000, rtx: 97, rtcpfb: [{ id: 'nack', params: ['pli'] }] };
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

const huge = fc.string({ minLength: 1, maxLength: 4 }).map((s) => s.repeat(20_000));
const value = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e300, -1e300, 2 ** 53, 4294967295, 4294967296, '', '0', 'abc', ROOM, Number(ROOM), '__proto__', 'bystander', 'aGVsbG8=', '=====', 20, 21, 1, 10, 11, 'offer', 'answer', [], {}),
  },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constantFrom(...SDPS) },
  { weight: 1, arbitrary: fc.record({ audio: fc.boolean(), bigVideo: fc.boolean(), smallVideo: fc.boolean(), auxVideo: fc.boolean() }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('audioSsrc', 'bigVideoSsrc', 'bigVideoRtxSsrc', 'auxVideoSsrc', 'auxVideoRtxSsrc'), fc.oneof(fc.integer(), fc.double(), fc.string())) },
);
/** Text that is not always an identifier: CRLF and spaces end up in SDP lines. */
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('abcd', 'a\r\nm=audio 9', ' ', '', 'x'.repeat(300), FINGERPRINT));
const junkOr = <T>(good: T): fc.Arbitrary<unknown> => fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 1, arbitrary: value });
const codec = fc.oneof(
  fc.constant<unknown>(CODEC),
  fc.constant<unknown>(VP8),
  fc.record({ codec: fc.oneof(text, fc.constantFrom('opus', 'VP8', 'vp8', 'H264', 'H265')), payload: fc.oneof(fc.integer({ min: -5, max: 300 }), value), rate: junkOr(90000), fmtp: junkOr(''), rtx: fc.oneof(fc.integer({ min: -1, max: 300 }), value), rtcpfb: junkOr([]), channels: junkOr(2) }, { requiredKeys: [] }),
  value,
);
const codecs = fc.oneof({ weight: 3, arbitrary: fc.array(codec, { maxLength: 4 }) }, { weight: 1, arbitrary: value });
/** A well-formed client ability (spec: the SDK's join/v2), the base of the mutated ones. */
const ABILITY = {
  ice: { ufrag: 'abcd', password: 'abcdefghijklmnopqrstuvwx' },
  dtls: { hash: 'sha-256', fingerprint: FINGERPRINT, setup: 'actpass' },
  audio: { codecs: [CODEC], extensions: [{ id: 3, uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01' }] },
  video: { codecs: [VP8, { ...VP8, payload: 102, codec: 'H264', rtx: 103 }], decoders: [VP8], extensions: [{ id: 4, uri: 'urn:ietf:params:rtp-hdrext:sdes:mid' }] },
  useDataChannel: false,
  useDtx: false,
};
const ABILITY_PATHS = [
  ['ice'], ['ice', 'ufrag'], ['ice', 'password'], ['dtls'], ['dtls', 'hash'], ['dtls', 'fingerprint'], ['dtls', 'setup'], ['audio'], ['audio', 'codecs'],
  ['audio', 'codecs', '0'], ['audio', 'codecs', '0', 'payload'], ['audio', 'codecs', '0', 'codec'], ['audio', 'codecs', '0', 'fmtp'], ['audio', 'extensions'],
  ['video'], ['video', 'codecs'], ['video', 'codecs', '0'], ['video', 'codecs', '0', 'payload'], ['video', 'codecs', '0', 'rtx'], ['video', 'codecs', '0', 'codec'],
  ['video', 'codecs', '0', 'rtcpfb'], ['video', 'decoders'], ['video', 'decoders', '0', 'payload'], ['video', 'extensions'],
];
/** A copy of `base` with the value at `path` replaced. */
function setPath(base: unknown, path: string[], v: unknown): unknown {
  if (path.length === 0) return v;
  const copy = (Array.isArray(base) ? [...base] : { ...(base as object) }) as Record<string, unknown>;
  copy[path[0]!] = setPath(copy[path[0]!], path.slice(1), v);
  return copy;
}
/** A join/v2 ability: well formed, with one to three parts replaced by junk, or junk altogether. */
const ability = fc.oneof(
  { weight: 1, arbitrary: fc.constant<unknown>(ABILITY) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(fc.constantFrom(...ABILITY_PATHS), fc.oneof(value, text, codec, codecs)), { minLength: 1, maxLength: 3 })
      .map((muts) => muts.reduce<unknown>((a, [path, v]) => setPath(a, path, v), ABILITY)),
  },
  { weight: 1, arbitrary: value },
);
/** A Chrome-like MPC publish offer (audio, big, small and aux video with RTX). */
const OFFER = [
  'v=0', 'o=- 4611731400430051336 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS s1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${FINGERPRINT}`,
  'a=setup:actpass', 'a=mid:0', 'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level', 'a=sendonly', 'a=msid:s1 a1', 'a=rtcp-mux', 'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1', 'a=ssrc:1111 cname:c', 'a=ssrc:1111 msid:s1 a1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', `a=fingerprint:sha-256 ${FINGERPRINT}`,
  'a=setup:actpass', 'a=mid:1', 'a=extmap:3', 'a=sendonly', 'a=msid:s1 v1', 'a=rtcp-mux', 'a=rtcp-rsize', 'a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack', 'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=ssrc-group:FID 2222 3333', 'a=ssrc:2222 cname:c', 'a=ssrc:3333 cname:c',
];
/** The offer with lines dropped, duplicated or replaced by junk. */
const offer = fc.oneof(
  { weight: 1, arbitrary: fc.constant(`${OFFER.join('\r\n')}\r\n`) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.tuple(fc.nat(OFFER.length - 1), fc.oneof(fc.constant(''), text, fc.constantFrom('m=audio 9 UDP/TLS/RTP/SAVPF 0', 'a=ssrc:x', 'a=rtpmap:96', 'a=extmap:1/sendonly', 'a=group:BUNDLE 0 1 2 3 4'))), { minLength: 1, maxLength: 4 })
      .map((muts) => {
        const lines = [...OFFER];
        for (const [i, v] of muts) lines[i] = v;
        return `${lines.join('\r\n')}\r\n`;
      }),
  },
  { weight: 1, arbitrary: fc.constantFrom(...SDPS) },
);
const data = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 6 }) },
  { weight: 1, arbitrary: value },
);
const seq = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constantFrom<unknown>(0, -1, -(2 ** 31), 1.5, 2 ** 53, 1e300, '7', null, [], {}));

/** One client frame, as the text (or bytes) put on the wire. */
const frameArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ cmd: fc.constantFrom(...COMMANDS), data, userId: junkOr('fz'), tinyId: junkOr(undefined), seq }).map((f) => JSON.stringify(f)) },
  {
    weight: 3,
    arbitrary: fc
      .record({ cmd: fc.constantFrom('join/v2', 'join', 'rebuild_pc'), roomId: junkOr(ROOM), useStringRoomId: junkOr(false), trtcRole: junkOr(20), ability, seq })
      .map(({ cmd, seq: s, ...d }) => JSON.stringify({ cmd, data: { ...d, userSig: '' }, userId: 'fz', seq: s })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ cmd: fc.constantFrom('publish', 'publish_change', 'subscribe'), type: junkOr('offer'), sdp: offer, state: junkOr({ audio: true, bigVideo: true }), srcUserId: junkOr('bystander'), audio: junkOr(true), bigVideo: fc.boolean(), seq })
      .map(({ cmd, seq: s, ...d }) => JSON.stringify({ cmd, data: d, userId: 'fz', seq: s })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('{', '{"cmd":"join"', '{"cmd":"get_user_list","seq":NaN}', '{"cmd":"get_user_list","data":{},"seq":-Infinity}', '\u0000', '\ud800')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: huge.map((h) => JSON.stringify({ cmd: 'channel_msg', data: { cmdId: 1, msg: h, ordered: true, reliable: true, streamSeq: 1 }, seq: 1 })) },
);

/** Problems with a frame the server sent, as the SDK would meet them. */
function frameFaults(f: SdkFrame): string[] {
  const out: string[] = [];
  if (!Number.isFinite(f.seq)) out.push('seq not a number');
  if (typeof f.code !== 'number') out.push('code not a number');
  if (f.data === null || typeof f.data !== 'object' || Array.isArray(f.data)) out.push('data not an object');
  if (f.code === SdkErrors.INTERNAL.code) out.push('internal error');
  return out;
}

describe('trtc-sdk-v5 signalling fuzz', () => {
  let t: TestServer;
  let bystander: SdkWsClient;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown): void => void crashes.push(err);

  before(async () => {
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
    t = await startTestServer();
    bystander = sdkClient(t.server.url, t.app, 'bystander');
    assert.equal((await bystander.join(ROOM)).code, 0);
  });
  after(async () => {
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
    bystander.ws.terminate();
    await t.close();
  });

  it('answers junk with parseable frames only, never an internal error, and keeps answering', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frameArb, { minLength: 1, maxLength: 10 }), async (joinFirst, frames) => {
        // A few user ids, so that a socket sometimes takes over the previous one of the same user.
        const c = sdkClient(t.server.url, t.app, `fz${n++ % 4}`);
        try {
          const setup = await c.next((m) => m.cmd === 19);
          assert.equal(setup.seq, 0);
          if (joinFirst) assert.equal((await c.join(ROOM)).code, 0);
          for (const f of frames) c.ws.send(f, { binary: typeof f !== 'string' });
          // The server handles frames in order: once the probe is answered, every fuzzed frame has been handled.
          c.ws.send(JSON.stringify({ cmd: 'get_user_list', data: {}, userId: c.userId, seq: PROBE_SEQ }));
          const probe = await Promise.race([c.next((m) => m.cmd === 4137 && m.seq === PROBE_SEQ, 10_000), c.closed]);
          if (typeof probe === 'number') {
            // Only a frame over the size limit closes the socket (1009).
            assert.equal(probe, 1009, `closed with ${probe} after ${frames.map((f) => String(f).slice(0, 200)).join(' | ')}`);
          }
          assert.deepEqual(c.bad, [], 'frames the SDK cannot parse');
          for (const f of c.all) assert.deepEqual(frameFaults(f), [], `${JSON.stringify(f).slice(0, 300)} after ${frames.map((x) => String(x).slice(0, 200)).join(' | ')}`);
        } finally {
          c.ws.terminate();
        }
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: Number(process.env.FUZZ_TIME_MS ?? 25_000), seed: SEED },
    );
    assert.deepEqual(crashes, []);
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
    // The fuzzed sockets are gone: none of them is left in the room, connected or publishing.
    const metric = async (name: string): Promise<number> => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${t.server.url}/metrics`)).text())?.[1]);
    const deadline = Date.now() + 5000;
    while ((await metric('trtcd_sdk_connections')) !== 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await metric('trtcd_sdk_connections'), 1);
    assert.equal(await metric('trtcd_media_publications'), 0);
    assert.equal(await metric('trtcd_media_subscriptions'), 0);
    assert.deepEqual(t.server.trtcRooms.members(t.app.sdkAppId, { roomId: Number(ROOM) }).map((m) => m.userId), ['bystander']);
    assert.deepEqual(bystander.bad, []);
    for (const f of bystander.all) assert.deepEqual(frameFaults(f), [], JSON.stringify(f).slice(0, 300));
    assert.equal(bystander.ws.readyState, bystander.ws.OPEN);
    assert.equal((await bystander.request('get_user_list', 4137)).code, 0);

    const after = sdkClient(t.server.url, t.app, 'after-fuzz');
    try {
      const r = await after.join(ROOM);
      assert.equal(r.code, 0);
      assert.match(String(r.tinyId), /^\d+$/);
      assert.equal((await bystander.push(4134, (m) => m.data.userId === 'after-fuzz')).data.srcTinyId, r.tinyId);
      await after.send('channel_msg', { cmdId: 1, msg: Buffer.from('still fine').toString('base64'), ordered: true, reliable: true, streamSeq: 1 });
      assert.equal((await bystander.push(4140, (m) => m.data.srcTinyId === r.tinyId)).data.msg, Buffer.from('still fine').toString('base64'));
    } finally {
      await after.close();
    }
  });
});
