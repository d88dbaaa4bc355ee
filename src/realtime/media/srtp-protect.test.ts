import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { nativeSrtp } from './native-srtp.ts';
import { SrtpProtector, type WeriftSrtpContext } from './srtp-protect.ts';

/** Two ends of one SRTP session (werift's own implementation is the judge). */
function pair(profile: number, keyLen: number, saltLen: number) {
  const k = { a: randomBytes(keyLen), as: randomBytes(saltLen), b: randomBytes(keyLen), bs: randomBytes(saltLen) };
  const sender = new SrtpSession({ profile, keys: { localMasterKey: k.a, localMasterSalt: k.as, remoteMasterKey: k.b, remoteMasterSalt: k.bs } });
  const reference = new SrtpSession({ profile, keys: { localMasterKey: k.a, localMasterSalt: k.as, remoteMasterKey: k.b, remoteMasterSalt: k.bs } });
  const receiver = new SrtpSession({ profile, keys: { localMasterKey: k.b, localMasterSalt: k.bs, remoteMasterKey: k.a, remoteMasterSalt: k.as } });
  return { protector: new SrtpProtector(sender.localContext as unknown as WeriftSrtpContext), reference, receiver, senderKey: Buffer.concat([k.a, k.as]) };
}

for (const [name, profile, keyLen, saltLen] of [
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm, 16, 12],
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, 16, 14],
] as const) {
  describe(`SrtpProtector, ${name}`, () => {
    it('writes what werift writes, byte for byte, and werift decrypts it, across a sequence-number wrap', () => {
      const { protector, reference, receiver } = pair(profile, keyLen, saltLen);
      assert.equal(protector.aead, profile === ProtectionProfileAeadAes128Gcm);
      for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
        const header = new RtpHeader({ payloadType: 96, ssrc: 0x01020304, sequenceNumber: seq, timestamp: 3000 * seq, marker: seq % 2 === 0 });
        const payload = randomBytes(1 + (seq % 1200));
        const ours = Buffer.concat(protector.protect(header.serialize(header.serializeSize), payload));
        const theirs = reference.encrypt(payload, new RtpHeader({ ...header }));
        assert.deepEqual(ours, theirs, `seq ${seq}`);
        const back = RtpPacket.deSerialize(receiver.decrypt(ours));
        assert.deepEqual([back.header.sequenceNumber, back.header.timestamp, back.header.marker, back.header.ssrc], [seq, 3000 * seq, seq % 2 === 0, 0x01020304]);
        assert.deepEqual(back.payload, payload);
      }
    });

    it('a changed byte fails werift\'s authentication', () => {
      const { protector, receiver } = pair(profile, keyLen, saltLen);
      const header = new RtpHeader({ payloadType: 111, ssrc: 7, sequenceNumber: 10, timestamp: 1 });
      const out = Buffer.concat(protector.protect(header.serialize(header.serializeSize), Buffer.from('opus frame')));
      out[out.length - 12]! ^= 1;
      assert.throws(() => receiver.decrypt(out));
    });

    it('the accelerator\'s inbound session (a media worker\'s ingress) decrypts what werift sent, across a wrap, and refuses a changed byte and a replay', { skip: !nativeSrtp() && 'the SRTP accelerator is not built' }, () => {
      const native = nativeSrtp()!;
      const { reference, senderKey } = pair(profile, keyLen, saltLen);
      const inbound = native.createInbound(profile === ProtectionProfileAeadAes128Gcm, senderKey);
      for (const seq of [65534, 65535, 0, 1]) {
        const header = new RtpHeader({ payloadType: 96, ssrc: 0x0a0b0c0d, sequenceNumber: seq, timestamp: 90 * seq, marker: true });
        const payload = randomBytes(100 + seq % 900);
        const sent = reference.encrypt(payload, new RtpHeader({ ...header }));
        const buf = Buffer.concat([Buffer.alloc(5), sent]);
        const tampered = Buffer.from(buf);
        tampered[tampered.length - 20]! ^= 1;
        assert.equal(native.unprotect(inbound, tampered, 5, sent.length), -1, `seq ${seq}: a changed byte`);
        const n = native.unprotect(inbound, buf, 5, sent.length);
        assert.equal(n, header.serializeSize + payload.length, `seq ${seq}`);
        const back = RtpPacket.deSerialize(buf.subarray(5, 5 + n));
        assert.deepEqual([back.header.sequenceNumber, back.header.ssrc], [seq, 0x0a0b0c0d]);
        assert.deepEqual(back.payload, payload);
        assert.equal(native.unprotect(inbound, Buffer.from(sent), 0, sent.length), -1, `seq ${seq}: a replay`);
      }
    });
  });
}
