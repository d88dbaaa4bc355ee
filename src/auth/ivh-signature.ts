import { createHmac } from 'node:crypto';

/**
 * The string an IVH (AI Digital Human aPaaS) request signs: every query parameter except `signature`, sorted by key,
 * joined as `k=v&k=v` with the raw (decoded, un-encoded) values. Body parameters are never signed.
 * HTTPS: `appkey=…&timestamp=…`; the command-channel WebSocket: `appkey=…&requestid=<SessionId>&timestamp=…`.
 */
export function ivhSigningString(query: Record<string, string>): string {
  return Object.keys(query)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join('&');
}

/** `Base64(HMAC-SHA256(key = accessToken, signingString))`, standard base64 with `+ / =` (URL-encode it in a query). */
export function ivhSignature(accessToken: string, signingString: string): string {
  return createHmac('sha256', accessToken).update(signingString).digest('base64');
}
