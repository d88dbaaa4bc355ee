import { createHash } from 'node:crypto';

/** Tencent callback authentication: lowercase hex SHA-256 of the token followed by RequestTime (unix seconds). */
export function callbackSign(token: string, requestTime: number): string {
  return createHash('sha256').update(`${token}${requestTime}`).digest('hex');
}
