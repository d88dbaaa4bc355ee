import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GenericNack, RtcpTransportLayerFeedback} from 'werift';
import { RtpHeader, RtpPacket } from 'werift';
import { NACK_HISTORY, SdkSink, SsrcWriter, UplinkRepair } from './sdk-media.ts';

type Sent = { payloadType: number; ssrc: number; sequenceNumber: number; timestamp: number; marker: boolean; payload: Buffer };

function fakeTransport(): { sent: Sent[]; sendRtp(h: Omit<Sent, 'payload'>, payload: Buffer): void } {
  const sent: Sent[] = [];
  return { sent, sendRtp: (h, payload) => sent.push({ ...h, payload }) };
}

function rtp(seq: number, ts: number, payload = Buffer.from([seq & 0xff])): RtpPacket {
  return new RtpPacket(new RtpHeader({ payloadType: 120, ssrc: 42, sequenceNumber: seq, timestamp: ts, marker: true }), payload);
}

describe('SsrcWriter', () => {
  it('writes on its SSRC and payload type, keeping the publisher’s numbering', () => {
    const t = fakeTransport();
    const w = new SsrcWriter(t, 1111, 96, { ssrc: 2222, payloadType: 97 });
    const src = {};
    w.write(src, rtp(500, 9000));
    w.write(src, rtp(501, 12000));
    assert.deepEqual(t.sent.map((p) => [p.ssrc, p.payloadType, p.sequenceNumber, p.timestamp]), [[1111, 96, 500, 9000], [1111, 96, 501, 12000]]);
  });

  it('keeps sequence numbers and timestamps continuous when the source behind the SSRC changes (big ⇄ small)', () => {
    const t = fakeTransport();
    const w = new SsrcWriter(t, 1111, 96);
    const big = {};
    const small = {};
    w.write(big, rtp(65535, 0xfffff000));
    w.write(small, rtp(10, 5));
    w.write(small, rtp(11, 3005));
    w.write(big, rtp(3, 7));
    assert.deepEqual(t.sent.map((p) => p.sequenceNumber), [65535, 0, 1, 2]);
    assert.deepEqual(t.sent.map((p) => p.timestamp), [0xfffff000, (0xfffff000 + 3000) >>> 0, (0xfffff000 + 6000) >>> 0, (0xfffff000 + 9000) >>> 0]);
  });

  it('with a preferred source, switches to it at its next keyframe, sending the old source until then and no other', () => {
    const t = fakeTransport();
    const w = new SsrcWriter(t, 1111, 96);
    const big = {};
    const small = {};
    const other = {};
    // VP8 payloads: descriptor 0x10 (start of partition 0), then the frame tag (bit 0 clear on a keyframe).
    const key = Buffer.from([0x10, 0x00, 0xaa]);
    const delta = Buffer.from([0x10, 0x01, 0xbb]);
    const middle = Buffer.from([0x00, 0x00, 0xcc]);
    w.prefer(big);
    w.write(big, rtp(100, 1000, delta));
    w.write(other, rtp(7, 7, key));
    w.prefer(small);
    w.write(small, rtp(50, 500, delta));
    w.write(small, rtp(51, 500, middle));
    w.write(big, rtp(101, 4000, delta));
    w.write(small, rtp(52, 3500, key));
    w.write(big, rtp(102, 7000, key));
    w.write(small, rtp(53, 3500, middle));
    assert.deepEqual(t.sent.map((p) => [p.sequenceNumber, p.payload[2]]), [[100, 0xbb], [101, 0xbb], [102, 0xaa], [103, 0xcc]], 'big until the small keyframe, then small only');
    assert.deepEqual(t.sent.map((p) => p.timestamp), [1000, 4000, 7000, 7000]);
    let offered = 0;
    w.onOffered = () => offered++;
    w.write(big, rtp(103, 10000, delta));
    assert.equal(offered, 1, 'every packet is offered, the dropped ones too');
  });

  it('numbers what a media worker forwards from the ingress as the worker did, though it learns of joins and leaves late', () => {
    // A fake lane and worker: the worker reads each packet LAG packets before the main thread handles it, knowing the
    // messages posted by then, and sends a big-stream packet to every member whose join it handled and leave it did not.
    const LAG = 3;
    const lane = { posted: 0, memberPackets: () => 0, memberOctets: () => 0 };
    const members: Array<{ member: object; joinedAt: number; leftAt: number; seq: number; ts: number }> = [];
    const out: Array<[number, number]> = [];
    const fanOut = {
      leave: (_l: unknown, member: object) => {
        lane.posted++;
        members.find((x) => x.member === member)!.leftAt = lane.posted;
      },
    };
    const t = {
      sendRtp: (h: { sequenceNumber: number }, payload: Buffer) => out.push([h.sequenceNumber, payload[2]!]),
      joinFanOut: (_f: unknown, _h: unknown, offsets: { seq: number; timestamp: number }) => {
        lane.posted++;
        const member = { slot: members.length, gen: 1, joinedAt: lane.posted };
        members.push({ member, joinedAt: lane.posted, leftAt: Infinity, seq: offsets.seq, ts: offsets.timestamp });
        return { fanOut, route: { lane }, member, writer: { account: () => undefined }, overhead: 0, packets: 0, octets: 0 };
      },
      holds: () => true,
    };
    const w = new SsrcWriter(t as never, 1111, 96);
    const big = {};
    const small = {};
    w.useFanOut(big, fanOut as never);
    const vp8 = (id: number, key: boolean) => Buffer.from([0x10, key ? 0x00 : 0x01, id]);
    // The uplink, in arrival order: [source, seq, keyframe start]; ids are the packets' indexes.
    const uplink: Array<[object, number, boolean]> = [];
    let bigSeq = 1000;
    let smallSeq = 50;
    for (let i = 0; i < 60; i++) {
      uplink.push([big, bigSeq++, i % 20 === 0]);
      uplink.push([small, smallSeq++, i % 20 === 3 || i % 20 === 4]);
    }
    const postedAfter: number[] = [];
    const read: Array<{ handled: number }> = [];
    const prefs = new Map<number, object>([[0, big], [30, small], [80, big]]);
    for (let i = 0; i < uplink.length + LAG; i++) {
      if (i < uplink.length) {
        // The worker reads packet i now.
        const handled = i - LAG - 1 >= 0 ? postedAfter[i - LAG - 1]! : 0;
        read[i] = { handled };
        const [src, seq] = uplink[i]!;
        if (src === big) for (const m of members) if (m.joinedAt <= handled && handled < m.leftAt) out.push([(seq + m.seq) & 0xffff, i]);
      }
      const j = i - LAG;
      if (j >= 0) {
        const pref = prefs.get(j);
        if (pref) w.prefer(pref);
        const [src, seq, key] = uplink[j]!;
        w.write(src, rtp(seq, seq * 3000, vp8(j, key)), { lane: lane as never, handled: read[j]!.handled, fanned: src === big });
      }
      postedAfter[Math.max(j, 0)] = lane.posted;
    }
    out.sort((a, b) => a[0] - b[0]);
    const seqs = out.map((p) => p[0]);
    assert.equal(new Set(seqs).size, seqs.length, 'no sequence number is sent twice');
    assert.equal(seqs.at(-1)! - seqs[0]!, seqs.length - 1, 'and none is skipped');
    // Big from its first keyframe, small from its first keyframe the switch could take, big again from its keyframe.
    const ids = out.map((p) => p[1]);
    const sourceOf = (id: number) => (uplink[id]![0] === big ? 'big' : 'small');
    const runs: string[] = [];
    for (const id of ids) if (runs.at(-1) !== sourceOf(id)) runs.push(sourceOf(id));
    assert.deepEqual(runs, ['big', 'small', 'big']);
    assert.ok(members.length >= 2, 'the big stream was joined twice');
  });

  it('answers a NACK with RTX packets (original sequence number first) for the packets it still has', () => {
    const t = fakeTransport();
    const w = new SsrcWriter(t, 1111, 96, { ssrc: 2222, payloadType: 97 });
    const src = {};
    for (let s = 100; s < 105; s++) w.write(src, rtp(s, s * 10, Buffer.from([s])));
    t.sent.length = 0;
    w.resend([101, 103, 999]);
    assert.equal(t.sent.length, 2);
    assert.deepEqual(t.sent.map((p) => [p.ssrc, p.payloadType, p.timestamp, p.payload.readUInt16BE(0), p.payload[2]]), [[2222, 97, 1010, 101, 101], [2222, 97, 1030, 103, 103]]);
    assert.equal((t.sent[1]!.sequenceNumber - t.sent[0]!.sequenceNumber) & 0xffff, 1, 'RTX has its own numbering');
    // A packet pushed out of the history is not sent again.
    for (let s = 105; s < 105 + NACK_HISTORY; s++) w.write(src, rtp(s, s));
    t.sent.length = 0;
    w.resend([101]);
    assert.equal(t.sent.length, 0);
  });

  it('without an RTX stream, resends on the media SSRC; audio keeps no history', () => {
    const t = fakeTransport();
    const noRtx = new SsrcWriter(t, 1111, 96, { ssrc: 0, payloadType: 97 });
    noRtx.write({}, rtp(7, 70));
    t.sent.length = 0;
    noRtx.resend([7]);
    assert.deepEqual(t.sent.map((p) => [p.ssrc, p.sequenceNumber]), [[1111, 7]]);
    const audio = new SsrcWriter(t, 3333, 111);
    audio.write({}, rtp(8, 80));
    t.sent.length = 0;
    audio.resend([8]);
    assert.equal(t.sent.length, 0);
  });
});

describe('SdkSink', () => {
  it('sends only the kinds it wants, through their writers, and nothing once closed', () => {
    const t = fakeTransport();
    const sink = new SdkSink({ audio: new SsrcWriter(t, 1, 111), video: new SsrcWriter(t, 2, 96) }, { audio: true, video: false });
    sink.send('audio', rtp(1, 1));
    sink.send('video', rtp(2, 2));
    sink.want({ audio: false, video: true });
    sink.send('audio', rtp(3, 3));
    sink.send('video', rtp(4, 4));
    sink.close();
    sink.send('video', rtp(5, 5));
    assert.deepEqual(t.sent.map((p) => [p.ssrc, p.sequenceNumber]), [[1, 1], [2, 4]]);
  });
});

describe('UplinkRepair', () => {
  it('asks for the packets a gap skipped, ignores reordering and restarts, and turns RTX back into the original packet', () => {
    const r = new UplinkRepair(1111, 2222, 96);
    assert.deepEqual(r.arrived(65534), []);
    assert.deepEqual(r.arrived(65535), []);
    assert.deepEqual(r.arrived(2), [0, 1], 'across the wrap');
    assert.deepEqual(r.arrived(1), [], 'a late packet is not a gap');
    assert.deepEqual(r.arrived(3000), [], 'a jump is a restart, not loss');
    assert.deepEqual(r.arrived(3001), []);
    const payload = Buffer.from([0x00, 0x05, 0xaa, 0xbb]);
    const rtx = new RtpPacket(new RtpHeader({ payloadType: 97, ssrc: 2222, sequenceNumber: 9, timestamp: 77, marker: true }), payload);
    const original = r.unwrap(rtx)!;
    assert.deepEqual([original.header.ssrc, original.header.payloadType, original.header.sequenceNumber, original.header.timestamp, [...original.payload]], [1111, 96, 5, 77, [0xaa, 0xbb]]);
    // The browser's bandwidth probes are RTX copies of packets that arrived: those are not the original again.
    assert.equal(r.unwrap(rtx), undefined, 'a second copy');
    assert.equal(r.unwrap(new RtpPacket(new RtpHeader({ payloadType: 97, ssrc: 2222, sequenceNumber: 10 }), Buffer.from([0x0b, 0xb9, 0xcc]))), undefined, 'a copy of 3001, which arrived');
    assert.equal(r.unwrap(new RtpPacket(new RtpHeader({ ssrc: 2222 }), Buffer.from([0, 1]))), undefined, 'RTX with no payload');
    const nack = r.nack([5, 6]) as RtcpTransportLayerFeedback;
    assert.deepEqual([(nack.feedback as GenericNack).mediaSourceSsrc, (nack.feedback as GenericNack).lost], [1111, [5, 6]]);
  });
});
