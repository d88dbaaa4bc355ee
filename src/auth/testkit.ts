// Test-only helpers shared by usersig.test.ts and private-map-key.test.ts (not imported by production code).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';

/** The official npm `tls-sig-api-v2` 1.0.2 API (untyped CommonJS). */
export interface OfficialApi {
  genUserSig(userid: string | number, expire: number | string): string;
  genSig(userid: string, expire: number, userBuf: Buffer | null): string;
  genPrivateMapKey(userid: string, expire: number, roomid: number, privilegeMap: number): string;
  genPrivateMapKeyWithStringRoomID(userid: string, expire: number, roomstr: string, privilegeMap: number): string;
}
export const OfficialApi = (createRequire(import.meta.url)('tls-sig-api-v2') as { Api: new (sdkappid: number, key: string) => OfficialApi }).Api;

export interface Vector {
  name: string;
  input: { sdkappid: number; key: string; method: string; args: unknown[] };
  usersig: string;
  zlibHeaderHex: string;
  decoded: Record<string, unknown>;
  hmacContent: string;
  verifyAtTime: string;
  userbufParsed?: {
    hex: string; cVer: number; account: string; dwSdkAppid: number; dwAuthID: number; dwExpTime: number;
    dwPrivilegeMap: number; dwAccountType: number; roomStr?: string; trailingBytes: number;
  };
}
interface VectorsFile {
  frozenDateNowMs: number;
  TLS_time: number;
  vectors: Vector[];
  extra: {
    verifyChecks: Record<string, string>;
    reencodedEquivalents: Record<string, string | { usersig: string; zlibHeaderHex?: string; verify: string }>;
  };
}

/** Loads the UserSig vectors: tokens from the official npm `tls-sig-api-v2` 1.0.2 at a frozen clock, decoded and re-verified (https://trtc.io/document/35166). */
export function loadVectors(): VectorsFile {
  return JSON.parse(readFileSync(new URL('./fixtures/usersig-vectors.json', import.meta.url), 'utf8')) as VectorsFile;
}

/** Runs `fn` with Date.now frozen at `ms`, restoring it afterwards. */
export function withFrozenNow<T>(ms: number, fn: () => T): T {
  const original = Date.now;
  Date.now = () => ms;
  try {
    return fn();
  } finally {
    Date.now = original;
  }
}

/** Deterministic PRNG (mulberry32) so random cross-checks are reproducible. */
export function prng(seed: number): { int(min: number, max: number): number; pick(alphabet: string, min: number, max: number): string } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = (alphabet: string, min: number, max: number): string => {
    let out = '';
    for (let n = int(min, max); n > 0; n--) out += alphabet[int(0, alphabet.length - 1)];
    return out;
  };
  return { int, pick };
}

export const USERID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/** Envelope built independently of usersig.ts: zlib at `level`, std base64, then `+`→`*`, `/`→`-`, `=`→`_`. */
export function pack(json: string, level = 6): string {
  return deflateSync(Buffer.from(json, 'utf8'), { level }).toString('base64').replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

/** HMAC per spec §1.3, written independently of usersig.ts. */
export function sign(key: string, id: string, app: number | string, time: number | string, expire: number | string, userbuf?: string): string {
  let c = `TLS.identifier:${id}\nTLS.sdkappid:${app}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  if (userbuf !== undefined) c += `TLS.userbuf:${userbuf}\n`;
  return createHmac('sha256', key).update(c).digest('base64');
}
