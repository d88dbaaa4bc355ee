// SRTP protection of outgoing RTP with node:crypto, from the session keys of a werift SRTP context.
import { createCipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80 } from 'werift';

/** The parts of werift's SrtpContext (rtp/src/srtp/context) the protector reads: its session keys and ROC state. */
export interface WeriftSrtpContext {
  profile: number;
  cipher: { srtpSessionKey: Buffer; srtpSessionSalt: Buffer; srtpSessionAuthTag?: Buffer };
  getSrtpSsrcState(ssrc: number): { rolloverCounter: number };
  updateRolloverCount(sequenceNumber: number, state: { rolloverCounter: number }): void;
}

/**
 * Protects RTP packets (RFC 3711 AES_CM_128_HMAC_SHA1_80, RFC 7714 AEAD_AES_128_GCM) with the keys werift derived
 * for a DTLS-SRTP session, sharing its rollover counters so that its own sends and these agree. The output is the
 * three pieces a datagram is written from (header, ciphertext, tag), so nothing is concatenated; the IV/counter
 * and ROC scratch buffers are the protector's own.
 */
export class SrtpProtector {
  private readonly gcm: boolean;
  private readonly key: KeyObject;
  private readonly salt: Buffer;
  private readonly authKey: Buffer | undefined;
  private readonly iv: Buffer;
  private readonly roc = Buffer.alloc(4);

  constructor(private readonly ctx: WeriftSrtpContext) {
    if (ctx.profile !== ProtectionProfileAeadAes128Gcm && ctx.profile !== ProtectionProfileAes128CmHmacSha1_80) throw new Error(`unsupported SRTP profile ${ctx.profile}`);
    this.gcm = ctx.profile === ProtectionProfileAeadAes128Gcm;
    this.key = createSecretKey(ctx.cipher.srtpSessionKey);
    this.salt = Buffer.from(ctx.cipher.srtpSessionSalt);
    this.authKey = ctx.cipher.srtpSessionAuthTag;
    this.iv = Buffer.alloc(this.gcm ? 12 : 16);
  }

  /** Whether the session uses AEAD_AES_128_GCM. */
  get aead(): boolean {
    return this.gcm;
  }

  /**
   * The protected form of a packet whose serialized header is `header` (SSRC at bytes 8–11, sequence number at
   * 2–3): [header, encrypted payload, authentication tag]. The header is authenticated, not changed.
   */
  protect(header: Buffer, payload: Buffer): [Buffer, Buffer, Buffer] {
    const ssrc = header.readUInt32BE(8);
    const seq = header.readUInt16BE(2);
    const state = this.ctx.getSrtpSsrcState(ssrc);
    this.ctx.updateRolloverCount(seq, state);
    const roc = state.rolloverCounter;
    const iv = this.iv;
    if (this.gcm) {
      // RFC 7714 §8.1: 00 00 || SSRC || ROC || SEQ, XOR the 12-byte salt.
      iv.writeUInt16BE(0, 0);
      iv.writeUInt32BE(ssrc, 2);
      iv.writeUInt32BE(roc, 6);
      iv.writeUInt16BE(seq, 10);
      for (let i = 0; i < 12; i++) iv[i]! ^= this.salt[i]!;
      const c = createCipheriv('aes-128-gcm', this.key, iv);
      c.setAAD(header);
      const enc = c.update(payload);
      c.final();
      return [header, enc, c.getAuthTag()];
    }
    // RFC 3711 §4.1.1: (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
    iv.fill(0);
    iv.writeUInt32BE(ssrc, 4);
    iv.writeUInt32BE(roc, 8);
    iv.writeUInt16BE(seq, 12);
    for (let i = 0; i < 14; i++) iv[i]! ^= this.salt[i]!;
    const enc = createCipheriv('aes-128-ctr', this.key, iv).update(payload);
    this.roc.writeUInt32BE(roc, 0);
    const tag = createHmac('sha1', this.authKey!).update(header).update(enc).update(this.roc).digest().subarray(0, 10);
    return [header, enc, tag];
  }
}
