import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The algorithm name that starts a signature v3 Authorization header. */
export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

/** The last element of every TC3 credential scope. */
const TC3_TERMINATOR = 'tc3_request';

/** Signature v1 methods (`SignatureMethod`); HmacSHA1 when the request names none. */
export type V1SignatureMethod = 'HmacSHA1' | 'HmacSHA256';

/** The parts of a `TC3-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header. */
export interface Tc3Authorization {
  secretId: string;
  /** Credential scope date, `YYYY-MM-DD`. */
  date: string;
  /** Credential scope service (the first label of the endpoint the client used, e.g. `iotexplorer`, `127`). */
  service: string;
  /** Lower-case header names, in the order the client listed them. */
  signedHeaders: string[];
  /** 64 lower-case hex digits. */
  signature: string;
}

/** Lower-case hex SHA-256 of a string (UTF-8) or raw bytes. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `YYYY-MM-DD` of a Unix time in seconds, in UTC (the credential scope date). */
export function utcDate(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/**
 * The TC3 CanonicalRequest: method, URI, query, canonical headers (each line ending in "\n"), signed headers, payload hash,
 * joined by "\n".
 */
export function canonicalRequest(p: {
  method: string;
  uri?: string;
  query: string;
  canonicalHeaders: string;
  signedHeaders: string;
  payloadHash: string;
}): string {
  return [p.method.toUpperCase(), p.uri ?? '/', p.query, p.canonicalHeaders, p.signedHeaders, p.payloadHash].join('\n');
}

/** The TC3 StringToSign: algorithm, timestamp (as sent), credential scope, hash of the canonical request. */
export function stringToSign(p: { timestamp: string | number; date: string; service: string; canonicalRequest: string }): string {
  return `${TC3_ALGORITHM}\n${p.timestamp}\n${p.date}/${p.service}/${TC3_TERMINATOR}\n${sha256Hex(p.canonicalRequest)}`;
}

function hmac(key: string | Buffer, msg: string): Buffer {
  return createHmac('sha256', key).update(msg, 'utf8').digest();
}

/** The TC3 signature (lower-case hex): HMAC chain "TC3"+key → date → service → "tc3_request" → StringToSign. */
export function tc3Signature(p: { secretKey: string; date: string; service: string; stringToSign: string }): string {
  const kDate = hmac('TC3' + p.secretKey, p.date);
  const kService = hmac(kDate, p.service);
  const kSigning = hmac(kService, TC3_TERMINATOR);
  return createHmac('sha256', kSigning).update(p.stringToSign, 'utf8').digest('hex');
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * Parses a TC3 Authorization header; null when it is not one or is malformed. Whitespace around the comma-separated
 * fields is tolerated. SignedHeaders must name `content-type` and `host` (the documentation requires both).
 */
export function parseTc3Authorization(header: string | undefined): Tc3Authorization | null {
  if (!header) return null;
  const h = header.trim();
  if (!h.startsWith(TC3_ALGORITHM + ' ')) return null;
  const fields = new Map<string, string>();
  for (const part of h.slice(TC3_ALGORITHM.length + 1).split(',')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    const key = p.slice(0, eq).trim();
    if (fields.has(key)) return null;
    fields.set(key, p.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signed === undefined || signature === undefined || fields.size !== 3) return null;

  const scope = credential.split('/');
  if (scope.length !== 4) return null;
  const [secretId = '', date = '', service = '', terminator] = scope;
  if (terminator !== TC3_TERMINATOR || !DATE.test(date) || service === '') return null;

  const signedHeaders = signed.split(';').map((n) => n.trim().toLowerCase());
  if (signedHeaders.some((n) => !HEADER_NAME.test(n))) return null;
  if (!signedHeaders.includes('content-type') || !signedHeaders.includes('host')) return null;
  if (!HEX64.test(signature)) return null;
  return { secretId, date, service, signedHeaders, signature: signature.toLowerCase() };
}

/** Incoming headers as Node gives them: lower-case names. */
type HeaderMap = Record<string, string | string[] | undefined>;

function headerValue(headers: HeaderMap, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

/** CanonicalHeaders for a SignedHeaders list: `name:lowercase(trim(value))\n` per header, in the list's order. */
export function canonicalHeaders(headers: HeaderMap, signedHeaders: readonly string[], hostOverride?: string): string {
  let out = '';
  for (const name of signedHeaders) {
    const value = name === 'host' && hostOverride !== undefined ? hostOverride : headerValue(headers, name);
    out += `${name}:${value.trim().toLowerCase()}\n`;
  }
  return out;
}

/** Constant-time comparison of two strings (false when their lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The Host values a client may have signed: as sent, and without a trailing `:<port>` (the Node SDK signs the hostname). */
export function hostCandidates(host: string): string[] {
  const stripped = host.replace(/:\d+$/, '');
  return stripped === host ? [host] : [host, stripped];
}

/**
 * Verifies a TC3 signature against the request as received: the raw query, the headers named in SignedHeaders,
 * the SHA-256 of the raw body, the timestamp as sent and the credential scope of the Authorization header.
 * The `host` line is tried as sent and with its port removed.
 */
export function verifyTc3(p: {
  method: string;
  query: string;
  headers: HeaderMap;
  body: Buffer;
  timestamp: string;
  auth: Tc3Authorization;
  secretKey: string;
}): boolean {
  const signedHeaders = p.auth.signedHeaders.join(';');
  const payloadHash = sha256Hex(p.body);
  const hosts = p.auth.signedHeaders.includes('host') ? hostCandidates(headerValue(p.headers, 'host')) : [undefined];
  let ok = false;
  for (const host of hosts) {
    const cr = canonicalRequest({
      method: p.method,
      query: p.query,
      canonicalHeaders: canonicalHeaders(p.headers, p.auth.signedHeaders, host),
      signedHeaders,
      payloadHash,
    });
    const sts = stringToSign({ timestamp: p.timestamp, date: p.auth.date, service: p.auth.service, canonicalRequest: cr });
    // Every candidate is computed and compared, so the time taken does not say which one matched.
    if (safeEqual(tc3Signature({ secretKey: p.secretKey, date: p.auth.date, service: p.auth.service, stringToSign: sts }), p.auth.signature)) ok = true;
  }
  return ok;
}

/**
 * The signature v1 StringToSign: `METHOD + host + "/?" + k=v&…` over every parameter except `Signature`, sorted by key
 * (code-unit order, like the SDKs' `sort()`), with raw (decoded) values; `host` as the client sent it.
 */
export function v1StringToSign(method: string, host: string, params: Record<string, string>): string {
  const keys = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort();
  return `${method.toUpperCase()}${host}/?${keys.map((k) => `${k}=${params[k]}`).join('&')}`;
}

/** The signature v1 value: base64 HMAC-SHA1 or HMAC-SHA256 of the StringToSign with the SecretKey. */
export function v1Signature(secretKey: string, method: V1SignatureMethod, s: string): string {
  return createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey)
    .update(s, 'utf8')
    .digest('base64');
}
