// The session ticket (A2Key) a Chat login returns: the SDK sends it instead of the UserSig on every later request
// and on its re-login after a reconnect. It is signed with the app's key, so any node (and a restarted one) accepts it.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A ticket's holder. */
interface Ticket {
  userId: string;
  /** Unix seconds after which the ticket is refused (the UserSig's own expiry). */
  expiresAt: number;
}

function mac(secretKey: string, sdkAppId: number, body: string): string {
  return createHmac('sha256', secretKey).update(`a2\n${sdkAppId}\n${body}`).digest('base64url').slice(0, 32);
}

/** Issues a ticket for `userId` of `sdkAppId`, valid until `expiresAt` (unix s). */
export function issueA2Key(secretKey: string, sdkAppId: number, t: Ticket): string {
  const body = `${t.expiresAt}.${Buffer.from(t.userId).toString('base64url')}`;
  return `${body}.${mac(secretKey, sdkAppId, body)}`;
}

/** The ticket's holder, or null when it was not issued with this key and app (expiry is the caller's check). */
export function readA2Key(secretKey: string, sdkAppId: number, a2: string): Ticket | null {
  const parts = a2.split('.');
  if (parts.length !== 3 || !/^\d{1,12}$/.test(parts[0]!)) return null;
  const body = `${parts[0]}.${parts[1]}`;
  const want = Buffer.from(mac(secretKey, sdkAppId, body));
  const got = Buffer.from(parts[2]!);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  return { expiresAt: Number(parts[0]), userId: Buffer.from(parts[1]!, 'base64url').toString() };
}
