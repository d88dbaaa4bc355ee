import type { RawData, WebSocket } from 'ws';
import type { RtcSession } from './session.ts';
import { AUTH_TIMEOUT_MS, CloseCodes, FLOOD_CLOSE_AFTER, FLOOD_MAX_FRAMES, FLOOD_WINDOW_MS, MAX_BUFFERED_BYTES, MAX_REQUEST_ID_CHARS, PROTOCOL_VERSION, RtcErrors, errorReply, okReply, type RtcErrorEntry, type RtcRequest } from './protocol.ts';
import { GatewayError } from '../gateways/gateway-error.ts';
import { serveMessage, type MessageFamily } from '../gateways/message-pipeline.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

/** Answers one request: resolves to the reply's fields, or throws an RtcError (anything else is answered INTERNAL). */
type RequestHandler = (c: RtcConnection, req: RtcRequest) => Promise<Record<string, unknown> | void>;

/** Where the connection reports what the server must know. */
interface ConnectionHooks {
  handle: RequestHandler;
  /** Called once when the socket is closed, whatever closed it: `clean` unless it dropped without a close frame. */
  closed(c: RtcConnection, clean: boolean): void;
  /** Whether `type` is a request type of the protocol (others are counted as unknown). */
  knows(type: string): boolean;
  log: Logger;
  metrics: Metrics;
}

/** A refusal that also closes the connection after the error reply. */
export class RtcFatalError extends GatewayError<RtcErrorEntry> {
  constructor(
    entry: { code: number; message: string },
    readonly closeCode: number,
    message?: string,
  ) {
    super(entry, message);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * One client socket: frame intake (flood window, JSON parse, envelope checks), requests answered one at a time in
 * arrival order, replies and events written in the order they are produced, and the auth deadline.
 */
export class RtcConnection {
  /** The session this connection carries, once authenticated. */
  session: RtcSession | null = null;
  private windowStart = 0;
  private frames = 0;
  private chain: Promise<void> = Promise.resolve();
  private authTimer: NodeJS.Timeout | undefined;
  private done = false;
  /** Closed by this server (not by the client or the network). */
  private closedHere = false;
  private afterReplyFns: Array<() => void> = [];
  private readonly family: MessageFamily;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string | undefined,
    private readonly hooks: ConnectionHooks,
  ) {
    this.family = { name: 'rtc', labelKey: 'type', internal: RtcErrors.INTERNAL, knows: (t) => hooks.knows(t) };
    this.authTimer = setTimeout(() => this.close(CloseCodes.AUTH, 'auth not completed in time'), AUTH_TIMEOUT_MS);
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('close', (code) => this.onClosed(code));
    // The ws library reports frame errors (oversized, invalid) here and then drops the socket: that is no network loss.
    ws.on('error', () => (this.closedHere = true));
  }

  /** Whether the socket is gone or going. */
  get closed(): boolean {
    return this.done;
  }

  /** Whether a session is attached. */
  get authed(): boolean {
    return this.session !== null;
  }

  /** Attaches the session and stops the auth deadline. */
  authenticated(session: RtcSession): void {
    this.session = session;
    clearTimeout(this.authTimer);
  }

  /** Runs `fn` right after the reply to the request being handled is written (events that must follow the reply). */
  afterReply(fn: () => void): void {
    this.afterReplyFns.push(fn);
  }

  /** Writes one message; a client that lets MAX_BUFFERED_BYTES pile up is closed. */
  send(text: string): void {
    if (this.done || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) return this.close(CloseCodes.SLOW_CONSUMER, 'client too slow to read its events');
    this.ws.send(text);
  }

  /** Closes the socket with a protocol close code. */
  close(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.closedHere = true;
    clearTimeout(this.authTimer);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  private onClosed(code: number): void {
    this.done = true;
    clearTimeout(this.authTimer);
    // 1006: the socket ended without a close frame (network loss); the session may be resumed.
    this.hooks.closed(this, this.closedHere || code !== 1006);
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.done) return;
    const now = Date.now();
    if (now - this.windowStart >= FLOOD_WINDOW_MS) {
      this.windowStart = now;
      this.frames = 0;
    }
    if (++this.frames > FLOOD_MAX_FRAMES) {
      if (this.frames > FLOOD_MAX_FRAMES + FLOOD_CLOSE_AFTER) return this.close(CloseCodes.FLOOD, 'too many frames');
      return this.send(errorReply(null, RtcErrors.RATE_LIMITED.code, RtcErrors.RATE_LIMITED.message));
    }
    const req = this.parse(data, isBinary);
    if (!req) return;
    this.chain = this.chain.then(() => this.run(req));
  }

  /** The request in a frame, or null after an error reply. */
  private parse(data: RawData, isBinary: boolean): RtcRequest | null {
    const fail = (re: string | null, e: { code: number; message: string }, message = e.message): null => {
      this.send(errorReply(re, e.code, message));
      return null;
    };
    if (isBinary) return fail(null, RtcErrors.MALFORMED, 'binary frames are not part of the protocol');
    let m: unknown;
    try {
      m = JSON.parse(rawText(data));
    } catch {
      return fail(null, RtcErrors.MALFORMED, 'frame is not valid JSON');
    }
    if (!isObject(m)) return fail(null, RtcErrors.MALFORMED);
    const id = m.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_REQUEST_ID_CHARS) {
      return fail(null, RtcErrors.INVALID_ARGUMENT, `id must be a string of 1-${MAX_REQUEST_ID_CHARS} characters`);
    }
    if (m.v !== PROTOCOL_VERSION) return fail(id, RtcErrors.BAD_VERSION);
    if (typeof m.type !== 'string' || m.type === '') return fail(id, RtcErrors.UNKNOWN_TYPE, 'type is missing');
    return m as RtcRequest;
  }

  private run(req: RtcRequest): Promise<void> {
    if (this.done) return Promise.resolve();
    const who = { sdkAppId: this.session?.sdkAppId, userId: this.session?.userId };
    return serveMessage(this.family, this.hooks, req.type, who, () => this.hooks.handle(this, req), {
      ok: (body) => {
        this.send(okReply(req.id, body ?? {}));
        const fns = this.afterReplyFns;
        this.afterReplyFns = [];
        for (const fn of fns) fn();
      },
      refused: (err) => {
        this.afterReplyFns = [];
        this.send(errorReply(req.id, Number(err.entry.code), err.message));
        if (err instanceof RtcFatalError) this.close(err.closeCode, err.message);
      },
    });
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
