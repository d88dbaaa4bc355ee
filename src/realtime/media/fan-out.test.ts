import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, type RTCDtlsTransport } from 'werift';
import { FanOut, type FanOutOwner } from './fan-out.ts';
import { MediaWorkers, type MemberOffsets } from './media-workers.ts';
import { nativeSrtp } from './native-srtp.ts';
import { RtpWriter, type RtpExtensions } from './rtp-writer.ts';
import { srtpTransport } from '../../../test/helpers/srtp-transport.ts';

// A publication's packets handed once to each media worker reach every member with the member's own header: its
// SSRC, payload type, MID and transport-wide sequence, the publisher's sequence number, timestamp and marker.

const sockets: Socket[] = [];

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  sockets.push(s);
  return s;
}
let tx: Socket;
before(async () => {
  tx = await udp();
});
after(() => sockets.forEach((s) => s.close()));

/** A transport shaped like werift's, sending to a socket of its own, and what that socket received. */
async function end(profile: number, twcc = 0) {
  const rx = await udp();
  const box: Buffer[] = [];
  rx.on('message', (m) => box.push(m));
  return { ...srtpTransport(profile, tx, rx.address().port, twcc), box };
}

/** Joins a writer on `e`'s transport to `fan`, with these header fields and extensions. */
function joinOf(fan: FanOut, pool: MediaWorkers, e: Awaited<ReturnType<typeof end>>, h: { payloadType: number; ssrc: number }, ext?: RtpExtensions, owner: FanOutOwner = nobody, offsets?: MemberOffsets) {
  const w = new RtpWriter(e.dtls as unknown as RTCDtlsTransport, null, pool);
  const route = w.laneRoute()!;
  const { header, twccAt } = w.template({ ...h, sequenceNumber: 0, timestamp: 0, marker: false }, ext);
  return { route, lane: route.lane, member: fan.join(route.lane, route.id, header, twccAt, owner, offsets)! };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

const nobody: FanOutOwner = { refresh: () => undefined };
const rtp = (seq: number, payload: Buffer, marker = false) => new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: seq * 3000, marker, payloadType: 100, ssrc: 1 }), payload);

describe('FanOut through media workers', { skip: !nativeSrtp() && 'the SRTP accelerator was not built (libsrtp2-dev missing)' }, () => {
  it('sends each packet to every member with its own header; members on two workers; a packet before a member joined is not its', async () => {
    const pool = new MediaWorkers(2, { warn: () => undefined });
    try {
      const ends = [await end(ProtectionProfileAeadAes128Gcm, 7), await end(ProtectionProfileAes128CmHmacSha1_80, 100), await end(ProtectionProfileAeadAes128Gcm)];
      const fan = new FanOut();
      const join = (i: number) => joinOf(fan, pool, ends[i]!, { payloadType: 96 + i, ssrc: 0x1000 + i }, i === 2 ? undefined : { midId: 1, mid: Buffer.from(String(i)), twccId: 3 });
      const a = join(0);
      const b = join(1);
      assert.notEqual(a.route.lane, b.route.lane, 'two workers');
      const payloads = [randomBytes(1000), randomBytes(40), randomBytes(1200)];
      fan.send(rtp(65535, payloads[0]!));
      join(2);
      fan.send(rtp(0, payloads[1]!));
      fan.send(rtp(1, payloads[2]!, true));
      await until(() => ends[0]!.box.length >= 3 && ends[1]!.box.length >= 3 && ends[2]!.box.length >= 2);
      for (const [i, e] of ends.entries()) {
        const packets = e.box.map(e.open);
        const seqs = i === 2 ? [0, 1] : [65535, 0, 1];
        assert.deepEqual(
          packets.map((p) => [p.header.sequenceNumber, p.header.timestamp, p.header.marker, p.header.payloadType, p.header.ssrc]),
          seqs.map((s) => [s, s * 3000, s === 1, 96 + i, 0x1000 + i]),
        );
        assert.deepEqual(
          packets.map((p) => p.payload),
          seqs.map((s) => payloads[s === 65535 ? 0 : s + 1]),
        );
        if (i < 2) {
          assert.deepEqual(packets[0]!.header.extensions.find((x) => x.id === 1)!.payload, Buffer.from(String(i)));
          const start = i === 0 ? 7 : 100;
          assert.deepEqual(
            packets.map((p) => p.header.extensions.find((x) => x.id === 3)!.payload.readUInt16BE(0)),
            [start + 1, start + 2, start + 3],
            'transport-wide sequence',
          );
        } else assert.equal(packets[0]!.header.extension, false);
      }
      assert.equal(a.route.lane.memberPackets(a.member), 3);
      assert.equal(a.route.lane.memberOctets(a.member), 2240);
      assert.equal(fan.size, 1, 'one owner object here, joined three times');
    } finally {
      await pool.stop();
    }
  });

  it('a member that leaves gets nothing more, not even what was handed over earlier in the same tick; the others still do', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const gone = await end(ProtectionProfileAeadAes128Gcm);
      const kept = await end(ProtectionProfileAeadAes128Gcm);
      const fan = new FanOut();
      const join = (e: Awaited<ReturnType<typeof end>>) => joinOf(fan, pool, e, { payloadType: 96, ssrc: 9 });
      const members = [join(gone), join(kept)];
      for (let i = 0; i < 5; i++) fan.send(rtp(i, Buffer.from(`p${i}`)));
      fan.leave(members[0]!.lane, members[0]!.member, nobody);
      fan.leave(members[0]!.lane, members[0]!.member, nobody);
      // The worker sends in order, so whatever `gone` would have got was sent before `kept`'s last packet.
      await until(() => kept.box.length >= 5);
      assert.equal(kept.box.length, 5);
      assert.equal(gone.box.length, 0);
      fan.leave(members[1]!.lane, members[1]!.member, nobody);
      fan.send(rtp(5, Buffer.from('p5')));
      const later = await end(ProtectionProfileAeadAes128Gcm);
      join(later);
      fan.send(rtp(6, Buffer.from('p6')));
      await until(() => later.box.length >= 1);
      assert.deepEqual(later.box.map((d) => later.open(d).payload.toString()), ['p6']);
      assert.equal(kept.box.length, 5, 'nothing after it left');
      fan.close();
      fan.close();
    } finally {
      await pool.stop();
    }
  });

  it('a worker that went idle wakes for the next packet (and stays alive while idle)', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const e = await end(ProtectionProfileAeadAes128Gcm);
      const fan = new FanOut();
      const { route } = joinOf(fan, pool, e, { payloadType: 96, ssrc: 9 });
      fan.send(rtp(1, Buffer.from('first')));
      await until(() => e.box.length >= 1);
      // Long enough for a worker with nothing to keep it alive to have ended.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(route.lane.alive, true);
      fan.send(rtp(2, Buffer.from('second')));
      await until(() => e.box.length >= 2);
      assert.deepEqual(e.box.map((d) => e.open(d).payload.toString()), ['first', 'second']);
    } finally {
      await pool.stop();
    }
  });

  it('a member that leaves when asked to refresh (its route changed) does not get the packet that asked', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const [moved, kept] = [await end(ProtectionProfileAeadAes128Gcm), await end(ProtectionProfileAeadAes128Gcm)];
      const fan = new FanOut();
      const leaver: FanOutOwner = { refresh: () => fan.leave(m.lane, m.member, leaver) };
      const m = joinOf(fan, pool, moved, { payloadType: 96, ssrc: 1 }, undefined, leaver);
      joinOf(fan, pool, kept, { payloadType: 96, ssrc: 2 });
      fan.send(rtp(1, Buffer.from('one')));
      // `moved` joined first, so the worker would have sent to it before `kept`.
      await until(() => kept.box.length >= 1);
      assert.equal(moved.box.length, 0);
    } finally {
      await pool.stop();
    }
  });

  it('renumbers a member that joined with offsets (a subscriber whose SSRC carried another stream before), across both wraps', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const [plain, shifted] = [await end(ProtectionProfileAeadAes128Gcm), await end(ProtectionProfileAeadAes128Gcm)];
      const fan = new FanOut();
      joinOf(fan, pool, plain, { payloadType: 96, ssrc: 1 });
      joinOf(fan, pool, shifted, { payloadType: 96, ssrc: 2 }, undefined, nobody, { seq: 0xfffe, timestamp: 0xffffff00 });
      fan.send(rtp(1, Buffer.from('a')));
      fan.send(rtp(2, Buffer.from('b'), true));
      await until(() => plain.box.length >= 2 && shifted.box.length >= 2);
      const fields = (e: typeof plain) => e.box.map(e.open).map((p) => [p.header.sequenceNumber, p.header.timestamp, p.header.marker]);
      assert.deepEqual(fields(plain), [[1, 3000, false], [2, 6000, true]]);
      assert.deepEqual(fields(shifted), [[0xffff, (3000 + 0xffffff00) >>> 0, false], [0, (6000 + 0xffffff00) >>> 0, true]]);
    } finally {
      await pool.stop();
    }
  });

  it('asks its members to refresh on its clock while packets flow', async () => {
    let refreshed = 0;
    const fan = new FanOut();
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const e = await end(ProtectionProfileAeadAes128Gcm);
      joinOf(fan, pool, e, { payloadType: 96, ssrc: 9 }, undefined, { refresh: (ts) => (refreshed = ts) });
      fan.send(rtp(3, Buffer.from('x')));
      assert.equal(refreshed, 9000, 'the first packet refreshes at once');
      fan.send(rtp(4, Buffer.from('x')));
      assert.equal(refreshed, 9000, 'not again within the clock');
    } finally {
      await pool.stop();
    }
  });
});
