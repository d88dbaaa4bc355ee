// Tencent TLS signature v2 (UserSig): generation byte-identical to npm `tls-sig-api-v2`,
// and a verifier that accepts every official encoding. Spec: https://trtc.io/document/35166 and the official
// libraries (https://github.com/tencentyun/tls-sig-api-v2-node; the Go and PHP ones also verify).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';

export type UserSigFailure =
  | 'EMPTY'
  | 'MALFORMED'
  | 'V1_UNSUPPORTED'
  | 'FIELD_MISSING'
  | 'IDENTIFIER_MISMATCH'
  | 'SDKAPPID_MISMATCH'
  | 'EXPIRED'
  | 'SIG_MISMATCH'
  | 'USERBUF_MISMATCH';

/** Results may be shared between calls (the verifier cache hands out the same object): treat them as read-only. */
export type VerifyResult =
  | { readonly ok: true; readonly time: number; readonly expire: number; readonly expiresAt: number; readonly userbuf?: Buffer }
  | { readonly ok: false; readonly reason: UserSigFailure; readonly message: string };

type Failure = Extract<VerifyResult, { ok: false }>;
type Success = Extract<VerifyResult, { ok: true }>;

/** The parsed JSON document of a token; values are untrusted and unvalidated. */
type DecodedUserSig = Record<string, unknown>;

/** Thrown by decodeUserSig; `reason` is EMPTY or MALFORMED. */
export class UserSigError extends Error {
  override readonly name = 'UserSigError';
  constructor(readonly reason: UserSigFailure, message: string) {
    super(message);
  }
}

interface GenUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  userId: string;
  /** Validity in seconds, relative to the generation time. */
  expire: number;
  userbuf?: Buffer;
  /** Generation time, unix seconds; default floor(Date.now()/1000). */
  now?: number;
}

interface VerifyUserSigOptions {
  sdkAppId: number;
  secretKey: string;
  userId: string;
  /** Unix seconds; default floor(Date.now()/1000). */
  now?: number;
  /** Require a TLS.userbuf (Go `VerifyUserSigWithBuf`). */
  expectUserbuf?: boolean;
}

// Far above any real token (Java even truncates at 2 KiB); bounds memory in the cache and zip bombs.
const MAX_TOKEN_CHARS = 32 * 1024;
const MAX_JSON_BYTES = 64 * 1024;
// Node's default 16 KiB output chunk is a fresh allocation per call; tokens are a few hundred bytes.
// The zlib stream does not depend on the chunk size (tests compare multi-chunk output with the official library).
const DEFLATE_OPTS = { chunkSize: 512 };
const INFLATE_OPTS = { chunkSize: 1024, maxOutputLength: MAX_JSON_BYTES };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-';
const PAD = 0x5f; // '_'
const ENC = new Uint8Array(64);
const DEC = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  ENC[i] = ALPHABET.charCodeAt(i);
  DEC[ALPHABET.charCodeAt(i)] = i;
}

/** Standard padded base64 with `+`→`*`, `/`→`-`, `=`→`_`, in one pass over the bytes. */
export function encodeTlsBase64(src: Uint8Array): string {
  const n = src.length;
  const out = Buffer.allocUnsafe(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[o++] = ENC[v >>> 18]!;
    out[o++] = ENC[(v >>> 12) & 63]!;
    out[o++] = ENC[(v >>> 6) & 63]!;
    out[o++] = ENC[v & 63]!;
  }
  const rest = n - i;
  if (rest > 0) {
    const v = (src[i]! << 16) | (rest === 2 ? src[i + 1]! << 8 : 0);
    out[o++] = ENC[v >>> 18]!;
    out[o++] = ENC[(v >>> 12) & 63]!;
    out[o++] = rest === 2 ? ENC[(v >>> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return out.toString('latin1', 0, o);
}

const val = (c: number): number => (c < 128 ? DEC[c]! : -1);

/** Inverse of encodeTlsBase64; padding optional; returns undefined on any character outside the alphabet. */
export function decodeTlsBase64(s: string): Buffer | undefined {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === PAD) end--;
  const padding = s.length - end;
  if (padding > 2 || (padding > 0 && s.length % 4 !== 0) || end % 4 === 1) return undefined;
  const out = Buffer.allocUnsafe((end * 3) >>> 2);
  let o = 0;
  let i = 0;
  for (; i + 3 < end; i += 4) {
    const a = val(s.charCodeAt(i)), b = val(s.charCodeAt(i + 1)), c = val(s.charCodeAt(i + 2)), d = val(s.charCodeAt(i + 3));
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  const rest = end - i;
  if (rest >= 2) {
    const a = val(s.charCodeAt(i)), b = val(s.charCodeAt(i + 1)), c = rest === 3 ? val(s.charCodeAt(i + 2)) : 0;
    if ((a | b | c) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >>> 16;
    if (rest === 3) out[o++] = (v >>> 8) & 0xff;
  }
  return out.subarray(0, o);
}

function hmacContent(identifier: string, sdkAppId: number, time: number, expire: number, userbuf: string | undefined): string {
  const base = `TLS.identifier:${identifier}\nTLS.sdkappid:${sdkAppId}\nTLS.time:${time}\nTLS.expire:${expire}\n`;
  return userbuf === undefined ? base : `${base}TLS.userbuf:${userbuf}\n`;
}

function requireInteger(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
}

/** Generates a v2 UserSig (PrivateMapKey when `userbuf` is given), byte-identical to `tls-sig-api-v2`. */
export function genUserSig(o: GenUserSigOptions): string {
  const time = o.now ?? Math.floor(Date.now() / 1000);
  // Non-integers would be signed as written but serialised differently: such tokens never verify anywhere.
  requireInteger('sdkAppId', o.sdkAppId, 0);
  requireInteger('expire', o.expire, Number.MIN_SAFE_INTEGER);
  requireInteger('now', time, 0);
  if (typeof o.userId !== 'string') throw new TypeError('userId must be a string');
  const ub = o.userbuf === undefined ? undefined : o.userbuf.toString('base64');
  const sig = createHmac('sha256', o.secretKey)
    .update(hmacContent(o.userId, o.sdkAppId, time, o.expire, ub))
    .digest('base64');
  // Key order and compact form of Node's JSON.stringify of the official sigDoc; base64 needs no escaping.
  const json =
    `{"TLS.ver":"2.0","TLS.identifier":${JSON.stringify(o.userId)},"TLS.sdkappid":${o.sdkAppId},` +
    `"TLS.time":${time},"TLS.expire":${o.expire}${ub === undefined ? '' : `,"TLS.userbuf":"${ub}"`},"TLS.sig":"${sig}"}`;
  return encodeTlsBase64(deflateSync(json, DEFLATE_OPTS));
}

/** Decodes a UserSig envelope to its JSON document without checking anything; throws UserSigError. */
export function decodeUserSig(token: string): DecodedUserSig {
  if (typeof token !== 'string' || token.length === 0) throw new UserSigError('EMPTY', 'UserSig is empty');
  if (token.length > MAX_TOKEN_CHARS) throw new UserSigError('MALFORMED', `UserSig longer than ${MAX_TOKEN_CHARS} characters`);
  const raw = decodeTlsBase64(token);
  if (raw === undefined) throw new UserSigError('MALFORMED', 'UserSig is not valid TLS base64 (alphabet A-Z a-z 0-9 * - with _ padding)');
  let text: string;
  try {
    text = inflateSync(raw, INFLATE_OPTS).toString('utf8');
  } catch (e) {
    throw new UserSigError('MALFORMED', `UserSig zlib inflate failed: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserSigError('MALFORMED', `UserSig JSON parse failed: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserSigError('MALFORMED', 'UserSig JSON is not an object');
  return doc as DecodedUserSig;
}

const fail = (reason: UserSigFailure, message: string): Failure => Object.freeze({ ok: false, reason, message });

const V1_KEYS = ['TLS.sdk_appid', 'TLS.expire_after', 'TLS.account_type', 'TLS.appid_at_3rd', 'TLS.version'];
// Strict alphabet also keeps the signed text unambiguous: a userbuf cannot smuggle in `\n` or `:`.
const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const SIG_B64 = /^[A-Za-z0-9+/]{43}=?$/;

/** Verification facts that depend on the token and app only, not on the caller's userId or clock. */
interface Analysis {
  /** Failure whatever the userId (decode, version, identifier type). */
  fixed?: Failure;
  identifier: string;
  /** Outcome when userId === identifier; undefined until computed for a matching userId. */
  outcome?: Failure | Success;
  mismatch?: Failure;
  expired?: Failure;
}

// Check order: decode → version → identifier → sdkappid → field types → userbuf presence → sig → expiry,
// so a forged token is never reported as merely expired.
function analyse(token: string, userId: string, sdkAppId: number, secretKey: string, expectUserbuf: boolean): Analysis {
  let doc: DecodedUserSig;
  try {
    doc = decodeUserSig(token);
  } catch (e) {
    if (e instanceof UserSigError) return { fixed: fail(e.reason, e.message), identifier: '' };
    throw e;
  }
  const ver = doc['TLS.ver'];
  if (ver !== '2.0') {
    if (V1_KEYS.some((k) => k in doc)) {
      return { fixed: fail('V1_UNSUPPORTED', 'v1 (ECDSA) UserSig is not supported; generate a v2 (HMAC-SHA256) UserSig with tls-sig-api-v2'), identifier: '' };
    }
    if (ver === undefined) return { fixed: fail('FIELD_MISSING', 'TLS.ver field is missing'), identifier: '' };
    return { fixed: fail('MALFORMED', `unsupported TLS.ver ${JSON.stringify(ver)}; only "2.0" is supported`), identifier: '' };
  }
  const identifier = doc['TLS.identifier'];
  if (typeof identifier !== 'string') return { fixed: fail('FIELD_MISSING', 'TLS.identifier field is missing or not a string'), identifier: '' };
  if (identifier !== userId) return { identifier };
  return { identifier, outcome: checkBody(doc, identifier, sdkAppId, secretKey, expectUserbuf) };
}

function checkBody(doc: DecodedUserSig, identifier: string, sdkAppId: number, secretKey: string, expectUserbuf: boolean): Failure | Success {
  const appId = doc['TLS.sdkappid'];
  if (typeof appId !== 'number' || !Number.isSafeInteger(appId) || appId < 0) return fail('FIELD_MISSING', 'TLS.sdkappid field is missing or not an unsigned integer');
  if (appId !== sdkAppId) return fail('SDKAPPID_MISMATCH', `sdkappid doesn't match: token has ${appId}, expected ${sdkAppId}`);
  const time = doc['TLS.time'];
  const expire = doc['TLS.expire'];
  if (typeof time !== 'number' || !Number.isSafeInteger(time)) return fail('FIELD_MISSING', 'TLS.time field is missing or not an integer');
  if (typeof expire !== 'number' || !Number.isSafeInteger(expire)) return fail('FIELD_MISSING', 'TLS.expire field is missing or not an integer');
  const sig = doc['TLS.sig'];
  if (typeof sig !== 'string') return fail('FIELD_MISSING', 'TLS.sig field is missing or not a string');
  const ub = doc['TLS.userbuf'];
  if (ub !== undefined && typeof ub !== 'string') return fail('FIELD_MISSING', 'TLS.userbuf is not a string');
  if (ub !== undefined && !STD_B64.test(ub)) return fail('MALFORMED', 'TLS.userbuf is not standard base64');
  if (ub === undefined && expectUserbuf) return fail('USERBUF_MISMATCH', 'token carries no TLS.userbuf');
  if (!SIG_B64.test(sig)) return fail('SIG_MISMATCH', 'TLS.sig is not a base64 HMAC-SHA256 digest');
  // The userbuf string is signed verbatim (C++/PHP), so non-canonical base64 from other signers still verifies.
  const expected = createHmac('sha256', secretKey).update(hmacContent(identifier, sdkAppId, time, expire, ub)).digest();
  const got = Buffer.from(sig, 'base64');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    return fail('SIG_MISMATCH', 'sig error: HMAC does not match (wrong SecretKey, or the token was altered)');
  }
  const expiresAt = time + expire;
  return Object.freeze(
    ub === undefined ? { ok: true as const, time, expire, expiresAt } : { ok: true as const, time, expire, expiresAt, userbuf: Buffer.from(ub, 'base64') },
  );
}

function settle(a: Analysis, userId: string, now: number): VerifyResult {
  if (a.fixed !== undefined) return a.fixed;
  if (userId !== a.identifier) {
    return (a.mismatch ??= fail('IDENTIFIER_MISMATCH', `identifier doesn't match: token is for ${JSON.stringify(a.identifier)}`));
  }
  const r = a.outcome!;
  if (!r.ok || now <= r.expiresAt) return r;
  return (a.expired ??= fail('EXPIRED', `sig expired at ${r.expiresAt} (TLS.time ${r.time} + TLS.expire ${r.expire})`));
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Verifies a v2 UserSig or PrivateMapKey envelope (spec §1.4 recommended verifier); never throws. */
export function verifyUserSig(token: string, o: VerifyUserSigOptions): VerifyResult {
  return settle(analyse(token, o.userId, o.sdkAppId, o.secretKey, o.expectUserbuf === true), o.userId, o.now ?? nowSeconds());
}

interface UserSigVerifierOptions {
  sdkAppId: number;
  secretKey: string;
  /** Cache bound; the oldest entry is evicted when full. Default 100_000. */
  maxEntries?: number;
}

/** Caching UserSig verifier for one app: each distinct token is decoded and HMAC-checked once. */
export class UserSigVerifier {
  readonly sdkAppId: number;
  readonly maxEntries: number;
  readonly #secretKey: string;
  // Keyed by token alone: the token fixes its identifier, so a different userId is always IDENTIFIER_MISMATCH
  // and needs no separate entry (and the hot path allocates no composite key).
  readonly #cache = new Map<string, Analysis>();

  constructor(o: UserSigVerifierOptions) {
    requireInteger('sdkAppId', o.sdkAppId, 0);
    const max = o.maxEntries ?? 100_000;
    requireInteger('maxEntries', max, 1);
    this.sdkAppId = o.sdkAppId;
    this.maxEntries = max;
    this.#secretKey = o.secretKey;
  }

  /** Number of cached tokens. */
  get size(): number {
    return this.#cache.size;
  }

  /** Drops every cached result (e.g. after the SecretKey changed). */
  clear(): void {
    this.#cache.clear();
  }

  /** Verifies `token` for `userId` at `now` (unix seconds, default the current time); never throws. */
  verify(userId: string, token: string, now?: number): VerifyResult {
    const t = now ?? nowSeconds();
    let a = this.#cache.get(token);
    // An entry first seen with a foreign userId has no outcome yet; compute it once the owner shows up.
    if (a === undefined || (a.outcome === undefined && a.fixed === undefined && a.identifier === userId)) {
      a = analyse(token, userId, this.sdkAppId, this.#secretKey, false);
      if (typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_CHARS) this.#remember(token, a);
    }
    return settle(a, userId, t);
  }

  #remember(token: string, a: Analysis): void {
    const cache = this.#cache;
    if (!cache.has(token) && cache.size >= this.maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(token, a);
  }
}
