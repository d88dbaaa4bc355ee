import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestIds } from '../../http/request-ids.ts';
import { ivhSignature, ivhSigningString } from '../../auth/ivh-signature.ts';
import { safeEqual } from '../../auth/tc3.ts';
import { BodyReader, declaredLength, parseQuery, sendJson, utf8 } from '../../http/body.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import type { DigitalHumanService } from '../../services/digital-human/digital-human-service.ts';
import type { IvhSession } from '../../services/digital-human/session.ts';
import { DomainError } from '../../services/errors.ts';
import { IvhAuthErrors, IvhErrors, domainToIvh, type IvhErrorEntry } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';
import { serveHttp, type Answer, type HttpFamily } from '../http-pipeline.ts';

/** Path prefix of every IVH HTTP API (the router sends `/v2/ivh/…` here). */
export const IVH_HTTP_PREFIX = '/v2/ivh/';
const SESSION_MANAGER = '/v2/ivh/sessionmanager/sessionmanagerservice/';
const INTERACT_DRIVER = '/v2/ivh/interactdriver/interactdriverservice/';
/** Largest accepted difference between `timestamp` and the server clock, in seconds (documented: ±5 minutes). */
const IVH_SIGNATURE_WINDOW_SECONDS = 300;
/** Default largest request body when the server passes none (the server passes `bodyLimit`, 1 MiB by default). */
export const IVH_BODY_LIMIT = 1024 * 1024;
/** Longest `ReqId` accepted (documented as a 32-character UUID without dashes; longer ids are tolerated up to this). */
export const IVH_MAX_REQ_ID = 128;
/** Largest body of a request refused by its signature that is still read, to echo its RequestID and ReqId. */
export const IVH_ECHO_READ_LIMIT = 64 * 1024;
/** Longest `Header.RequestID` echoed; a longer or non-printable one is replaced by a generated id. */
const MAX_REQUEST_ID = 128;
const TIMESTAMP = /^\d{1,12}$/;
const PRINTABLE = /^[\x20-\x7e]+$/;

/** What the IVH gateway needs from the digital-human service; its methods throw DomainError. */
export type IvhSessions = Pick<
  DigitalHumanService,
  'createSession' | 'stat' | 'startSession' | 'close' | 'list' | 'getTrtcSign' | 'command' | 'touch' | 'channelAllowed'
>;

/** What the IVH HTTP gateway needs from the rest of the server. */
interface IvhDeps {
  apps: Pick<AppsService, 'byIvhAppKey' | 'admit'>;
  service: IvhSessions;
  log: Logger;
  metrics: Metrics;
  /** Largest request body, bytes (IVH_BODY_LIMIT by default). */
  bodyLimit?: number;
  /** The server's body reader (limits, timeout, the budget of unauthenticated bytes). */
  bodies?: BodyReader;
  /** Clock in milliseconds (tests); Date.now by default. */
  now?: () => number;
  /** Where RequestIDs come from (a source of its own by default). */
  ids?: RequestIds;
}

/** `{"Header":{Code,Message,RequestID},"Payload":{…}}`. */
export function ivhEnvelope(requestId: string, code: number, message: string, payload: Record<string, unknown>): string {
  return JSON.stringify({ Header: { Code: code, Message: message, RequestID: requestId }, Payload: payload });
}

/**
 * Checks the aPaaS signature of a query (https://www.tencentcloud.com/document/product/1211/62053) and returns the app: the parameters are present (`requestid` too
 * when `needRequestId`), the timestamp is within ±IVH_SIGNATURE_WINDOW_SECONDS, the appkey names an app that may serve
 * the client, and `signature` (URL-decoded by the query parser) equals Base64(HMAC-SHA256(accesstoken, signing string))
 * over every other parameter. Throws GatewayError with one of IvhAuthErrors.
 */
export function authenticateIvh(
  query: URLSearchParams,
  o: { apps: Pick<AppsService, 'byIvhAppKey' | 'admit'>; nowMs: number; clientIp: string | undefined; needRequestId: boolean },
): App {
  const params: Record<string, string> = Object.fromEntries(query);
  const required = o.needRequestId ? ['appkey', 'requestid', 'timestamp', 'signature'] : ['appkey', 'timestamp', 'signature'];
  const missing = required.filter((k) => !params[k]);
  if (missing.length > 0) {
    throw new GatewayError(IvhAuthErrors.MISSING_PARAMETER, `Authentication failed: the query parameter ${missing.join(', ')} is missing.`);
  }
  const ts = params.timestamp!;
  if (!TIMESTAMP.test(ts)) throw new GatewayError(IvhAuthErrors.TIMESTAMP_INVALID);
  const now = Math.floor(o.nowMs / 1000);
  if (Math.abs(now - Number(ts)) > IVH_SIGNATURE_WINDOW_SECONDS) {
    throw new GatewayError(
      IvhAuthErrors.TIMESTAMP_EXPIRED,
      `Authentication failed: timestamp expired (${ts} and the server time ${now} differ by more than ${IVH_SIGNATURE_WINDOW_SECONDS} seconds).`,
    );
  }
  const app = o.apps.byIvhAppKey(params.appkey!);
  if (!app) throw new GatewayError(IvhAuthErrors.UNKNOWN_APPKEY);
  const refusal = o.apps.admit(app, o.clientIp, o.nowMs / 1000);
  if (refusal === 'DISABLED') throw new GatewayError(IvhAuthErrors.APP_REFUSED, 'Authentication failed: the app owning this appkey is disabled.');
  if (refusal === 'EXPIRED') throw new GatewayError(IvhAuthErrors.APP_REFUSED, 'Authentication failed: the app owning this appkey has expired.');
  if (refusal === 'IP_NOT_ALLOWED') {
    throw new GatewayError(IvhAuthErrors.APP_REFUSED, `Authentication failed: the IP address ${o.clientIp ?? ''} is not in the app's allowlist.`);
  }
  if (!safeEqual(ivhSignature(app.ivh.accessToken, ivhSigningString(params)), params.signature!)) throw new GatewayError(IvhAuthErrors.SIGNATURE_MISMATCH);
  return app;
}

// ---- Payload fields: each wrong one is 100001 naming the field. ----

type Payload = Record<string, unknown>;

function invalid(message: string): GatewayError<IvhErrorEntry> {
  return new GatewayError(IvhErrors.INVALID_PARAMETER, message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A required non-empty string. */
function str(p: Payload, name: string): string {
  const v = p[name];
  if (v === undefined || v === null || v === '') throw invalid(`Payload.${name} is required.`);
  if (typeof v !== 'string') throw invalid(`Payload.${name} must be a string.`);
  return v;
}

/** An optional string ('' counts as absent). */
function optStr(p: Payload, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`Payload.${name} must be a string.`);
  return v;
}

function optInt(p: Payload, name: string, prefix = 'Payload'): number | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${prefix}.${name} must be an integer.`);
  return v;
}

function optObj(p: Payload, name: string): Record<string, unknown> | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw invalid(`Payload.${name} must be an object.`);
  return v;
}

/** Stream protocols accepted by createsession (documented lowercase). */
const PROTOCOLS: ReadonlySet<string> = new Set(['rtmp', 'trtc', 'webrtc']);
const DRIVER_TYPES: ReadonlySet<number> = new Set([1, 3]);
/** StreamMaxInterval bounds in ms (documented: 2000–6000). */
const IVH_STREAM_MAX_INTERVAL = { min: 2000, max: 6000 } as const;

const OPTION_TYPES: Readonly<Record<string, 'boolean' | 'string' | 'integer' | 'string|integer'>> = {
  TrtcUseExternalApp: 'boolean',
  TrtcAppId: 'string|integer',
  TrtcRoomId: 'integer',
  TrtcStrRoomId: 'string',
  StrTrtcRoomId: 'string',
  TrtcAutoGenRoomIdType: 'integer',
  TrtcUserSig: 'string',
  TrtcPrivateMapKey: 'string',
  CssCustomPushUrl: 'string',
};

/** Type-checks the documented ProtocolOption fields; `StrTrtcRoomId` (the prose's spelling) becomes `TrtcStrRoomId`. */
function protocolOption(p: Payload): Record<string, unknown> | undefined {
  const raw = optObj(p, 'ProtocolOption');
  if (!raw) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const want = Object.hasOwn(OPTION_TYPES, k) ? OPTION_TYPES[k] : undefined;
    if (want && v !== undefined && v !== null) {
      const ok =
        want === 'boolean'
          ? typeof v === 'boolean'
          : want === 'string'
            ? typeof v === 'string'
            : want === 'integer'
              ? Number.isSafeInteger(v)
              : typeof v === 'string' || Number.isSafeInteger(v);
      if (!ok) throw invalid(`Payload.ProtocolOption.${k} must be ${want === 'string|integer' ? 'a string' : want === 'integer' ? 'an integer' : `a ${want}`}.`);
    }
    if (k === 'StrTrtcRoomId') continue;
    out[k] = v;
  }
  if ((out.TrtcStrRoomId === undefined || out.TrtcStrRoomId === null || out.TrtcStrRoomId === '') && typeof raw.StrTrtcRoomId === 'string') {
    out.TrtcStrRoomId = raw.StrTrtcRoomId;
  }
  return out;
}

/** The fields createsession and createsessionbyasset share. */
function sessionRequest(p: Payload): { userId: string; protocol: string; driverType: number; protocolOption?: Record<string, unknown>; streamMaxInterval?: number } {
  const userId = str(p, 'UserId');
  const protocol = str(p, 'Protocol');
  if (!PROTOCOLS.has(protocol)) throw invalid('Payload.Protocol must be rtmp, trtc or webrtc (lowercase).');
  const driverType = optInt(p, 'DriverType');
  if (driverType === undefined) throw invalid('Payload.DriverType is required.');
  if (!DRIVER_TYPES.has(driverType)) throw invalid('Payload.DriverType must be 1 (text) or 3 (audio).');
  const streamMaxInterval = optInt(p, 'StreamMaxInterval');
  if (streamMaxInterval !== undefined && (streamMaxInterval < IVH_STREAM_MAX_INTERVAL.min || streamMaxInterval > IVH_STREAM_MAX_INTERVAL.max)) {
    throw invalid(`Payload.StreamMaxInterval must be from ${IVH_STREAM_MAX_INTERVAL.min} to ${IVH_STREAM_MAX_INTERVAL.max} (ms).`);
  }
  optObj(p, 'ExtraInfo'); // accepted (type-checked) and ignored
  const out: ReturnType<typeof sessionRequest> = { userId, protocol, driverType };
  const option = protocolOption(p);
  if (option) out.protocolOption = option;
  if (streamMaxInterval !== undefined) out.streamMaxInterval = streamMaxInterval;
  return out;
}

function created(reqId: string, s: IvhSession): Payload {
  return { ReqId: reqId, SessionId: s.sessionId, SessionStatus: s.status, PlayStreamAddr: s.playStreamAddr };
}

function listed(reqId: string, sessions: IvhSession[]): Payload {
  return {
    ReqId: reqId,
    Sessions: sessions.map((s) => ({
      UserId: s.userId,
      SessionId: s.sessionId,
      SessionStatus: s.status,
      PlayStreamAddr: s.playStreamAddr,
      DriverType: s.driverType,
      IsSessionStarted: s.started,
    })),
  };
}

const NUMERIC_ROOM = /^[1-9]\d{0,9}$/;

/**
 * gettrtcsign's room: `RoomId` as a number is a numeric room and wins over `StrRoomId`. `RoomId` as a string (the seed's
 * shape) names the session's string room when the session is in one, else the numeric room it spells.
 */
function trtcRoom(p: Payload, session: IvhSession): { roomId?: number; strRoomId?: string } {
  const roomId = p.RoomId;
  if (typeof roomId === 'number') {
    if (!Number.isSafeInteger(roomId) || roomId < 1 || roomId > 4294967294) throw invalid('Payload.RoomId must be an integer from 1 to 4294967294.');
    return { roomId };
  }
  if (typeof roomId === 'string' && roomId !== '') {
    if (session.trtc?.strRoomId !== undefined) return { strRoomId: roomId };
    if (NUMERIC_ROOM.test(roomId) && Number(roomId) <= 4294967294) return { roomId: Number(roomId) };
    return { strRoomId: roomId };
  }
  if (roomId !== undefined && roomId !== null && roomId !== '') throw invalid('Payload.RoomId must be a number or a string.');
  const strRoomId = optStr(p, 'StrRoomId');
  if (strRoomId === undefined) throw invalid('Payload.RoomId or Payload.StrRoomId is required.');
  return { strRoomId };
}

/** One IVH HTTP API: answers the Payload after ReqId (echoed by the caller). */
type IvhHandler = (ctx: { app: App; reqId: string; service: IvhSessions }, p: Payload) => Promise<Payload> | Payload;

/** The dispatch table: request path → metrics label and handler. */
const IVH_ROUTES: Readonly<Record<string, { name: string; handle: IvhHandler }>> = {
  [`${SESSION_MANAGER}createsession`]: {
    name: 'createsession',
    handle: async ({ app, reqId, service }, p) => created(reqId, await service.createSession(app, { ...sessionRequest(p), projectId: str(p, 'VirtualmanProjectId') })),
  },
  [`${SESSION_MANAGER}createsessionbyasset`]: {
    name: 'createsessionbyasset',
    handle: async ({ app, reqId, service }, p) => created(reqId, await service.createSession(app, { ...sessionRequest(p), assetKey: str(p, 'AssetVirtualmanKey') })),
  },
  [`${SESSION_MANAGER}statsession`]: {
    name: 'statsession',
    handle: ({ app, reqId, service }, p) => {
      const s = service.stat(app, str(p, 'SessionId'));
      return {
        ReqId: reqId,
        SessionStatus: s.status,
        PlayStreamAddr: s.playStreamAddr,
        SpeakStatus: s.speakStatus,
        IsSessionStarted: s.started,
        ErrorCode: s.errorCode,
        ErrorMessage: s.errorMessage,
      };
    },
  },
  [`${SESSION_MANAGER}startsession`]: {
    name: 'startsession',
    handle: async ({ app, reqId, service }, p) => (await service.startSession(app, str(p, 'SessionId')), { ReqId: reqId }),
  },
  [`${SESSION_MANAGER}closesession`]: {
    name: 'closesession',
    handle: async ({ app, reqId, service }, p) => (await service.close(app, str(p, 'SessionId')), { ReqId: reqId }),
  },
  [`${SESSION_MANAGER}listsessionofuin`]: {
    name: 'listsessionofuin',
    handle: ({ app, reqId, service }) => listed(reqId, service.list(app, {})),
  },
  [`${SESSION_MANAGER}listsessionofprojectid`]: {
    name: 'listsessionofprojectid',
    handle: ({ app, reqId, service }, p) => listed(reqId, service.list(app, { projectId: str(p, 'VirtualmanProjectId') })),
  },
  [`${SESSION_MANAGER}listsessionofassetvk`]: {
    name: 'listsessionofassetvk',
    handle: ({ app, reqId, service }, p) => listed(reqId, service.list(app, { assetKey: str(p, 'AssetVirtualmanKey') })),
  },
  [`${SESSION_MANAGER}gettrtcsign`]: {
    name: 'gettrtcsign',
    handle: ({ app, reqId, service }, p) => {
      const sessionId = str(p, 'SessionId');
      const userId = str(p, 'UserId');
      const room = trtcRoom(p, service.stat(app, sessionId));
      const { userSig, privateMapKey } = service.getTrtcSign(app, sessionId, userId, room);
      return { ReqId: reqId, UserSig: userSig, PrivateMapKey: privateMapKey };
    },
  },
  [`${INTERACT_DRIVER}command`]: {
    name: 'command',
    handle: ({ app, reqId, service }, p) => {
      const sessionId = str(p, 'SessionId');
      const command = str(p, 'Command');
      if (command !== 'SEND_TEXT') throw invalid('Payload.Command must be SEND_TEXT over HTTP (other commands use the WebSocket command channel).');
      const data = optObj(p, 'Data') ?? {};
      service.command(app, sessionId, reqId, command, data); // the service counts it as traffic (touch)
      return { ReqId: reqId };
    },
  },
};

type Outcome = Answer<Payload>;

/** IVH in the HTTP pipeline: `{Header, Payload}`, always HTTP 200; a refusal still echoes Payload.ReqId where known. */
const IVH: HttpFamily<Payload> = {
  name: 'ivh',
  labelKey: 'api',
  internal: IvhErrors.INTERNAL,
  write: (res, requestId, reply, close) =>
    sendJson(res, 200, 'error' in reply ? ivhEnvelope(requestId, Number(reply.error.entry.code), reply.error.message, reply.payload ?? {}) : ivhEnvelope(requestId, 0, '', reply.result), close),
};

/** What a body says for the envelope, parsed or not: the Header.RequestID and Payload.ReqId to echo. */
interface Parsed {
  body: unknown;
  malformed: boolean;
  header: unknown;
  payload: unknown;
  requestId?: string;
  reqId?: string;
}

function parse(raw: Buffer): Parsed {
  let body: unknown;
  // A body that is not UTF-8 is malformed like bad JSON: never repaired into another string.
  const text = utf8(raw);
  let malformed = text === null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      malformed = true;
    }
  }
  const header = isObject(body) ? body.Header : undefined;
  const echo = isObject(header) ? header.RequestID : undefined;
  const payload = isObject(body) ? body.Payload : undefined;
  const out: Parsed = { body, malformed, header, payload };
  if (typeof echo === 'string' && echo.length <= MAX_REQUEST_ID && PRINTABLE.test(echo)) out.requestId = echo;
  if (isObject(payload) && typeof payload.ReqId === 'string') out.reqId = payload.ReqId;
  return out;
}

/**
 * The AI Digital Human (IVH) HTTP gateway: `POST /v2/ivh/<service path>?appkey&timestamp&signature` with
 * `{"Header":{…},"Payload":{ReqId,…}}`. Always answers HTTP 200 with `{"Header":{Code,Message,RequestID},"Payload":{…}}`.
 * Order of checks: path → method → declared body size → query UTF-8 → signature (100005) → body size → JSON, Header,
 * Payload, ReqId (100001) → fields → service. The signature is in the query, so the body of a signed request is read
 * as authenticated; a refused one is read against the unauthenticated budget only to echo its RequestID and ReqId.
 */
export class IvhGateway {
  private readonly now: () => number;
  private readonly bodyLimit: number;
  private readonly bodies: BodyReader;
  private readonly ids: RequestIds;

  constructor(private readonly d: IvhDeps) {
    this.now = d.now ?? Date.now;
    this.bodyLimit = d.bodyLimit ?? IVH_BODY_LIMIT;
    this.bodies = d.bodies ?? new BodyReader();
    this.ids = d.ids ?? new RequestIds();
  }

  /** Serves one request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = Object.hasOwn(IVH_ROUTES, path) ? IVH_ROUTES[path] : undefined;
    const label = route?.name ?? 'unknown';
    // The body's Header.RequestID when it has one, else one of trtcd's own.
    let requestId: string | undefined;
    const facts = { requestId: () => (requestId ??= this.ids.hex()), label: () => label };
    serveHttp(IVH, this.d, res, facts, () => this.run(req, route, q < 0 ? '' : url.slice(q + 1), path, (id) => (requestId = id)));
  }

  private async run(
    req: IncomingMessage,
    route: { name: string; handle: IvhHandler } | undefined,
    rawQuery: string,
    path: string,
    setRequestId: (id: string) => void,
  ): Promise<Outcome> {
    const fail = (entry: IvhErrorEntry, message = entry.message, payload: Payload = {}, close = false): Outcome => ({ error: new GatewayError(entry, message), payload, close });
    const tooLarge = (): Outcome => fail(IvhErrors.INVALID_PARAMETER, `The request body exceeds the size limit of ${this.bodyLimit} bytes.`, {}, true);
    if (!route) return fail(IvhErrors.INVALID_PARAMETER, `Unknown API path ${path}.`, {}, req.method !== 'POST');
    if (req.method !== 'POST') return fail(IvhErrors.INVALID_PARAMETER, `The HTTP method ${req.method ?? ''} is not supported; use POST.`, {}, true);
    const declared = declaredLength(req);
    if (declared !== undefined && declared > this.bodyLimit) return tooLarge();
    const query = parseQuery(rawQuery);
    if (!query) return fail(IvhErrors.INVALID_PARAMETER, 'The query string is not valid UTF-8 once percent-decoded.');

    let app: App;
    try {
      app = authenticateIvh(query, { apps: this.d.apps, nowMs: this.now(), clientIp: req.socket.remoteAddress, needRequestId: false });
    } catch (err) {
      if (!(err instanceof GatewayError)) throw err;
      // Even an authentication failure echoes Header.RequestID and Payload.ReqId (documented), when the body is small and
      // the budget of unauthenticated bytes allows reading it.
      const held = await this.bodies.readUnauthenticated(req, Math.min(this.bodyLimit, IVH_ECHO_READ_LIMIT));
      if (held === 'ABORTED') return { aborted: true };
      if (typeof held === 'string') return fail(err.entry, err.message, {}, true);
      const p = parse(held.body);
      held.release();
      if (p.requestId !== undefined) setRequestId(p.requestId);
      return fail(err.entry, err.message, p.reqId !== undefined ? { ReqId: p.reqId } : {});
    }

    const raw = await this.bodies.read(req, this.bodyLimit);
    if (raw === 'ABORTED') return { aborted: true };
    if (raw === 'TOO_LARGE') return tooLarge();
    if (raw === 'TIMEOUT') return fail(IvhErrors.INVALID_PARAMETER, `The request body did not arrive within ${this.bodies.limits.timeoutMs} ms.`, {}, true);
    const { body, malformed, header, payload, requestId, reqId } = parse(raw);
    if (requestId !== undefined) setRequestId(requestId);
    const echoed: Payload = reqId !== undefined ? { ReqId: reqId } : {};

    try {
      if (malformed) throw invalid('The request body is malformed JSON.');
      if (!isObject(body)) throw invalid('The request body must be a JSON object with Header and Payload.');
      if (header !== undefined && header !== null && !isObject(header)) throw invalid('Header must be an object.');
      if (!isObject(payload)) throw invalid(payload === undefined || payload === null ? 'Payload is required.' : 'Payload must be an object.');
      if (reqId === undefined || reqId === '') throw invalid(payload.ReqId === undefined || payload.ReqId === '' ? 'Payload.ReqId is required.' : 'Payload.ReqId must be a string.');
      if (reqId.length > IVH_MAX_REQ_ID) throw invalid(`Payload.ReqId must be at most ${IVH_MAX_REQ_ID} characters.`);
      const out = await route.handle({ app, reqId, service: this.d.service }, payload);
      return { result: out };
    } catch (err) {
      if (err instanceof GatewayError) return fail(err.entry, err.message, echoed);
      if (err instanceof DomainError) {
        const entry = domainToIvh(err);
        if (entry === IvhErrors.INTERNAL) this.d.log.error({ api: route.name, err }, 'ivh service failed');
        return fail(entry, entry === IvhErrors.INTERNAL ? entry.message : err.message, echoed);
      }
      throw err;
    }
  }
}
