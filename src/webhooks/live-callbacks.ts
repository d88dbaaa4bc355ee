import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AppSettings } from '../services/apps/settings.ts';
import { callbackTarget, giftCallbackNonBlocking } from './callback-config.ts';
import { callbackUrl } from './dispatcher.ts';

export { liveCallbackToken } from './callback-config.ts';

/** Command word of the synchronous before-send-gift callback. */
export const BEFORE_SEND_GIFT = 'Live.CallbackBeforeSendGift';

/** How long the app server has to answer a before-send-gift callback (Tencent's 2 s). */
export const BEFORE_SEND_GIFT_TIMEOUT_MS = 2000;

/** The `GiftWater` object of Live.CallbackBeforeSendGift. */
export interface GiftWater {
  From_Account: string;
  To_Account: string[];
  /** Unix seconds. */
  Time: number;
  GiftId: string;
  Count: number;
  /** The price of ONE gift. */
  Coins: number;
}

/** The body of Live.CallbackBeforeSendGift (https://trtc.io/document/72210). */
export function beforeSendGiftBody(operator: string, roomId: string, water: GiftWater): Record<string, unknown> {
  return { CallbackCommand: BEFORE_SEND_GIFT, Operator_Account: operator, RoomId: roomId, GiftWater: water };
}

/**
 * The outcome of a before-callback: allowed, or blocked and why; a block by the app server's own answer (`rejected`)
 * carries its ErrorCode and ErrorInfo.
 */
type BeforeVerdict = { allowed: true } | { allowed: false; reason: string; rejected: boolean; errorCode?: number; errorInfo?: string };

/** What the callback needs from the request that triggered it. */
interface BeforeMeta {
  sdkAppId: number;
  clientIp: string;
  platform: string;
}

/**
 * Calls Live.CallbackBeforeSendGift and waits for the verdict; an app that does not want the command (callbackTarget)
 * allows every gift. Otherwise the gift is allowed only by HTTP 200 with a JSON object whose ErrorCode is 0. A non-zero
 * ErrorCode always blocks (`rejected`); a non-200 status, a body that is not a JSON object, a reply without a numeric
 * ErrorCode, no answer within `timeoutMs` or a connection failure block too unless the app set
 * liveCallback.giftNonBlocking or listed Live.CallbackBeforeCallBackNotBlock (giftCallbackNonBlocking).
 * The deadline is a global setTimeout so tests can drive it with mock timers.
 */
export async function callBeforeSendGift(
  settings: Pick<AppSettings, 'callback' | 'liveCallback' | 'callbacks'>,
  body: Record<string, unknown>,
  meta: BeforeMeta,
  timeoutMs = BEFORE_SEND_GIFT_TIMEOUT_MS,
  now = Date.now(),
): Promise<BeforeVerdict> {
  const target = callbackTarget(settings, BEFORE_SEND_GIFT);
  if (!target) return { allowed: true };
  const url = callbackUrl(target.url, { sdk_app_id: meta.sdkAppId, command: BEFORE_SEND_GIFT, client_ip: meta.clientIp, platform: meta.platform }, target.token, now);
  const reply = await post(url, JSON.stringify(body), timeoutMs);
  const code = (reply.json as { ErrorCode?: unknown } | undefined)?.ErrorCode;
  if (!reply.error && code === 0) return { allowed: true };
  if (!reply.error && typeof code === 'number') {
    const info = (reply.json as { ErrorInfo?: unknown }).ErrorInfo;
    const errorInfo = typeof info === 'string' ? info : '';
    return { allowed: false, rejected: true, errorCode: code, errorInfo, reason: `the app server refused the gift: ErrorCode ${code}${errorInfo ? ` (${errorInfo})` : ''}` };
  }
  // The exchange failed (status, body, timeout, connection): block unless the app chose non-blocking.
  if (giftCallbackNonBlocking(settings)) return { allowed: true };
  return { allowed: false, rejected: false, reason: reply.error ?? 'the reply has no numeric ErrorCode' };
}

/** POSTs JSON and reads a JSON reply; `error` says why the exchange failed (status, parse, timeout, connection). */
function post(url: string, body: string, timeoutMs: number): Promise<{ json?: unknown; error?: string }> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ error: `invalid callback URL ${url}` });
      return;
    }
    let settled = false;
    const done = (r: { json?: unknown; error?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(u, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('error', (e) => done({ error: e.message }));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status !== 200) return done({ error: `the callback answered HTTP ${status}` });
        try {
          const json: unknown = JSON.parse(data);
          if (json === null || typeof json !== 'object' || Array.isArray(json)) return done({ error: 'the reply is not a JSON object' });
          done({ json });
        } catch {
          done({ error: 'the reply is not JSON' });
        }
      });
    });
    const timer = setTimeout(() => {
      done({ error: `no reply within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done({ error: `callback request failed: ${e.message}` }));
    req.end(body);
  });
}
