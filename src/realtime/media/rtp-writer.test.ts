import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpPacket, type RTCDtlsTransport } from 'werift';
import { MediaWorkers } from './media-workers.ts';
import { nativeSrtp, type NativeSrtp } from './native-srtp.ts';
import { RtpWriter } from './rtp-writer.ts';
import { srtpTransport } from '../../../test/helpers/srtp-transport.ts';

// The forwarding path writes datagrams that werift's own SRTP receiver opens, with the header fields and extensions
// asked for, through libsrtp2 (when built) and through node:crypto.

let rx: Socket;
let tx: Socket;
const got: Buffer[] = [];

before(async () => {
  rx = createSocket('udp4');
  rx.on('message', (m) => got.push(m));
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  tx = createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, '127.0.0.1', r));
});
after(() => {
  rx.close();
  tx.close();
});

/** A transport shaped like werift's (its SRTP session, a nominated pair's socket) and the receiving end's session. */
const transport = (profile: number) => srtpTransport(profile, tx, rx.address().port, 7);

async function received(n: number): Promise<Buffer[]> {
  for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  return got.splice(0, got.length);
}

const quiet = { warn: () => undefined };
const workers = new MediaWorkers(1, quiet);
after(() => workers.stop());

const engines: Array<[string, NativeSrtp | null, MediaWorkers | undefined]> = [
  ['node:crypto', null, undefined],
  ...(nativeSrtp() ? ([['the SRTP accelerator', nativeSrtp()!, undefined], ['a media worker', null, workers]] as Array<[string, NativeSrtp | null, MediaWorkers | undefined]>) : []),
];
if (!nativeSrtp()) it('RtpWriter through libsrtp2 and media workers', (t) => t.skip('the SRTP accelerator was not built (libsrtp2-dev missing)'));

for (const [engine, native, pool] of engines) {
  for (const [name, profile] of [
    ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm],
    ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80],
  ] as const) {
    describe(`RtpWriter through ${engine}, ${name}`, () => {
      it('writes packets werift decrypts, with the SSRC, payload type, sequence, timestamp, marker, MID and TWCC asked for; a repeat (NACK answer) too', async () => {
        const { dtls, pair, receiver } = transport(profile);
        const w = new RtpWriter(dtls as unknown as RTCDtlsTransport, native, pool);
        const payloads = [randomBytes(1000), randomBytes(50), randomBytes(1200)];
        const seqs = [65535, 0, 1];
        seqs.forEach((seq, i) => assert.equal(w.write({ payloadType: 96, ssrc: 0xabcdef01, sequenceNumber: seq, timestamp: 90_000 * i, marker: i === 2 }, payloads[i]!, { midId: 1, mid: Buffer.from('1'), twccId: 3 }), true));
        assert.equal(w.write({ payloadType: 96, ssrc: 0xabcdef01, sequenceNumber: 0, timestamp: 90_000, marker: false }, payloads[1]!, { midId: 1, mid: Buffer.from('1'), twccId: 3 }), true, 'a retransmission');
        const datagrams = await received(4);
        assert.equal(datagrams.length, 4);
        const packets = datagrams.map((d) => RtpPacket.deSerialize(receiver.decrypt(d)));
        assert.deepEqual(packets.map((p) => [p.header.sequenceNumber, p.header.timestamp, p.header.marker, p.header.payloadType, p.header.ssrc]), [
          [65535, 0, false, 96, 0xabcdef01],
          [0, 90_000, false, 96, 0xabcdef01],
          [1, 180_000, true, 96, 0xabcdef01],
          [0, 90_000, false, 96, 0xabcdef01],
        ]);
        packets.slice(0, 3).forEach((p, i) => assert.deepEqual(p.payload, payloads[i]));
        assert.deepEqual(packets[0]!.header.extensions.map((e) => [e.id, e.payload.toString('hex')]), [[1, Buffer.from('1').toString('hex')], [3, '0008']]);
        assert.deepEqual(packets.map((p) => p.header.extensions.find((e) => e.id === 3)!.payload.readUInt16BE(0)), [8, 9, 10, 11], 'transport-wide sequence');
        assert.equal(dtls.packetsSent, 4);
        assert.equal(pair.packetsSent, 4);
        assert.equal(dtls.bytesSent, datagrams.reduce((a, d) => a + d.length, 0));
      });

      it('drops packets until the transport is connected and while consent is missing', async () => {
        const { dtls } = transport(profile);
        const w = new RtpWriter(dtls as unknown as RTCDtlsTransport, native, pool);
        const h = { payloadType: 111, ssrc: 5, sequenceNumber: 1, timestamp: 1, marker: false };
        dtls.state = 'connecting';
        assert.equal(w.write(h, Buffer.from('x')), false);
        dtls.state = 'connected';
        dtls.iceTransport.connection.canSendApplicationData = () => false;
        assert.equal(w.write(h, Buffer.from('x')), false);
        assert.deepEqual(await received(0), []);
      });
    });
  }
}

describe('RtpWriter through media workers', { skip: !nativeSrtp() && 'the SRTP accelerator was not built (libsrtp2-dev missing)' }, () => {
  const h = (seq: number) => ({ payloadType: 96, ssrc: 42, sequenceNumber: seq, timestamp: seq * 3000, marker: false });

  it('takes new keys when DTLS renegotiates them, and the main thread sends once its worker is gone', async () => {
    const pool = new MediaWorkers(2, quiet);
    try {
      const first = transport(ProtectionProfileAeadAes128Gcm);
      const w = new RtpWriter(first.dtls as unknown as RTCDtlsTransport, null, pool);
      assert.equal(w.write(h(1), Buffer.from('one')), true);
      const second = transport(ProtectionProfileAes128CmHmacSha1_80);
      first.dtls.srtp = second.dtls.srtp;
      assert.equal(w.write(h(2), Buffer.from('two')), true);
      const [a, b] = await received(2);
      assert.deepEqual(RtpPacket.deSerialize(first.receiver.decrypt(a!)).payload, Buffer.from('one'));
      assert.deepEqual(RtpPacket.deSerialize(second.receiver.decrypt(b!)).payload, Buffer.from('two'));
      await pool.stop();
      assert.equal(w.write(h(3), Buffer.from('three')), true, 'sent by the main thread');
      const [c] = await received(1);
      assert.deepEqual(RtpPacket.deSerialize(second.receiver.decrypt(c!)).payload, Buffer.from('three'));
    } finally {
      await pool.stop();
    }
  });

  it('spreads transports over the workers and keeps each on its own; counts what they sent', async () => {
    const pool = new MediaWorkers(2, quiet);
    try {
      const ends = [transport(ProtectionProfileAeadAes128Gcm), transport(ProtectionProfileAeadAes128Gcm), transport(ProtectionProfileAeadAes128Gcm)];
      const lanes = ends.map((e) => pool.lane(e.dtls));
      assert.notEqual(lanes[0], undefined);
      assert.equal(pool.lane(ends[0]!.dtls), lanes[0], 'the same lane for the same transport');
      const writers = ends.map((e) => new RtpWriter(e.dtls as unknown as RTCDtlsTransport, null, pool));
      writers.forEach((w, i) => assert.equal(w.write(h(i), Buffer.from(`p${i}`)), true));
      assert.equal(new Set(lanes).size, 2, 'both workers are used');
      assert.equal((await received(3)).length, 3);
      for (let i = 0; i < 200 && pool.counts().sent < 3; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(pool.counts(), { sent: 3, dropped: 0 });
      writers[0]!.close();
      writers[0]!.close();
    } finally {
      await pool.stop();
      await pool.stop();
    }
  });

  it('sends nothing more of a closed writer, even what it wrote earlier in the same tick', async () => {
    const pool = new MediaWorkers(1, quiet);
    try {
      const gone = transport(ProtectionProfileAeadAes128Gcm);
      const kept = transport(ProtectionProfileAeadAes128Gcm);
      const a = new RtpWriter(gone.dtls as unknown as RTCDtlsTransport, null, pool);
      const b = new RtpWriter(kept.dtls as unknown as RTCDtlsTransport, null, pool);
      for (let i = 0; i < 3; i++) assert.equal(a.write(h(i), Buffer.from('gone')), true);
      a.close();
      assert.equal(b.write(h(9), Buffer.from('kept')), true);
      const got = await received(1);
      await new Promise((r) => setTimeout(r, 50));
      got.push(...(await received(0)));
      assert.equal(got.length, 1);
      assert.deepEqual(RtpPacket.deSerialize(kept.receiver.decrypt(got[0]!)).payload, Buffer.from('kept'));
      assert.deepEqual(pool.counts(), { sent: 1, dropped: 0 });
    } finally {
      await pool.stop();
    }
  });

  it('uses no worker when none is configured', () => {
    const pool = new MediaWorkers(0, quiet);
    assert.equal(pool.enabled, false);
    assert.equal(pool.lane({}), undefined);
  });
});
