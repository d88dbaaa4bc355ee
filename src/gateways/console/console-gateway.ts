// The developer console at /console/ (docs/console.md): its pages and a small JSON API, behind the console token that
// trtcd logs at start (every app) or an app's SDKAppID and SecretKey (that app only). Nothing under /console/ answers
// without one. A login sets an HttpOnly, SameSite=Strict cookie; the API also takes `Authorization: Bearer <token>`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyReader } from '../../http/body.ts';
import type { RateLimiter } from '../../limits/rate-limiter.ts';
import type { Logger } from '../../logger.ts';
import type { App } from '../../services/apps/apps-service.ts';
import { packageRoot } from '../../package-root.ts';
import { send, sendFile } from '../web/static.ts';
import { ConsoleErrors, type ConsoleError } from './errors.ts';
import { MAX_SDP_CHARS } from '../../realtime/media/sdp.ts';
import { STREAM_TYPES, type StreamType } from '../../realtime/media/sfu.ts';
import { MAX_NUMERIC_ROOM_ID, type RoomRef } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import { callbackView, consoleSnapshot, type ConsoleSources } from './snapshot.ts';

/** Where the console is served. */
export const CONSOLE_PATH = '/console/';
const COOKIE = 'trtcd_console';
/** Largest login form accepted, bytes. */
const LOGIN_BYTES = 4096;
/** Failed logins allowed per client address and minute. */
const FAILED_LOGINS_PER_MINUTE = 10;
const HTML = 'text/html; charset=utf-8';
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'web/console/index.html', type: HTML },
  'index.html': { file: 'web/console/index.html', type: HTML },
  'console.js': { file: 'web/console/console.js', type: 'text/javascript; charset=utf-8' },
  'console.css': { file: 'web/console/console.css', type: 'text/css; charset=utf-8' },
};
const RETRY = /^api\/apps\/(\d{1,10})\/callbacks\/(\d{1,15})\/retry$/;
const PREVIEWS = /^api\/apps\/(\d{1,10})\/previews$/;
const PREVIEW = /^api\/previews\/(s\d{1,15})$/;
/** Largest preview request: an SDP offer and the stream's names. */
const PREVIEW_BYTES = MAX_SDP_CHARS + 1024;

/** Whether a request path belongs to the console. */
export function isConsolePath(url: string): boolean {
  return url === '/console' || url.startsWith('/console/') || url.startsWith('/console?');
}

/** Who a request is: the token holder (every app) or one app's admin. */
type Viewer = { all: true } | { all: false; sdkAppId: number };

/** What the console gateway needs. */
interface ConsoleDeps extends ConsoleSources {
  /** The console token ('' when only app credentials open the console). */
  token: string;
  bodies: BodyReader;
  limiter: RateLimiter;
  log: Logger;
  /** Whether the server speaks https (the cookie is then Secure). */
  secure: boolean;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The cookie value that proves an app's SecretKey without holding it; a new SecretKey voids it. */
function appProof(app: App): string {
  return createHmac('sha256', app.secretKey).update('trtcd console').digest('base64url');
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The developer console's HTTP handler. */
export class ConsoleGateway {
  constructor(private readonly d: ConsoleDeps) {}

  /** Answers a request under /console. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    void this.route(req, res).catch((err: unknown) => {
      this.d.log.warn({ err }, 'console request failed');
      if (!res.headersSent) this.fail(req, res, ConsoleErrors.UNAVAILABLE, true);
      else res.destroy();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://console.invalid');
    } catch {
      return this.fail(req, res, ConsoleErrors.BAD_REQUEST, true);
    }
    if (url.pathname === '/console') return send(req, res, 301, { Location: CONSOLE_PATH + url.search }, Buffer.alloc(0));
    const sub = url.pathname.slice(CONSOLE_PATH.length);
    const api = sub.startsWith('api/');
    if (sub === 'login' || sub === 'logout') {
      if (req.method !== 'POST') return this.fail(req, res, ConsoleErrors.METHOD, false, 'POST');
      return sub === 'login' ? this.login(req, res) : this.redirect(res, CONSOLE_PATH, `${COOKIE}=; Max-Age=0`);
    }
    // The address trtcd logs: the token in the query opens a session and is taken out of the address bar.
    const token = url.searchParams.get('token');
    if (sub === '' && token !== null && req.method === 'GET') {
      if (this.d.token && same(token, this.d.token)) return this.redirect(res, CONSOLE_PATH, this.cookie(`t.${token}`));
      return this.refuse(req, res, ConsoleErrors.BAD_LOGIN, false);
    }
    const viewer = this.viewer(req);
    if (!viewer) return this.fail(req, res, ConsoleErrors.UNAUTHORIZED, api);
    if (!api) {
      const entry = FILES[sub];
      if (!entry) return this.fail(req, res, ConsoleErrors.NOT_FOUND, false);
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.fail(req, res, ConsoleErrors.METHOD, false, 'GET, HEAD');
      return sendFile(req, res, packageRoot(), entry);
    }
    if (sub === 'api/state') {
      if (req.method !== 'GET') return this.fail(req, res, ConsoleErrors.METHOD, true, 'GET');
      const apps = viewer.all ? this.d.apps.list() : [this.d.apps.get(viewer.sdkAppId)].filter((a): a is App => a !== undefined);
      const shown = url.searchParams.get('sdkAppId');
      const snapshot = await consoleSnapshot(this.d, apps, shown !== null && /^\d{1,10}$/.test(shown) ? Number(shown) : undefined);
      return this.json(res, 200, { viewer: viewer.all ? 'token' : 'app', ...snapshot });
    }
    const retry = RETRY.exec(sub);
    if (retry) {
      if (req.method !== 'POST') return this.fail(req, res, ConsoleErrors.METHOD, true, 'POST');
      const sdkAppId = Number(retry[1]);
      // Another app's callback is as unknown to an app's admin as one that does not exist.
      const result = viewer.all || viewer.sdkAppId === sdkAppId ? await this.d.callbacks.retryNow(sdkAppId, Number(retry[2])) : undefined;
      if (!result) return this.fail(req, res, ConsoleErrors.NO_CALLBACK, true);
      this.d.log.info({ sdkAppId, id: Number(retry[2]), retried: result.retried }, 'callback retried from the console');
      return this.json(res, 200, { retried: result.retried, callback: callbackView(result.row) });
    }
    const previews = PREVIEWS.exec(sub);
    if (previews) {
      if (req.method !== 'POST') return this.fail(req, res, ConsoleErrors.METHOD, true, 'POST');
      const sdkAppId = Number(previews[1]);
      if (!(viewer.all ? this.d.apps.get(sdkAppId) : viewer.sdkAppId === sdkAppId)) return this.fail(req, res, ConsoleErrors.NO_STREAM, true);
      return this.openPreview(req, res, sdkAppId);
    }
    const preview = PREVIEW.exec(sub);
    if (preview) {
      if (req.method !== 'DELETE') return this.fail(req, res, ConsoleErrors.METHOD, true, 'DELETE');
      // Another app's preview is as unknown to an app's admin as one that does not exist.
      if (!this.d.previews.close(preview[1]!, viewer.all ? undefined : viewer.sdkAppId)) return this.fail(req, res, ConsoleErrors.NO_PREVIEW, true);
      res.writeHead(204, { 'Cache-Control': 'no-store' }).end();
      return;
    }
    return this.fail(req, res, ConsoleErrors.NOT_FOUND, true);
  }

  /** POST /console/api/apps/<id>/previews: `{roomId | strRoomId, userId, stream?, sdp}` → `{previewId, sdp}`. */
  private async openPreview(req: IncomingMessage, res: ServerResponse, sdkAppId: number): Promise<void> {
    const body = await this.d.bodies.read(req, PREVIEW_BYTES);
    if (!Buffer.isBuffer(body)) return this.fail(req, res, body === 'TOO_LARGE' ? ConsoleErrors.TOO_LARGE : ConsoleErrors.BAD_REQUEST, true);
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.fail(req, res, ConsoleErrors.BAD_REQUEST, true);
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) return this.fail(req, res, ConsoleErrors.BAD_REQUEST, true);
    const room = previewRoom(m);
    const stream = m.stream ?? 'main';
    if (!room || typeof m.userId !== 'string' || m.userId.length === 0 || m.userId.length > 32 || !STREAM_TYPES.includes(stream as StreamType) || typeof m.sdp !== 'string' || m.sdp.length === 0) {
      return this.fail(req, res, ConsoleErrors.BAD_REQUEST, true);
    }
    const opened = await this.d.previews.open(sdkAppId, room, m.userId, stream as StreamType, m.sdp);
    if (opened === 'NO_STREAM') return this.fail(req, res, ConsoleErrors.NO_STREAM, true);
    if (opened === 'TOO_MANY') return this.fail(req, res, ConsoleErrors.TOO_MANY_PREVIEWS, true);
    if (opened === 'BAD_OFFER') return this.fail(req, res, ConsoleErrors.BAD_OFFER, true);
    return this.json(res, 200, { previewId: opened.id, sdp: opened.sdp });
  }

  /** The session of a request: its cookie, or a Bearer token. */
  private viewer(req: IncomingMessage): Viewer | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return this.d.token && same(auth.slice(7).trim(), this.d.token) ? { all: true } : undefined;
    const c = cookieOf(req);
    if (!c) return undefined;
    if (c.startsWith('t.')) return this.d.token && same(c.slice(2), this.d.token) ? { all: true } : undefined;
    const m = /^a\.(\d{1,10})\.([\w-]{43})$/.exec(c);
    const app = m ? this.d.apps.get(Number(m[1])) : undefined;
    return app && same(m![2]!, appProof(app)) ? { all: false, sdkAppId: app.sdkAppId } : undefined;
  }

  /** POST /console/login with `token`, or `sdkAppId` and `secretKey` (a form or JSON). */
  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.d.bodies.read(req, LOGIN_BYTES);
    if (!Buffer.isBuffer(body)) return this.fail(req, res, body === 'TOO_LARGE' ? ConsoleErrors.TOO_LARGE : ConsoleErrors.BAD_REQUEST, false);
    const text = body.toString('utf8');
    let fields: Record<string, unknown>;
    try {
      const json = /json/i.test(req.headers['content-type'] ?? '') || /^\s*[[{]/.test(text);
      fields = json ? (JSON.parse(text) as Record<string, unknown>) : Object.fromEntries(new URLSearchParams(text));
    } catch {
      return this.fail(req, res, ConsoleErrors.BAD_REQUEST, false);
    }
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields)) return this.fail(req, res, ConsoleErrors.BAD_REQUEST, false);
    const str = (k: string): string => (typeof fields[k] === 'string' ? (fields[k] as string) : typeof fields[k] === 'number' ? String(fields[k]) : '');
    const token = str('token');
    if (token) {
      if (this.d.token && same(token, this.d.token)) return this.redirect(res, CONSOLE_PATH, this.cookie(`t.${token}`));
      return this.refuse(req, res, ConsoleErrors.BAD_LOGIN, false);
    }
    const id = str('sdkAppId');
    const app = /^\d{1,10}$/.test(id) ? this.d.apps.get(Number(id)) : undefined;
    if (app && same(str('secretKey'), app.secretKey)) return this.redirect(res, CONSOLE_PATH, this.cookie(`a.${app.sdkAppId}.${appProof(app)}`));
    return this.refuse(req, res, ConsoleErrors.BAD_LOGIN, false);
  }

  /** A failed login: counted per client address, answered 429 once too many failed within a minute. */
  private async refuse(req: IncomingMessage, res: ServerResponse, e: ConsoleError, api: boolean): Promise<void> {
    const allowed = await this.d.limiter.consume('console-login', req.socket.remoteAddress ?? '', FAILED_LOGINS_PER_MINUTE, 60).catch(() => false);
    this.fail(req, res, allowed ? e : ConsoleErrors.RATE_LIMITED, api);
  }

  private cookie(value: string): string {
    return `${COOKIE}=${value}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict${this.d.secure ? '; Secure' : ''}`;
  }

  private redirect(res: ServerResponse, location: string, cookie: string): void {
    res.writeHead(303, { Location: location, 'Set-Cookie': cookie, 'Content-Length': '0', 'Cache-Control': 'no-store' });
    res.end();
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    res.end(text);
  }

  /** The error as JSON (the API) or as a page with the login form (the pages). */
  private fail(req: IncomingMessage, res: ServerResponse, e: ConsoleError, api: boolean, allow?: string): void {
    const extra: Record<string, string> = allow ? { Allow: allow } : {};
    if (api) {
      const text = JSON.stringify({ error: { code: e.code, message: e.message } });
      return send(req, res, e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra }, Buffer.from(text));
    }
    send(req, res, e.status, { 'Content-Type': HTML, 'Cache-Control': 'no-store', ...extra }, Buffer.from(loginPage(e)));
  }
}

/** The room of a preview request: exactly one of roomId (1–4294967294) and strRoomId (1–64 bytes). */
function previewRoom(m: Record<string, unknown>): RoomRef | undefined {
  if ((m.roomId === undefined) === (m.strRoomId === undefined)) return undefined;
  if (m.roomId !== undefined) return Number.isInteger(m.roomId) && (m.roomId as number) >= 1 && (m.roomId as number) <= MAX_NUMERIC_ROOM_ID ? { roomId: m.roomId as number } : undefined;
  return typeof m.strRoomId === 'string' && m.strRoomId.length > 0 && Buffer.byteLength(m.strRoomId) <= 64 ? { strRoomId: m.strRoomId } : undefined;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page of a refusal: what went wrong, and the two ways in. */
function loginPage(e: ConsoleError): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trtcd console: ${escapeHtml(e.code)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="/favicon.ico">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.5rem 0}input{width:100%;padding:.3rem}button{margin-top:.5rem}</style></head>
<body><h1>trtcd console</h1><p id="error" data-code="${escapeHtml(e.code)}">${escapeHtml(e.message)}.</p>
<p>Open the console address that trtcd logged at start (<code>console: …/console/?token=…</code>), or sign in with one app's credentials:</p>
<form method="post" action="/console/login"><label>SDKAppID <input name="sdkAppId" inputmode="numeric" autocomplete="username"></label>
<label>SecretKey <input name="secretKey" type="password" autocomplete="current-password"></label><button type="submit">Sign in</button></form>
<form method="post" action="/console/login"><label>Console token <input name="token" type="password"></label><button type="submit">Open</button></form>
</body></html>
`;
}
