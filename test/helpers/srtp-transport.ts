// A transport shaped like werift's DTLS transport after DTLS-SRTP (its SRTP session, a nominated ICE pair's socket),
// for testing the forwarding path without a peer connection, and the receiving end's session to open what it sends.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { ProtectionProfileAeadAes128Gcm, RtpPacket, SrtpSession } from 'werift';

/** A transport sending on `socket` to 127.0.0.1:`port` with fresh keys of `profile`, its transport-wide sequence at `twcc`. */
export function srtpTransport(profile: number, socket: Socket, port: number, twcc = 0) {
  const saltLen = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const k = { a: randomBytes(16), as: randomBytes(saltLen), b: randomBytes(16), bs: randomBytes(saltLen) };
  const pair = { protocol: { type: 'stun', transport: { socket } }, remoteAddr: ['127.0.0.1', port], packetsSent: 0, bytesSent: 0 };
  const dtls = {
    state: 'connected',
    srtp: new SrtpSession({ profile, keys: { localMasterKey: k.a, localMasterSalt: k.as, remoteMasterKey: k.b, remoteMasterSalt: k.bs } }),
    iceTransport: { connection: { nominated: pair, canSendApplicationData: () => true, send: async () => undefined } },
    transportSequenceNumber: twcc,
    bytesSent: 0,
    packetsSent: 0,
  };
  const receiver = new SrtpSession({ profile, keys: { localMasterKey: k.b, localMasterSalt: k.bs, remoteMasterKey: k.a, remoteMasterSalt: k.as } });
  return { dtls, pair, receiver, open: (d: Buffer) => RtpPacket.deSerialize(receiver.decrypt(d)) };
}
