import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { RequestIds } from '../../http/request-ids.ts';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Bus } from '../../bus/bus.ts';
import { parseQuery } from '../../http/body.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import { IVH_CLOSED_TOPIC, IVH_EVENT_TOPIC, type IvhEvent } from '../../services/digital-human/session.ts';
import { DomainError } from '../../services/errors.ts';
import { IvhErrors, domainToIvh, type IvhErrorEntry } from './errors.ts';
import { authenticateIvh, IVH_BODY_LIMIT, IVH_MAX_REQ_ID, ivhEnvelope, type IvhSessions } from './gateway.ts';
import { GatewayError } from '../gateway-error.ts';

/** The command channel (https://www.tencentcloud.com/document/product/1211/62112): `GET` + `Upgrade: websocket`, query `appkey&requestid=<SessionId>&timestamp&signature`. */
export const IVH_CHANNEL_PATH = '/v2/ws/ivh/interactdriver/interactdriverservice/commandchannel';
/** Path prefix the router sends to this channel's upgrade handler. */
export const IVH_WS_PREFIX = '/v2/ws/ivh/';
/** The channel is dropped after this long without a frame from the client (documented: 3 minutes). */
const IVH_CHANNEL_IDLE_MS = 180_000;
/** How many of the session's latest drives (distinct ReqIds) have their status events re-sent on a reconnect (documented: 3). */
const IVH_REPLAY_DRIVES = 3;
/** Events kept per drive for the replay. */
const MAX_EVENTS_PER_DRIVE = 32;
/** How long shutdown waits for close handshakes before it destroys the sockets, ms. */
const SHUTDOWN_GRACE_MS = 1000;

/** WebSocket close codes the channel uses (close reasons are English sentences). */
export const IvhCloseCodes = {
  /** A second connection for the same session replaced this one. */
  REPLACED: 4000,
  /** No frame from the client for IVH_CHANNEL_IDLE_MS. */
  IDLE: 4001,
  /** The session closed (closesession, replaced by the same UserId, idle close …); the reason carries its ErrorCode. */
  SESSION_CLOSED: 4002,
  /** The server is shutting down. */
  SHUTDOWN: 1001,
} as const;

/** HTTP status of a refused upgrade, by IVH code; anything unlisted (100005 authentication included) → 401 or 400. */
const UPGRADE_STATUS: Readonly<Record<number, number>> = {
  [IvhErrors.UNAUTHORIZED.code]: 401,
  [IvhErrors.SESSION_NOT_FOUND.code]: 404,
  [IvhErrors.SESSION_NOT_READY.code]: 409,
  [IvhErrors.SESSION_NOT_STARTED.code]: 409,
  [IvhErrors.SESSION_CLOSED.code]: 410,
  [IvhErrors.SESSION_REPLACED.code]: 410,
  [IvhErrors.INTERNAL.code]: 500,
};

/** What the command channel needs from the rest of the server. */
interface IvhChannelDeps {
  apps: Pick<AppsService, 'byIvhAppKey' | 'admit'>;
  service: IvhSessions;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  /** Largest frame, bytes (IVH_BODY_LIMIT by default). */
  maxFrame?: number;
  /** Idle drop delay, ms (IVH_CHANNEL_IDLE_MS by default). */
  idleMs?: number;
  /** Clock in milliseconds (tests); Date.now by default. */
  now?: () => number;
  /** Where the RequestIDs of refused upgrades come from (a source of its own by default). */
  ids?: RequestIds;
}

interface Channel {
  ws: WebSocket;
  app: App;
  sessionId: string;
  key: string;
  idle: NodeJS.Timeout | undefined;
}

/** The last drives of one session (insertion order = drive order) and whether a channel was ever opened for it. */
interface History {
  drives: Map<string, IvhEvent[]>;
  connected: boolean;
}

function key(sdkAppId: number, sessionId: string): string {
  return `${sdkAppId}/${sessionId}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The IVH WebSocket command channel. Upgrades are refused with an HTTP status and an IVH envelope body. One channel per
 * session: a new connection closes the previous one (IvhCloseCodes.REPLACED). Upstream frames
 * `{"Header":{},"Payload":{ReqId,SessionId,Command,Data}}` go to the service; a refused command is answered with
 * `{"Header":{"Code":c,"Message":m,"RequestID":ReqId},"Payload":{"ReqId":ReqId}}`. Service events of the session are sent as
 * `{"Header":{"Code":0,"Message":"","RequestID":ReqId},"Payload":<event>}`.
 */
export class IvhChannels {
  private readonly wss: WebSocketServer;
  private readonly channels = new Map<string, Channel>();
  private readonly history = new Map<string, History>();
  private unsubscribe: Array<() => void> = [];
  private readonly idleMs: number;
  private readonly now: () => number;
  private readonly ids: RequestIds;

  constructor(private readonly d: IvhChannelDeps) {
    this.ids = d.ids ?? new RequestIds();
    this.idleMs = d.idleMs ?? IVH_CHANNEL_IDLE_MS;
    this.now = d.now ?? Date.now;
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: d.maxFrame ?? IVH_BODY_LIMIT });
  }

  /** Follows the sessions' events and closings on the bus (for the channels open on this node). */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    const d = this.d;
    this.unsubscribe = [
      d.bus.subscribe(IVH_EVENT_TOPIC, (p) => this.onEvent(p as { sdkAppId: number; sessionId: string; event: IvhEvent })),
      d.bus.subscribe(IVH_CLOSED_TOPIC, (p) => this.onClosed(p as { sdkAppId: number; sessionId: string; errorCode: number })),
    ];
  }

  /** Answers a refused upgrade with an HTTP status and the IVH envelope, then closes the socket. */
  private refuse(socket: Duplex, status: number, code: number, message: string): void {
    if (!socket.writable) return void socket.destroy();
    const body = ivhEnvelope(this.ids.hex(), code, message, {});
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  /** Number of open channels. */
  get size(): number {
    return this.channels.size;
  }

  /** Handles an HTTP upgrade whose path starts with IVH_WS_PREFIX. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== IVH_CHANNEL_PATH) return this.refuse(socket, 404, IvhErrors.INVALID_PARAMETER.code, `Unknown WebSocket path ${path}.`);
    if (req.method !== 'GET') return this.refuse(socket, 405, IvhErrors.INVALID_PARAMETER.code, 'A WebSocket upgrade must be a GET.');
    let app: App;
    let sessionId: string;
    try {
      const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
      if (!query) throw new GatewayError(IvhErrors.INVALID_PARAMETER, 'The query string is not valid UTF-8 once percent-decoded.');
      app = authenticateIvh(query, { apps: this.d.apps, nowMs: this.now(), clientIp: req.socket.remoteAddress, needRequestId: true });
      sessionId = query.get('requestid')!;
      this.d.service.channelAllowed(app, sessionId);
    } catch (err) {
      const entry = err instanceof GatewayError ? err.entry : err instanceof DomainError ? domainToIvh(err) : IvhErrors.INTERNAL;
      if (!(err instanceof GatewayError) && !(err instanceof DomainError)) this.d.log.error({ err }, 'ivh channel upgrade crashed');
      const message = err instanceof GatewayError || (err instanceof DomainError && entry !== IvhErrors.INTERNAL) ? err.message : entry.message;
      this.d.metrics.observeCode('ivh-ws', 'upgrade', String(entry.code), process.hrtime.bigint());
      return this.refuse(socket, UPGRADE_STATUS[entry.code] ?? 400, entry.code, message);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, app, sessionId));
  }

  private accept(ws: WebSocket, app: App, sessionId: string): void {
    const k = key(app.sdkAppId, sessionId);
    const prev = this.channels.get(k);
    if (prev) this.drop(prev, IvhCloseCodes.REPLACED, 'Replaced by a new connection for this session.');
    const ch: Channel = { ws, app, sessionId, key: k, idle: undefined };
    this.channels.set(k, ch);
    this.d.metrics.observeCode('ivh-ws', 'upgrade', '0', process.hrtime.bigint());
    this.arm(ch);
    ws.on('message', (data, isBinary) => this.onFrame(ch, data, isBinary));
    ws.on('close', () => this.forget(ch));
    ws.on('error', (err) => this.d.log.debug({ sessionId, err }, 'ivh channel socket error'));
    // A reconnect gets the status events of the latest drives again, in their original order and framing.
    const h = this.history.get(k);
    if (h?.connected) for (const events of h.drives.values()) for (const e of events) this.send(ch, eventFrame(e));
    if (h) h.connected = true;
    else this.history.set(k, { drives: new Map(), connected: true });
  }

  /** (Re)starts the idle timer: setTimeout, so fake timers drive it. */
  private arm(ch: Channel): void {
    clearTimeout(ch.idle);
    ch.idle = setTimeout(() => this.drop(ch, IvhCloseCodes.IDLE, `No traffic for ${Math.round(this.idleMs / 1000)} seconds.`), this.idleMs);
    ch.idle.unref?.();
  }

  private forget(ch: Channel): void {
    clearTimeout(ch.idle);
    ch.idle = undefined;
    if (this.channels.get(ch.key) === ch) this.channels.delete(ch.key);
  }

  private drop(ch: Channel, code: number, reason: string): void {
    this.forget(ch);
    ch.ws.close(code, reason);
  }

  private send(ch: Channel, frame: string): void {
    if (ch.ws.readyState === ch.ws.OPEN) ch.ws.send(frame);
  }

  private onFrame(ch: Channel, data: RawData, isBinary: boolean): void {
    const start = process.hrtime.bigint();
    let reqId = '';
    let command = 'unknown';
    const reject = (entry: IvhErrorEntry, message: string): void => {
      this.send(ch, errorFrame(reqId, entry.code, message));
      this.d.metrics.observeCode('ivh-ws', command, String(entry.code), start);
    };
    if (isBinary) return reject(IvhErrors.INVALID_PARAMETER, 'Binary frames are not supported; send JSON text frames.');
    let msg: unknown;
    try {
      msg = JSON.parse(rawText(data));
    } catch {
      return reject(IvhErrors.INVALID_PARAMETER, 'The frame is malformed JSON.');
    }
    const payload = isObject(msg) ? msg.Payload : undefined;
    if (!isObject(payload)) return reject(IvhErrors.INVALID_PARAMETER, isObject(msg) ? 'Payload must be an object.' : 'The frame must be a JSON object with Header and Payload.');
    if (typeof payload.ReqId === 'string') reqId = payload.ReqId.slice(0, IVH_MAX_REQ_ID);
    if (typeof payload.Command !== 'string' || payload.Command === '') return reject(IvhErrors.INVALID_PARAMETER, 'Payload.Command is required.');
    command = payload.Command;
    const heartbeat = command === 'SEND_HEARTBEAT';
    if (!heartbeat && reqId === '') return reject(IvhErrors.INVALID_PARAMETER, payload.ReqId === undefined || payload.ReqId === '' ? 'Payload.ReqId is required.' : 'Payload.ReqId must be a string.');
    if (typeof payload.ReqId === 'string' && payload.ReqId.length > IVH_MAX_REQ_ID) return reject(IvhErrors.INVALID_PARAMETER, `Payload.ReqId must be at most ${IVH_MAX_REQ_ID} characters.`);
    const sid = payload.SessionId ?? payload.SessionID;
    if (sid !== undefined && sid !== null && sid !== '' && sid !== ch.sessionId) {
      return reject(IvhErrors.INVALID_PARAMETER, "Payload.SessionId does not match the channel's session (requestid).");
    }
    const data_ = payload.Data ?? {};
    if (!isObject(data_)) return reject(IvhErrors.INVALID_PARAMETER, 'Payload.Data must be an object.');

    // A well-formed frame is traffic: it keeps the channel (3 min) and the session (service) alive.
    this.arm(ch);
    try {
      // A heartbeat only keeps the session alive (no reply); a command counts as traffic inside the service.
      if (heartbeat) this.d.service.touch(ch.app, ch.sessionId);
      else this.d.service.command(ch.app, ch.sessionId, reqId, command, data_);
    } catch (err) {
      if (err instanceof DomainError) {
        const entry = domainToIvh(err);
        if (entry === IvhErrors.INTERNAL) this.d.log.error({ sessionId: ch.sessionId, command, err }, 'ivh command failed');
        return reject(entry, entry === IvhErrors.INTERNAL ? entry.message : err.message);
      }
      this.d.log.error({ sessionId: ch.sessionId, command, err }, 'ivh command crashed');
      return reject(IvhErrors.INTERNAL, IvhErrors.INTERNAL.message);
    }
    this.d.metrics.observeCode('ivh-ws', command, '0', start);
  }

  private onEvent(p: { sdkAppId: number; sessionId: string; event: IvhEvent }): void {
    const k = key(p.sdkAppId, p.sessionId);
    const e = p.event;
    if (typeof e.ReqId === 'string' && e.ReqId !== '') {
      let h = this.history.get(k);
      if (!h) this.history.set(k, (h = { drives: new Map(), connected: false }));
      let events = h.drives.get(e.ReqId);
      if (!events) {
        h.drives.set(e.ReqId, (events = []));
        while (h.drives.size > IVH_REPLAY_DRIVES) h.drives.delete(h.drives.keys().next().value!);
      }
      if (events.length < MAX_EVENTS_PER_DRIVE) events.push(e);
    }
    const ch = this.channels.get(k);
    if (ch) this.send(ch, eventFrame(e));
  }

  private onClosed(p: { sdkAppId: number; sessionId: string; errorCode: number }): void {
    const k = key(p.sdkAppId, p.sessionId);
    this.history.delete(k);
    const ch = this.channels.get(k);
    if (ch) this.drop(ch, IvhCloseCodes.SESSION_CLOSED, `Session closed (ErrorCode ${p.errorCode}).`);
  }

  /** Closes every channel (1001), waits up to a second for the handshakes, then destroys what is left; safe to repeat. */
  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    const open = [...this.channels.values()];
    await Promise.all(
      open.map(
        (ch) =>
          new Promise<void>((resolve) => {
            if (ch.ws.readyState === ch.ws.CLOSED) return resolve();
            const force = setTimeout(() => ch.ws.terminate(), SHUTDOWN_GRACE_MS);
            ch.ws.once('close', () => (clearTimeout(force), resolve()));
            this.drop(ch, IvhCloseCodes.SHUTDOWN, 'Server shutting down.');
          }),
      ),
    );
    this.channels.clear();
    this.history.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** A downstream event frame: RequestID is the ReqId of the drive the event belongs to. */
function eventFrame(e: IvhEvent): string {
  return JSON.stringify({ Header: { Code: 0, Message: '', RequestID: e.ReqId }, Payload: e });
}

/** A downstream refusal of one upstream frame. */
function errorFrame(reqId: string, code: number, message: string): string {
  return JSON.stringify({ Header: { Code: code, Message: message, RequestID: reqId }, Payload: { ReqId: reqId } });
}

