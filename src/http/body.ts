import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TextDecoder } from 'node:util';

/** Why a body was not read: over the limit, not received within the timeout, or the client went away mid-body. */
type BodyRefusal = 'TOO_LARGE' | 'TIMEOUT' | 'ABORTED';

/**
 * Why the body of a request not yet authenticated was not read: also BUSY when the server already holds its budget of
 * such bytes, CONNECTION_FULL when the connection holds its own. Both are decided before the body is read when the
 * request declares its Content-Length.
 */
export type UnauthenticatedRefusal = BodyRefusal | 'BUSY' | 'CONNECTION_FULL';

/** A body read before its request was authenticated: its bytes count against the budgets until `release` (idempotent). */
export interface HeldBody {
  body: Buffer;
  release(): void;
}

/** Limits of body reading shared by every API family. */
export interface BodyLimits {
  /** Most bytes of bodies held at once, across the server, for requests not yet authenticated. */
  unauthenticatedBytes: number;
  /** Most such bytes held at once for one connection. */
  unauthenticatedBytesPerConnection: number;
  /** Longest time a body may take to arrive once the server starts reading it, in ms. */
  timeoutMs: number;
}

/** Built-in limits: the per-connection budget fits the largest documented body (Cloud API TC3, 10 MB). */
export const DEFAULT_BODY_LIMITS: BodyLimits = {
  unauthenticatedBytes: 32 * 1024 * 1024,
  unauthenticatedBytesPerConnection: 10 * 1024 * 1024,
  timeoutMs: 10_000,
};

/** The body length a request declares: its Content-Length, undefined when chunked, 0 when it has no body. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return Number(cl);
  return req.headers['transfer-encoding'] !== undefined ? undefined : 0;
}

/** The bytes one unauthenticated body holds against the server's and its connection's budgets. */
interface Hold {
  /** Takes `n` more bytes, or says which budget is spent. */
  grow(n: number): 'BUSY' | 'CONNECTION_FULL' | null;
  release(): void;
}

const ignore = (): void => {};

/**
 * Reads request bodies with a size limit and a timeout. Bodies of requests not yet authenticated (a Cloud API request
 * before its signature is checked) are held against a server-wide and a per-connection budget of bytes, so that
 * unauthenticated uploads cannot make the server buffer more than that.
 */
export class BodyReader {
  private total = 0;
  private readonly byConnection = new WeakMap<Socket, number>();

  constructor(readonly limits: BodyLimits = DEFAULT_BODY_LIMITS) {}

  /** Bytes currently held for bodies of requests not yet authenticated. */
  get held(): number {
    return this.total;
  }

  /** Reads the body of an authenticated request, up to `limit` bytes. */
  read(req: IncomingMessage, limit: number): Promise<Buffer | BodyRefusal> {
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) return Promise.resolve('TOO_LARGE');
    // Without a hold no budget can refuse it.
    return this.collect(req, limit, null) as Promise<Buffer | BodyRefusal>;
  }

  /** Reads the body of a request not yet authenticated, holding its bytes against the budgets until released. */
  async readUnauthenticated(req: IncomingMessage, limit: number): Promise<HeldBody | UnauthenticatedRefusal> {
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) return 'TOO_LARGE';
    const hold = this.hold(req.socket);
    // A declared length is held whole before any byte is read: a refusal then costs no buffering at all.
    const refused = declared !== undefined ? hold.grow(declared) : null;
    if (refused) return refused;
    const body = await this.collect(req, limit, declared === undefined ? hold : null);
    if (typeof body === 'string') {
      hold.release();
      return body;
    }
    return { body, release: () => hold.release() };
  }

  private hold(socket: Socket): Hold {
    let bytes = 0;
    return {
      grow: (n) => {
        const mine = this.byConnection.get(socket) ?? 0;
        if (mine + n > this.limits.unauthenticatedBytesPerConnection) return 'CONNECTION_FULL';
        if (this.total + n > this.limits.unauthenticatedBytes) return 'BUSY';
        this.byConnection.set(socket, mine + n);
        this.total += n;
        bytes += n;
        return null;
      },
      release: () => {
        if (bytes === 0) return;
        this.total -= bytes;
        const left = (this.byConnection.get(socket) ?? bytes) - bytes;
        if (left > 0) this.byConnection.set(socket, left);
        else this.byConnection.delete(socket);
        bytes = 0;
      },
    };
  }

  private collect(req: IncomingMessage, limit: number, hold: Hold | null): Promise<Buffer | BodyRefusal | 'BUSY' | 'CONNECTION_FULL'> {
    // The client may go away after the reader stops listening: an 'error' without a listener would crash the process.
    if (req.listenerCount('error') === 0) req.on('error', ignore);
    if (req.destroyed) return Promise.resolve('ABORTED');
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (out: Buffer | BodyRefusal | 'BUSY' | 'CONNECTION_FULL'): void => {
        clearTimeout(timer);
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('close', onClose);
        // Left paused, the rest of the body is never read; the caller answers with Connection: close.
        if (typeof out === 'string') req.pause();
        resolve(out);
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) return finish('TOO_LARGE');
        const refused = hold?.grow(chunk.length);
        if (refused) return finish(refused);
        chunks.push(chunk);
      };
      const onEnd = (): void => finish(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      const onClose = (): void => finish('ABORTED');
      const timer = setTimeout(() => finish('TIMEOUT'), this.limits.timeoutMs);
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('close', onClose);
    });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 text; null when the bytes are not valid UTF-8 (never repaired with U+FFFD). */
export function utf8(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

const PERCENT = 0x25;

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** application/x-www-form-urlencoded decoding of one name or value, or null when its bytes are not UTF-8. */
function formDecode(s: string): string | null {
  if (!s.includes('%') && !s.includes('+')) return s;
  const bytes = Buffer.from(s.replaceAll('+', ' '), 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const hi = bytes[i] === PERCENT && i + 2 < bytes.length ? hexDigit(bytes[i + 1]!) : -1;
    const lo = hi >= 0 ? hexDigit(bytes[i + 2]!) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else out[n++] = bytes[i]!;
  }
  return utf8(out.subarray(0, n));
}

/**
 * Parses a query string or a form body like URLSearchParams, except that a name or value whose percent-decoded bytes
 * are not UTF-8 makes the whole string invalid (null) instead of being repaired with U+FFFD: two different byte
 * strings never become one UserID.
 */
export function parseQuery(text: string): URLSearchParams | null {
  const pairs: Array<[string, string]> = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = formDecode(eq < 0 ? part : part.slice(0, eq));
    const value = formDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (name === null || value === null) return null;
    pairs.push([name, value]);
  }
  return new URLSearchParams(pairs);
}

/** Sends a JSON body with its length. */
export function sendJson(res: ServerResponse, status: number, body: string, close = false): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
