// The client's connection: socket, auth, request/reply matching, event sequence numbers, and reconnection with
// session resumption (docs/realtime-protocol.md "Sessions and resumption").
import { backoffDelay, DEFAULT_MAX_DELAY_MS, DEFAULT_MIN_DELAY_MS } from './backoff.ts';
import { Emitter } from './emitter.ts';
import { CONNECTION_LOST, REQUEST_TIMEOUT, TrtcdError } from './errors.ts';
import type { AuthReply, EnterRoomOptions, LostRoom, RoomRef, TrtcdClientOptions, TrtcdEvents, WebSocketConstructor, WebSocketLike } from './types.ts';

/** Protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;
/** Default `requestTimeoutMs`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Close codes after which the client does not reconnect: auth refused, UserSig expired, session resumed elsewhere. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4409]);

const OPEN = 1;

/** Where the connection is: before connect(), opening the first socket, authenticated, between sockets, or done. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

type Body = Record<string, unknown>;

interface Job {
  type: string;
  body: Body;
  resolve(v: Body): void;
  reject(e: TrtcdError): void;
  timer?: ReturnType<typeof setTimeout>;
  id?: string;
}

/** The two wire fields of a room. */
export function roomFields(r: RoomRef): RoomRef {
  return 'roomId' in r ? { roomId: r.roomId } : { strRoomId: r.strRoomId };
}

function roomKey(r: RoomRef): string {
  return 'roomId' in r ? `n:${r.roomId}` : `s:${r.strRoomId}`;
}

function isObject(v: unknown): v is Body {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Socket lifecycle and request plumbing under TrtcdClient. Requests made while not connected wait for the connection
 * (up to requestTimeoutMs); requests in flight when the socket drops reject with CONNECTION_LOST.
 */
export class Connection extends Emitter<TrtcdEvents> {
  private ws: WebSocketLike | null = null;
  private st: ConnectionState = 'idle';
  /** Set once auth succeeded and, after a reconnection, the rooms are back: queued requests may go. */
  private ready = false;
  private userSig: string;
  private resumeToken: string | undefined;
  private lastSeq = 0;
  private nextId = 0;
  private attempt = 0;
  private intentional = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly inFlight = new Map<string, Job>();
  private queue: Job[] = [];
  /** TRTC rooms and live rooms the session is in, to enter again when a reconnection does not resume it. */
  private readonly rooms = new Map<string, { room: RoomRef; opts: EnterRoomOptions }>();
  private readonly liveRooms = new Set<string>();
  private readonly WS: WebSocketConstructor;
  private readonly timeoutMs: number;

  /** A connection that does nothing until connect(). */
  constructor(protected readonly options: TrtcdClientOptions) {
    super();
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('no WebSocket implementation: pass options.WebSocket (in Node 20, the `ws` package)');
    this.WS = WS;
    this.userSig = options.userSig;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** The connection's state. */
  get state(): ConnectionState {
    return this.st;
  }

  /** Opens the socket and authenticates; resolves to the auth reply, rejects with the refusal (TrtcdError). */
  async connect(): Promise<AuthReply> {
    if (this.st !== 'idle' && this.st !== 'closed') throw new TrtcdError(CONNECTION_LOST, `cannot connect: the client is ${this.st}`, 'auth');
    this.st = 'connecting';
    this.intentional = false;
    try {
      const reply = await this.open();
      if (this.st !== 'connecting' || this.ws === null) throw new TrtcdError(CONNECTION_LOST, 'connection closed while connecting', 'auth');
      this.st = 'open';
      this.emit('connected', reply);
      this.becomeReady();
      return reply;
    } catch (err) {
      if (this.st === 'connecting') {
        const ws = this.ws;
        this.ws = null;
        ws?.close();
        // A refused auth is followed by the server's 4401 close, which this socket no longer waits for.
        const refused = err instanceof TrtcdError && err.code !== CONNECTION_LOST && err.code !== REQUEST_TIMEOUT;
        this.finish(refused ? 4401 : 1006, err instanceof Error ? err.message : String(err));
      }
      throw err;
    }
  }

  /** Closes the connection for good (close code 1000); resolves once it is closed. Pending requests reject with CONNECTION_LOST. */
  close(): Promise<void> {
    if (this.st === 'idle' || this.st === 'closed') return Promise.resolve();
    this.intentional = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    if (!ws) {
      this.finish(1000, 'closed by the client');
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.once('closed', () => resolve());
      ws.close(1000, 'closed by the client');
    });
  }

  /** Ends the session on the server (rooms left with reason "leave"), then closes; resolves once closed. */
  async logout(): Promise<void> {
    if (!this.ready) return this.close();
    this.intentional = true;
    // Whatever the reply (an older server answers 40003), the close that follows ends the session too.
    await this.request('logout').catch(() => undefined);
    await this.close();
  }

  /** Renews the UserSig of the session; the new one is also used by later reconnections. */
  async renewUserSig(userSig: string): Promise<{ expiresAt: number }> {
    if (!this.ready) this.userSig = userSig;
    const reply = (await this.request('auth.renew', { userSig })) as { expiresAt: number };
    this.userSig = userSig;
    return reply;
  }

  /** Sends a request once the connection is ready and resolves to the reply's fields (without v/re/ok). */
  protected request(type: string, body: Body = {}): Promise<Body> {
    if (this.st === 'idle' || this.st === 'closed') return Promise.reject(new TrtcdError(CONNECTION_LOST, 'not connected: call connect() first', type));
    return new Promise((resolve, reject) => {
      const job: Job = { type, body, resolve, reject };
      job.timer = setTimeout(() => this.settle(job, new TrtcdError(REQUEST_TIMEOUT, `no reply to ${type} within ${this.timeoutMs} ms`, type)), this.timeoutMs);
      if (this.ready) this.transmit(job);
      else this.queue.push(job);
    });
  }

  /** Sends a request now, on the current socket, whether or not the connection is ready (auth, room restoration). */
  private send(type: string, body: Body): Promise<Body> {
    return new Promise((resolve, reject) => {
      const job: Job = { type, body, resolve, reject };
      job.timer = setTimeout(() => this.settle(job, new TrtcdError(REQUEST_TIMEOUT, `no reply to ${type} within ${this.timeoutMs} ms`, type)), this.timeoutMs);
      this.transmit(job);
    });
  }

  private transmit(job: Job): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return this.settle(job, new TrtcdError(CONNECTION_LOST, 'connection lost', job.type));
    job.id = (++this.nextId).toString(36);
    this.inFlight.set(job.id, job);
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, id: job.id, type: job.type, ...job.body }));
  }

  private settle(job: Job, result: Body | TrtcdError): void {
    clearTimeout(job.timer);
    if (job.id !== undefined) this.inFlight.delete(job.id);
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    if (result instanceof TrtcdError) job.reject(result);
    else job.resolve(result);
  }

  /** Opens a socket and authenticates on it (resuming the session when there is one). */
  private open(): Promise<AuthReply> {
    return new Promise((resolve, reject) => {
      const ws = new this.WS(this.options.url);
      this.ws = ws;
      const deadline = setTimeout(() => {
        reject(new TrtcdError(REQUEST_TIMEOUT, `not connected within ${this.timeoutMs} ms`, 'auth'));
        ws.close();
      }, this.timeoutMs);
      ws.onopen = () => {
        const body: Body = { sdkAppId: this.options.sdkAppId, userId: this.options.userId, userSig: this.userSig };
        if (this.options.platform !== undefined) body.platform = this.options.platform;
        if (this.resumeToken !== undefined) Object.assign(body, { resumeToken: this.resumeToken, lastSeq: this.lastSeq });
        this.send('auth', body).then(
          (r) => (clearTimeout(deadline), resolve(r as unknown as AuthReply)),
          (e: TrtcdError) => (clearTimeout(deadline), reject(e)),
        );
      };
      ws.onmessage = (ev: { data: unknown }) => {
        if (this.ws === ws) this.onFrame(ev.data);
      };
      ws.onerror = () => undefined;
      ws.onclose = (ev: { code: number; reason: string }) => {
        clearTimeout(deadline);
        reject(new TrtcdError(CONNECTION_LOST, `connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, 'auth'));
        if (this.ws === ws) this.onSocketClosed(ev.code, ev.reason);
      };
    });
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') return;
    let m: unknown;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(m)) return;
    if ('re' in m) return this.onReply(m);
    // Server events are dotted names; the others (connected, closed, …) are the client's own.
    if (typeof m.type !== 'string' || !m.type.includes('.')) return;
    if (typeof m.seq === 'number') {
      // Events already processed come again after a resume: skip them.
      if (m.seq <= this.lastSeq) return;
      this.lastSeq = m.seq;
    }
    if (m.type === 'room.removed' && isObject(m.room)) this.rooms.delete(roomKey(m.room as RoomRef));
    if (m.type === 'live.removed' && typeof m.roomId === 'string') this.liveRooms.delete(m.roomId);
    this.emit(m.type as keyof TrtcdEvents, m as never);
  }

  private onReply(m: Body): void {
    const job = typeof m.re === 'string' ? this.inFlight.get(m.re) : undefined;
    if (!job) {
      if (m.ok === false && m.re === null) this.emit('protocolError', { code: Number(m.code), message: String(m.message) });
      return;
    }
    if (m.ok !== true) return this.settle(job, new TrtcdError(Number(m.code), String(m.message ?? 'request refused'), job.type));
    const { v: _v, re: _re, ok: _ok, ...body } = m;
    // Bookkeeping happens as the reply is read, before any later frame: events after a new session's reply restart at seq 1.
    if (job.type === 'auth') {
      if (typeof body.resumeToken === 'string') this.resumeToken = body.resumeToken;
      if (body.resumed !== true) this.lastSeq = 0;
    } else if (job.type === 'room.enter') {
      const { role, privateMapKey } = job.body as EnterRoomOptions;
      this.rooms.set(roomKey(job.body as RoomRef), { room: roomFields(job.body as RoomRef), opts: { role, privateMapKey } });
    } else if (job.type === 'room.leave') {
      this.rooms.delete(roomKey(job.body as RoomRef));
    } else if (job.type === 'live.enter' || job.type === 'live.create') {
      this.liveRooms.add(job.body.roomId as string);
    } else if (job.type === 'live.leave') {
      this.liveRooms.delete(job.body.roomId as string);
    }
    this.settle(job, body);
  }

  private onSocketClosed(code: number, reason: string): void {
    this.ws = null;
    this.ready = false;
    for (const job of [...this.inFlight.values()]) this.settle(job, new TrtcdError(CONNECTION_LOST, `connection lost (${code})`, job.type));
    if (this.st === 'closed') return;
    // The first connect() reports its own failure; close()/logout() asked for this close.
    if (this.st === 'connecting' || this.intentional) return this.finish(code, reason);
    if (this.st === 'open') this.emit('disconnected', { code, reason });
    const rc = this.options.reconnect;
    if (rc === false || FINAL_CLOSE_CODES.has(code)) return this.finish(code, reason);
    const attempt = ++this.attempt;
    if (rc?.maxAttempts !== undefined && attempt > rc.maxAttempts) return this.finish(code, `gave up reconnecting after ${rc.maxAttempts} attempts`);
    this.st = 'reconnecting';
    const delayMs = backoffDelay(attempt, rc?.minDelayMs ?? DEFAULT_MIN_DELAY_MS, rc?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    this.emit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => void this.reconnect(), delayMs);
  }

  /** One reconnection attempt; a failed one ends in onSocketClosed, which schedules the next. */
  private async reconnect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.st !== 'reconnecting') return;
    let reply: AuthReply;
    try {
      reply = await this.open();
    } catch {
      return;
    }
    // The socket may have dropped between the reply and now: onSocketClosed scheduled the next attempt then.
    const ws = this.ws;
    if (ws === null || this.st !== 'reconnecting') return;
    this.st = 'open';
    this.attempt = 0;
    this.emit('connected', reply);
    const lost = reply.resumed === true ? [] : await this.restore();
    if (this.ws !== ws || this.st !== 'open' || lost === null) return;
    this.becomeReady();
    this.emit('resumed', { resumed: reply.resumed === true, lost });
  }

  /** Enters every TRTC room and live room again, in the order they were entered; null if the socket dropped meanwhile. */
  private async restore(): Promise<LostRoom[] | null> {
    const lost: LostRoom[] = [];
    for (const [key, { room, opts }] of [...this.rooms]) {
      try {
        await this.send('room.enter', { ...room, ...opts });
      } catch (err) {
        const e = err as TrtcdError;
        if (e.code === CONNECTION_LOST) return null;
        this.rooms.delete(key);
        lost.push({ room, code: e.code, message: e.message });
      }
    }
    for (const roomId of [...this.liveRooms]) {
      try {
        await this.send('live.enter', { roomId });
      } catch (err) {
        const e = err as TrtcdError;
        if (e.code === CONNECTION_LOST) return null;
        this.liveRooms.delete(roomId);
        lost.push({ liveRoomId: roomId, code: e.code, message: e.message });
      }
    }
    return lost;
  }

  private becomeReady(): void {
    this.ready = true;
    const queued = this.queue;
    this.queue = [];
    for (const job of queued) this.transmit(job);
  }

  /** The end: every waiting request rejects, the session is forgotten, `closed` is emitted. */
  private finish(code: number, reason: string): void {
    if (this.st === 'closed') return;
    this.st = 'closed';
    this.ready = false;
    clearTimeout(this.reconnectTimer);
    for (const job of [...this.inFlight.values(), ...this.queue]) this.settle(job, new TrtcdError(CONNECTION_LOST, `connection closed (${code})`, job.type));
    this.rooms.clear();
    this.liveRooms.clear();
    this.resumeToken = undefined;
    this.lastSeq = 0;
    this.attempt = 0;
    this.emit('closed', { code, reason });
  }
}
