import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, SrtpSession, type RTCDtlsTransport } from 'werift';
import { srtpTransport } from '../../../test/helpers/srtp-transport.ts';
import { FanOut, type FanOutOwner } from './fan-out.ts';
import { IngressKind, MediaWorkers, workerSent, type IngressDatagram, type SendLane } from './media-workers.ts';
import { nativeSrtp } from './native-srtp.ts';
import { RtpWriter } from './rtp-writer.ts';

// The media worker's half of a publisher's ingress (send-worker.mjs), driven through its lane: what the worker reads
// off a publisher's socket, sends on to the fan-out's members itself, and hands to the main thread.

const sockets: Socket[] = [];
after(() => sockets.forEach((s) => s.close()));

async function udp(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  sockets.push(s);
  return s;
}

/** A descriptor of the socket for the worker; this thread stops reading the socket (as PublisherIngress does). */
function takeOver(s: Socket): number {
  const state = Object.getOwnPropertySymbols(s).find((k) => k.description === 'state symbol')!;
  const handle = (s as unknown as Record<symbol, { handle: { fd: number; recvStop(): number } }>)[state]!.handle;
  handle.recvStop();
  return nativeSrtp()!.dup(handle.fd);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
}

const nobody: FanOutOwner = { refresh: () => undefined };

describe('a publisher ingress on a media worker', { skip: !nativeSrtp() && 'the SRTP accelerator was not built (libsrtp2-dev missing)' }, () => {
  for (const [name, profile, saltLength] of [
    ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm, 12],
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, 14],
  ] as const) {
    it(`${name}: media from the pair's peer goes to the members from the worker, then to the main thread decrypted; the rest goes as it came; a closed gate forwards nothing`, async () => {
      const pool = new MediaWorkers(1, { warn: () => undefined });
      try {
        // The publisher's side: its SRTP session, and the server socket it sends to.
        const key = randomBytes(16);
        const salt = randomBytes(saltLength);
        const publisher = new SrtpSession({ profile, keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(saltLength) } });
        const server = await udp();
        const peer = await udp();
        const stranger = await udp();
        // A subscriber: a member of the video fan-out on the same (only) worker.
        const rx = await udp();
        const got: Buffer[] = [];
        rx.on('message', (m) => got.push(m));
        const sub = srtpTransport(ProtectionProfileAeadAes128Gcm, await udp(), rx.address().port);
        const writer = new RtpWriter(sub.dtls as unknown as RTCDtlsTransport, null, pool);
        const route = writer.laneRoute()!;
        const lane: SendLane = route.lane;
        const { header, twccAt } = writer.template({ payloadType: 45, ssrc: 0xabc, sequenceNumber: 0, timestamp: 0, marker: false }, undefined);
        const fan = new FanOut();
        const member = fan.join(lane, route.id, header, twccAt, nobody);
        assert.ok(member);

        const batches: IngressDatagram[][] = [];
        const handled: number[] = [];
        let lost = 0;
        const id = lane.watch(
          {
            fds: [takeOver(server)],
            peers: [['127.0.0.1', peer.address().port, 4]],
            keys: { aead: profile === ProtectionProfileAeadAes128Gcm, masterKeyAndSalt: Buffer.concat([key, salt]) },
            payloadTypes: [[100, 1]],
          },
          {
            receive: (_socket, packets, h) => {
              batches.push(packets);
              handled.push(h);
            },
            lost: () => lost++,
          },
        );
        fan.useFeed({ lane, group: (g) => lane.feed(id, 1, g), gate: (open) => lane.gate(id, 1, open) });
        const received = () => batches.flat();
        const send = (from: Socket, data: Buffer) => from.send(data, server.address().port, '127.0.0.1');
        const media = (seq: number, pt = 100) => publisher.encrypt(randomBytes(300), new RtpHeader({ payloadType: pt, ssrc: 7, sequenceNumber: seq, timestamp: seq * 90, marker: seq % 2 === 1 }));

        const first = media(1);
        send(peer, first);
        await until(() => got.length === 1 && received().length === 1);
        const out = sub.open(got[0]!);
        assert.deepEqual([out.header.payloadType, out.header.ssrc, out.header.sequenceNumber, out.header.timestamp, out.header.marker], [45, 0xabc, 1, 90, true]);
        const clear = received()[0]!;
        assert.equal(clear.kind, IngressKind.FANNED);
        const back = RtpPacket.deSerialize(Buffer.from(clear.data));
        assert.deepEqual(back.payload, out.payload, 'the main thread gets the packet decrypted');
        assert.equal(lane.ingressFanned(), 1);
        // The batch says how many messages the worker had read: the member's join among them, so the main thread knows
        // the worker sent it this packet; a member that joins now was not.
        assert.equal(handled[0], lane.posted);
        const mark = { lane, handled: handled[0]!, fanned: true };
        assert.equal(workerSent(lane, member, undefined, mark), true);
        assert.equal(workerSent(lane, member, lane.posted + 1, mark), true, 'nor does a leave posted later change that');
        const late = fan.join(lane, route.id, header, twccAt, nobody)!;
        assert.equal(workerSent(lane, late, undefined, mark), false);
        fan.leave(lane, late, nobody);

        // Not media (another payload type: RTX, say), a stranger's copy, a changed byte, a replay, STUN: none is sent on
        // by the worker; the first is handed over decrypted, the rest as they came, with where they came from.
        const rtx = media(2, 101);
        const tampered = Buffer.from(media(3));
        tampered[tampered.length - 5]! ^= 1;
        send(peer, rtx);
        send(stranger, media(4));
        send(peer, tampered);
        send(peer, first);
        send(peer, Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
        await until(() => received().length === 6);
        assert.deepEqual(
          received()
            .slice(1)
            .map((d) => [d.kind, d.from?.[0], d.from?.[1]]),
          [
            [IngressKind.CLEAR, undefined, undefined],
            [IngressKind.RAW, '127.0.0.1', stranger.address().port],
            [IngressKind.RAW, '127.0.0.1', peer.address().port],
            [IngressKind.RAW, '127.0.0.1', peer.address().port],
            [IngressKind.RAW, '127.0.0.1', peer.address().port],
          ],
        );
        assert.equal(got.length, 1);
        assert.equal(lane.ingressFanned(), 1);

        // A closed gate (muted or blocked): decrypted for the main thread, not sent on.
        fan.setOpen(false);
        send(peer, media(5));
        await until(() => received().length === 7);
        assert.equal(received()[6]!.kind, IngressKind.CLEAR);
        fan.setOpen(true);
        send(peer, media(6));
        await until(() => got.length === 2 && received().length === 8);
        assert.equal(sub.open(got[1]!).header.sequenceNumber, 6);

        // The main thread held up (a long collection, a burst of signalling): the worker forwards all the same.
        const fanned = lane.ingressFanned();
        const seventh = media(7);
        await new Promise<void>((r) => peer.send(seventh, server.address().port, '127.0.0.1', () => r()));
        const giveUp = Date.now() + 2000;
        while (lane.ingressFanned() === fanned && Date.now() < giveUp) {
          // This thread does not yield: only the worker can move the count.
        }
        assert.equal(lane.ingressFanned(), fanned + 1, 'forwarded while the main thread was held up');
        await until(() => got.length === 3 && received().length === 9);
        assert.equal(sub.open(got[2]!).header.sequenceNumber, 7);

        // Stopped: nothing more is read; the socket is the main thread's again.
        lane.unwatch(id);
        await new Promise((r) => setTimeout(r, 50));
        send(peer, media(8));
        // Nothing can show that a packet will not come; a packet read by a worker that had not stopped yet would come within this.
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(received().length, 9);
        assert.equal(lost, 0);
      } finally {
        await pool.stop();
      }
    });
  }

  it('streams told by SSRC (several streams of one kind on one connection): each SSRC goes to its stream\'s members, others to the main thread only, and the SSRCs can change', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    try {
      const key = randomBytes(16);
      const salt = randomBytes(12);
      const publisher = new SrtpSession({ profile: ProtectionProfileAeadAes128Gcm, keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: randomBytes(16), remoteMasterSalt: randomBytes(12) } });
      const server = await udp();
      const peer = await udp();
      // Two publications' fan-outs (a camera and a screen share, say), one subscriber in each.
      const members = await Promise.all(
        [0xa, 0xb].map(async (ssrc) => {
          const rx = await udp();
          const got: Buffer[] = [];
          rx.on('message', (m) => got.push(m));
          const sub = srtpTransport(ProtectionProfileAeadAes128Gcm, await udp(), rx.address().port);
          const writer = new RtpWriter(sub.dtls as unknown as RTCDtlsTransport, null, pool);
          const route = writer.laneRoute()!;
          const { header, twccAt } = writer.template({ payloadType: 96, ssrc, sequenceNumber: 0, timestamp: 0, marker: false }, undefined);
          const fan = new FanOut();
          assert.ok(fan.join(route.lane, route.id, header, twccAt, nobody));
          return { got, sub, fan, lane: route.lane };
        }),
      );
      const lane = members[0]!.lane;
      const batches: IngressDatagram[][] = [];
      const id = lane.watch(
        {
          fds: [takeOver(server)],
          peers: [['127.0.0.1', peer.address().port, 4]],
          keys: { aead: true, masterKeyAndSalt: Buffer.concat([key, salt]) },
          payloadTypes: [[96, 1]],
          ssrcs: [
            [11, 0],
            [22, 1],
          ],
        },
        { receive: (_socket, packets) => batches.push(packets), lost: () => undefined },
      );
      members.forEach((m, stream) => m.fan.useFeed({ lane, group: (g) => lane.feed(id, stream, g), gate: (open) => lane.gate(id, stream, open) }));
      const received = () => batches.flat();
      const send = (ssrc: number, seq: number) => peer.send(publisher.encrypt(randomBytes(200), new RtpHeader({ payloadType: 96, ssrc, sequenceNumber: seq, timestamp: seq, marker: false })), server.address().port, '127.0.0.1');
      const seen = () => members.map((m) => m.got.map((b) => m.sub.open(b).header.sequenceNumber));

      send(11, 1);
      send(22, 2);
      // The small stream or an RTX stream: the main thread's to route.
      send(33, 3);
      await until(() => received().length === 3);
      assert.deepEqual(seen(), [[1], [2]]);
      assert.deepEqual(
        received().map((d) => d.kind),
        [IngressKind.FANNED, IngressKind.FANNED, IngressKind.CLEAR],
      );

      // Republished with other SSRCs: 22 is now the first stream's, 11 nobody's.
      lane.ssrcs(id, [[22, 0]]);
      send(22, 4);
      send(11, 5);
      await until(() => received().length === 5);
      assert.deepEqual(seen(), [[1, 4], [2]]);
      assert.equal(received()[4]!.kind, IngressKind.CLEAR);
      lane.unwatch(id);
    } finally {
      await pool.stop();
    }
  });

  it('an ingress is load on its worker: the next transport goes to the other one, until the ingress stops', async () => {
    const pool = new MediaWorkers(2, { warn: () => undefined });
    try {
      const first = pool.lane({})!;
      const id = first.watch({ fds: [takeOver(await udp())], peers: [], keys: { aead: true, masterKeyAndSalt: randomBytes(28) }, payloadTypes: [] }, { receive: () => undefined, lost: () => undefined });
      assert.notEqual(pool.lane({}), first);
      first.unwatch(id);
      first.unwatch(id);
      assert.equal(first.routes, 0);
    } finally {
      await pool.stop();
    }
  });

  it('an ingress the worker cannot read is handed back at once; the worker goes on', async () => {
    const warnings: unknown[] = [];
    const pool = new MediaWorkers(1, { warn: (o: unknown) => void warnings.push(o) });
    try {
      const lane = pool.lane({})!;
      let lost = 0;
      lane.watch({ fds: [1 << 20], peers: [], keys: { aead: true, masterKeyAndSalt: randomBytes(28) }, payloadTypes: [] }, { receive: () => undefined, lost: () => lost++ });
      await until(() => lost === 1);
      assert.equal(lost, 1);
      assert.equal(lane.alive, true);
      assert.equal(lane.routes, 0);
      assert.match(JSON.stringify(warnings), /cannot be watched/);
    } finally {
      await pool.stop();
    }
  });

  it('a worker that stops hands its ingresses back (the main thread reads their sockets again)', async () => {
    const pool = new MediaWorkers(1, { warn: () => undefined });
    const server = await udp();
    const lane = pool.lane({})!;
    let lost = 0;
    lane.watch({ fds: [takeOver(server)], peers: [], keys: { aead: true, masterKeyAndSalt: randomBytes(28) }, payloadTypes: [] }, { receive: () => undefined, lost: () => lost++ });
    await pool.stop();
    assert.equal(lost, 1);
  });
});
