// TRTC PrivateMapKey: a v2 UserSig whose TLS.userbuf is a binary room-permission ticket. Its layout is the one the official tls-sig-api-v2 libraries write (https://github.com/tencentyun/tls-sig-api-v2-node); what it grants: https://trtc.io/document/35157.
import { genUserSig, verifyUserSig, type UserSigFailure } from './usersig.ts';

/** dwPrivilegeMap bits (§2.2). */
export const Privilege = {
  CreateRoom: 1,
  EnterRoom: 2,
  SendAudio: 4,
  ReceiveAudio: 8,
  SendVideo: 16,
  ReceiveVideo: 32,
  SendSubVideo: 64,
  ReceiveSubVideo: 128,
  All: 255,
} as const;

export interface PrivateMapKeyBuffer {
  /** cVer: 0 = numeric room id, 1 = string room id present. */
  version: 0 | 1;
  account: string;
  sdkAppId: number;
  /** dwAuthID; 0 when version is 1. */
  roomId: number;
  /** dwExpTime: absolute expiry, unix seconds. */
  expireAt: number;
  privilegeMap: number;
  accountType: number;
  /** Only when version is 1 (may be "" — a Node-library quirk). */
  strRoomId?: string;
}

type PrivateMapKeyFailure = UserSigFailure | 'NO_USERBUF' | 'BUFFER_INVALID' | 'ACCOUNT_MISMATCH' | 'ROOM_MISMATCH' | 'PRIVILEGE_DENIED';

export type VerifyPrivateMapKeyResult =
  | { ok: true; buffer: PrivateMapKeyBuffer }
  | { ok: false; reason: PrivateMapKeyFailure; message: string };

interface GenCommon {
  sdkAppId: number;
  secretKey: string;
  userId: string;
  /** Validity in seconds from `now`; used for both the envelope and dwExpTime. */
  expire: number;
  privilegeMap: number;
  /** Unix seconds; default floor(Date.now()/1000). */
  now?: number;
}

interface VerifyPrivateMapKeyOptions {
  sdkAppId: number;
  secretKey: string;
  userId: string;
  /** Numeric room the key must be for (cVer 0). */
  roomId?: number;
  /** String room the key must be for (cVer 1). */
  strRoomId?: string;
  /** Privilege bits that must all be granted. */
  privilege?: number;
  /** Unix seconds; default floor(Date.now()/1000). */
  now?: number;
}

const FIXED = 20; // dwSdkAppid, dwAuthID, dwExpTime, dwPrivilegeMap, dwAccountType

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${name} must be an integer in [0, 2^32), got ${String(v)}`);
  return v;
}

function u16Bytes(name: string, s: string): Buffer {
  // UTF-8 as Go/C++/PHP write it; identical to the Node/Java/Python `charCode & 0xFF` bytes for ASCII,
  // which is all TRTC allows, and unlike those it keeps non-ASCII accounts equal to TLS.identifier.
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new RangeError(`${name} is longer than 65535 bytes`);
  return b;
}

/** Serialises the userbuf ticket in the §2.1 big-endian layout. */
export function encodePrivateMapKeyBuffer(b: PrivateMapKeyBuffer): Buffer {
  if (b.version !== 0 && b.version !== 1) throw new RangeError(`version must be 0 or 1, got ${String(b.version)}`);
  if ((b.version === 1) !== (b.strRoomId !== undefined)) throw new TypeError('strRoomId must be given exactly when version is 1');
  const account = u16Bytes('account', b.account);
  const room = b.strRoomId === undefined ? undefined : u16Bytes('strRoomId', b.strRoomId);
  const out = Buffer.alloc(3 + account.length + FIXED + (room === undefined ? 0 : 2 + room.length));
  out[0] = b.version;
  out.writeUInt16BE(account.length, 1);
  account.copy(out, 3);
  let o = 3 + account.length;
  o = out.writeUInt32BE(u32('sdkAppId', b.sdkAppId), o);
  o = out.writeUInt32BE(u32('roomId', b.roomId), o);
  o = out.writeUInt32BE(u32('expireAt', b.expireAt), o);
  o = out.writeUInt32BE(u32('privilegeMap', b.privilegeMap), o);
  o = out.writeUInt32BE(u32('accountType', b.accountType), o);
  if (room !== undefined) {
    o = out.writeUInt16BE(room.length, o);
    room.copy(out, o);
  }
  return out;
}

/** Parses a userbuf ticket; throws RangeError on a truncated, oversized or unknown-version buffer. */
export function decodePrivateMapKeyBuffer(buf: Buffer): PrivateMapKeyBuffer {
  if (buf.length < 3 + FIXED) throw new RangeError(`userbuf too short: ${buf.length} bytes`);
  const version = buf[0];
  if (version !== 0 && version !== 1) throw new RangeError(`unknown userbuf cVer ${String(version)}`);
  const accountLen = buf.readUInt16BE(1);
  let o = 3 + accountLen;
  if (buf.length < o + FIXED + (version === 1 ? 2 : 0)) throw new RangeError('userbuf truncated');
  // Decoded as (lossy) UTF-8: that is what Go/C++/PHP write and it equals the Node/Java bytes for ASCII;
  // the verifier compares raw bytes, so the lossy decoding of mangled non-ASCII accounts is only cosmetic.
  const account = buf.toString('utf8', 3, o);
  const sdkAppId = buf.readUInt32BE(o);
  const roomId = buf.readUInt32BE(o + 4);
  const expireAt = buf.readUInt32BE(o + 8);
  const privilegeMap = buf.readUInt32BE(o + 12);
  const accountType = buf.readUInt32BE(o + 16);
  o += FIXED;
  const out: PrivateMapKeyBuffer = { version, account, sdkAppId, roomId, expireAt, privilegeMap, accountType };
  if (version === 1) {
    const roomLen = buf.readUInt16BE(o);
    o += 2;
    if (buf.length < o + roomLen) throw new RangeError('userbuf truncated in strRoomId');
    out.strRoomId = buf.toString('utf8', o, o + roomLen);
    o += roomLen;
  }
  if (o !== buf.length) throw new RangeError(`userbuf has ${buf.length - o} trailing bytes`);
  return out;
}

function expireAtFor(o: GenCommon): { now: number; expireAt: number } {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  return { now, expireAt: now + o.expire };
}

/** Generates a PrivateMapKey for a numeric room, byte-identical to the official `genPrivateMapKey`. */
export function genPrivateMapKey(o: GenCommon & { roomId: number }): string {
  const { now, expireAt } = expireAtFor(o);
  const userbuf = encodePrivateMapKeyBuffer({
    version: 0, account: o.userId, sdkAppId: o.sdkAppId, roomId: o.roomId, expireAt, privilegeMap: o.privilegeMap, accountType: 0,
  });
  return genUserSig({ sdkAppId: o.sdkAppId, secretKey: o.secretKey, userId: o.userId, expire: o.expire, userbuf, now });
}

/** Generates a PrivateMapKey for a string room, byte-identical to `genPrivateMapKeyWithStringRoomID` ("" keeps cVer 1, as Node does). */
export function genPrivateMapKeyWithStringRoomId(o: GenCommon & { strRoomId: string }): string {
  const { now, expireAt } = expireAtFor(o);
  const userbuf = encodePrivateMapKeyBuffer({
    version: 1, account: o.userId, sdkAppId: o.sdkAppId, roomId: 0, expireAt, privilegeMap: o.privilegeMap, accountType: 0, strRoomId: o.strRoomId,
  });
  return genUserSig({ sdkAppId: o.sdkAppId, secretKey: o.secretKey, userId: o.userId, expire: o.expire, userbuf, now });
}

/** True if bytes [start, start+len) are `s` as UTF-8 (Go/C++/PHP) or as `charCode & 0xFF` (Node/Java). */
function bytesMatch(buf: Buffer, start: number, len: number, s: string): boolean {
  const region = buf.subarray(start, start + len);
  if (Buffer.from(s, 'utf8').equals(region)) return true;
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if ((s.charCodeAt(i) & 0xff) !== region[i]) return false;
  return true;
}

const deny = (reason: PrivateMapKeyFailure, message: string): VerifyPrivateMapKeyResult => ({ ok: false, reason, message });

/** Verifies a PrivateMapKey: envelope (§1.4), then account, app, room, dwExpTime and privilege bits (§2.3); never throws. */
export function verifyPrivateMapKey(token: string, o: VerifyPrivateMapKeyOptions): VerifyPrivateMapKeyResult {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const env = verifyUserSig(token, { sdkAppId: o.sdkAppId, secretKey: o.secretKey, userId: o.userId, now });
  if (!env.ok) return deny(env.reason, env.message);
  const raw = env.userbuf;
  if (raw === undefined) return deny('NO_USERBUF', 'token is a plain UserSig without TLS.userbuf, not a PrivateMapKey');
  let b: PrivateMapKeyBuffer;
  try {
    b = decodePrivateMapKeyBuffer(raw);
  } catch (e) {
    return deny('BUFFER_INVALID', `invalid PrivateMapKey userbuf: ${(e as Error).message}`);
  }
  if (!bytesMatch(raw, 3, raw.readUInt16BE(1), o.userId)) {
    return deny('ACCOUNT_MISMATCH', `userbuf account ${JSON.stringify(b.account)} doesn't match the UserID`);
  }
  if (b.sdkAppId !== o.sdkAppId) return deny('SDKAPPID_MISMATCH', `userbuf sdkappid ${b.sdkAppId} doesn't match ${o.sdkAppId}`);
  if (o.roomId !== undefined || o.strRoomId !== undefined) {
    // Numeric and string rooms are separate namespaces in TRTC: a cVer 0 key never opens a string room.
    const roomLenAt = 3 + raw.readUInt16BE(1) + FIXED;
    const ok =
      b.version === 0
        ? o.roomId !== undefined && b.roomId === o.roomId
        : o.strRoomId !== undefined && bytesMatch(raw, roomLenAt + 2, raw.readUInt16BE(roomLenAt), o.strRoomId);
    if (!ok) {
      const has = b.version === 0 ? `room ${b.roomId}` : `string room ${JSON.stringify(b.strRoomId)}`;
      return deny('ROOM_MISMATCH', `PrivateMapKey is for ${has}`);
    }
  }
  if (now > b.expireAt) return deny('EXPIRED', `PrivateMapKey expired at ${b.expireAt} (userbuf dwExpTime)`);
  if (o.privilege !== undefined && (b.privilegeMap & o.privilege) >>> 0 !== o.privilege >>> 0) {
    return deny('PRIVILEGE_DENIED', `privilege map ${b.privilegeMap} lacks required bits ${o.privilege}`);
  }
  return { ok: true, buffer: b };
}
