import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/errors';
import {
  TC3_ALGORITHM,
  hostCandidates,
  parseTc3Authorization,
  safeEqual,
  utcDate,
  v1Signature,
  v1StringToSign,
  verifyTc3,
  type Tc3Authorization,
  type V1SignatureMethod,
} from '../../auth/tc3.ts';
import { BodyReader, declaredLength, parseQuery, utf8, type HeldBody, type UnauthenticatedRefusal } from '../../http/body.ts';
import type { RateLimiter } from '../../limits/rate-limiter.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import { DomainError } from '../../services/errors.ts';
import { domainToCloud, type ActionTable, type CloudAction, type CloudServices } from './action.ts';
import { CloudErrors, type CloudErrorEntry } from './errors.ts';
import { NonceLog, type Nonces } from './nonces.ts';
import { GatewayError } from '../gateway-error.ts';
import { serveHttp, type Answer, type HttpFamily } from '../http-pipeline.ts';

/** Largest POST body signed with TC3-HMAC-SHA256 (documented: 10 MB). */
const CLOUD_API_V3_BODY_LIMIT = 10 * 1024 * 1024;
/** Largest POST body signed with signature v1 (documented: 1 MB). */
const CLOUD_API_V1_BODY_LIMIT = 1024 * 1024;
/** Largest GET request: URL plus body (documented: 32 KB). */
const CLOUD_API_GET_LIMIT = 32 * 1024;
/** Largest accepted difference between the request's timestamp and the server clock, in seconds (documented: five minutes). */
export const SIGNATURE_WINDOW_SECONDS = 300;
/**
 * What a SecretId must look like (else AuthFailure.InvalidSecretId): `AKID` and then letters and digits, as Tencent's
 * keys and the ones `trtcd app create` makes (`AKID` + 32).
 */
const SECRET_ID_FORMAT = /^AKID[A-Za-z0-9]{1,124}$/;

/** Signature v1 common parameters: never business parameters. */
const V1_COMMON = new Set(['Action', 'Version', 'Region', 'Timestamp', 'Nonce', 'SecretId', 'SignatureMethod', 'Signature', 'Token', 'Language', 'RequestClient']);
const V1_METHODS: ReadonlySet<string> = new Set<V1SignatureMethod>(['HmacSHA1', 'HmacSHA256']);
const TIMESTAMP = /^\d{1,12}$/;
const FORM = 'application/x-www-form-urlencoded';

/** What the Cloud API gateway needs from the rest of the server. */
interface CloudApiDeps {
  apps: Pick<AppsService, 'bySecretId' | 'admit'>;
  services: CloudServices;
  actions: ActionTable;
  limiter: RateLimiter;
  log: Logger;
  metrics: Metrics;
  /** The server's body reader: bodies are read before the signature is checked, against its unauthenticated budget. */
  bodies?: BodyReader;
  /** Where accepted v1 Nonce + Timestamp pairs are kept (several nodes: Redis); this process by default. */
  nonces?: Nonces;
  /** Clock in milliseconds (tests); Date.now by default. */
  now?: () => number;
}

function mediaType(h: string | undefined): string {
  return (h ?? '').split(';')[0]!.trim().toLowerCase();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Whether a request belongs to the Cloud API gateway: path `/` (with or without a query) and an `X-TC-Action` header,
 * a TC3 Authorization header, `Action=` in the query (v1 GET), or a form POST (v1).
 */
export function isCloudApiRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  if (url !== '/' && !url.startsWith('/?')) return false;
  if (req.headers['x-tc-action'] !== undefined) return true;
  if ((header(req, 'authorization') ?? '').trimStart().startsWith(TC3_ALGORITHM)) return true;
  if (/[?&]Action=/.test(url)) return true;
  return req.method === 'POST' && mediaType(header(req, 'content-type')) === FORM;
}

/** Parses `a=1&b=2`; a parameter given twice, or one that is not UTF-8 once percent-decoded, is refused (InvalidParameter). */
function parseForm(text: string): Map<string, string> {
  const params = parseQuery(text);
  if (!params) throw new GatewayError(CloudErrors.INVALID_PARAMETER, 'The parameters are not valid UTF-8 once percent-decoded.');
  const out = new Map<string, string>();
  for (const [k, v] of params) {
    if (out.has(k)) throw new GatewayError(CloudErrors.INVALID_PARAMETER, `The parameter \`${k}\` is given more than once.`);
    out.set(k, v);
  }
  return out;
}

type Tree = Map<string, Tree | string>;

/** The kind of value a schema expects, as far as rebuilding flattened parameters needs it. */
function kind(schema: TSchema | undefined): string | undefined {
  if (!schema) return undefined;
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.anyOf)) {
    const kinds = new Set((schema.anyOf as TSchema[]).map((s) => kind(s)));
    if (kinds.size === 1) return [...kinds][0];
    if ([...kinds].every((k) => k === 'integer' || k === 'number')) return 'number';
  }
  return undefined;
}

function scalar(value: string, schema: TSchema | undefined): unknown {
  switch (kind(schema)) {
    case 'integer':
      return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
    case 'number':
      return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value) ? Number(value) : value;
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    default:
      return value;
  }
}

function build(node: Tree | string, schema: TSchema | undefined): unknown {
  if (typeof node === 'string') return scalar(node, schema);
  const keys = [...node.keys()];
  // Indexed keys make an array (in index order, gaps closed) unless the schema wants an object there.
  if (kind(schema) !== 'object' && keys.every((key) => /^\d+$/.test(key))) {
    return keys.sort((a, b) => Number(a) - Number(b)).map((key) => build(node.get(key)!, schema?.items as TSchema | undefined));
  }
  const props = (schema?.properties ?? {}) as Record<string, TSchema>;
  const extra = typeof schema?.additionalProperties === 'object' ? (schema.additionalProperties as TSchema) : undefined;
  // Object.fromEntries defines own properties, so a `__proto__` parameter stays a (refused) parameter.
  return Object.fromEntries(keys.map((key) => [key, build(node.get(key)!, Object.hasOwn(props, key) ? props[key] : extra)]));
}

/**
 * Rebuilds flattened parameters (`TRTCUserIds.0=a`, `Filters.0.Name=x`) into arrays and objects, converting strings to the
 * integers, numbers and booleans the action's schema expects.
 */
export function unflatten(params: Iterable<[string, string]>, schema: TSchema | undefined): Record<string, unknown> {
  const root: Tree = new Map();
  for (const [name, value] of params) {
    const segs = name.split('.');
    if (segs.some((s) => s === '')) throw new GatewayError(CloudErrors.INVALID_PARAMETER, `The parameter name \`${name}\` is malformed.`);
    let node = root;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i]!;
      const last = i === segs.length - 1;
      const cur = node.get(seg);
      if (last ? cur !== undefined : typeof cur === 'string') {
        throw new GatewayError(CloudErrors.INVALID_PARAMETER, `The parameter \`${name}\` conflicts with another parameter.`);
      }
      if (last) node.set(seg, value);
      else {
        let next = cur as Tree | undefined;
        if (!next) node.set(seg, (next = new Map()));
        node = next;
      }
    }
  }
  return build(root, schema && kind(schema) === 'object' ? schema : undefined) as Record<string, unknown>;
}

/** `/TRTCUserIds/0` → `TRTCUserIds.0`. */
function paramName(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Whether a value has one of the JSON types a (union or literal) schema allows: then only its value is wrong. */
function typeAllowed(value: unknown, schema: TSchema): boolean {
  const members = Array.isArray(schema.anyOf) ? (schema.anyOf as TSchema[]) : [schema];
  const t = jsonType(value);
  return members.some((m) => {
    const k = kind(m);
    return k === t || (k === 'number' && t === 'integer');
  });
}

const VALUE_ERRORS: ReadonlySet<ValueErrorType> = new Set([
  ValueErrorType.ArrayContains,
  ValueErrorType.ArrayMaxContains,
  ValueErrorType.ArrayMaxItems,
  ValueErrorType.ArrayMinContains,
  ValueErrorType.ArrayMinItems,
  ValueErrorType.ArrayUniqueItems,
  ValueErrorType.IntegerExclusiveMaximum,
  ValueErrorType.IntegerExclusiveMinimum,
  ValueErrorType.IntegerMaximum,
  ValueErrorType.IntegerMinimum,
  ValueErrorType.IntegerMultipleOf,
  ValueErrorType.NumberExclusiveMaximum,
  ValueErrorType.NumberExclusiveMinimum,
  ValueErrorType.NumberMaximum,
  ValueErrorType.NumberMinimum,
  ValueErrorType.NumberMultipleOf,
  ValueErrorType.ObjectMaxProperties,
  ValueErrorType.ObjectMinProperties,
  ValueErrorType.StringFormat,
  ValueErrorType.StringFormatUnknown,
  ValueErrorType.StringMaxLength,
  ValueErrorType.StringMinLength,
  ValueErrorType.StringPattern,
  ValueErrorType.TupleLength,
]);

/**
 * The first schema problem as a Cloud API error: a required parameter absent → MissingParameter, an undeclared one →
 * UnknownParameter, a wrong JSON type → InvalidParameter, a value outside a constraint (length, count, range, pattern,
 * enumeration) → InvalidParameterValue. Each message names the parameter.
 */
function schemaError(action: CloudAction, params: unknown): GatewayError<CloudErrorEntry> | null {
  if (action.check.Check(params)) return null;
  const first = action.check.Errors(params).First();
  if (!first) return new GatewayError(CloudErrors.INVALID_PARAMETER);
  const name = paramName(first.path);
  switch (first.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return new GatewayError(CloudErrors.MISSING_PARAMETER, `The parameter \`${name}\` is missing.`);
    case ValueErrorType.ObjectAdditionalProperties:
      return new GatewayError(CloudErrors.UNKNOWN_PARAMETER, `The parameter \`${name}\` is not recognized.`);
    case ValueErrorType.Literal:
    case ValueErrorType.Union: {
      const entry = typeAllowed(first.value, first.schema) ? CloudErrors.INVALID_PARAMETER_VALUE : CloudErrors.INVALID_PARAMETER;
      return new GatewayError(entry, `The parameter \`${name}\` is invalid: ${first.message}.`);
    }
    default: {
      const entry = VALUE_ERRORS.has(first.type) ? CloudErrors.INVALID_PARAMETER_VALUE : CloudErrors.INVALID_PARAMETER;
      return new GatewayError(entry, `The parameter \`${name}\` is invalid: ${first.message}.`);
    }
  }
}

/** The common fields of a request, from headers (v3) or parameters (v1). */
interface Envelope {
  action: string;
  version: string;
  region: string;
  timestamp: number;
  secretId: string;
}

type Outcome = Answer<Record<string, unknown>>;

/** Cloud API 3.0 in the HTTP pipeline: `{"Response":{…}}`, always HTTP 200 (X-TC-TraceId is set on the response first). */
const CLOUD_API: HttpFamily<Record<string, unknown>> = {
  name: 'cloud-api',
  labelKey: 'action',
  internal: CloudErrors.INTERNAL,
  write: (res, requestId, reply, close) =>
    send(res, 'error' in reply ? errorBody(requestId, reply.error.entry as CloudErrorEntry, reply.error.message) : JSON.stringify({ Response: { ...reply.result, RequestId: requestId } }), close),
};

/** What the headers and the URL tell before the body is read: the TC3 Authorization, GET's parameters, and the caller when known. */
interface Before {
  auth: Tc3Authorization | null;
  query: Map<string, string> | null;
  /** Null for a signature v1 form POST, whose common parameters are in the body. */
  caller: { env: Envelope; app: App } | null;
}

const UNSIGNED = 'The request is not signed: send an Authorization header (TC3-HMAC-SHA256) or the Signature parameter (HmacSHA1/HmacSHA256).';

/**
 * The Tencent Cloud API 3.0 gateway: `POST /` with JSON and TC3-HMAC-SHA256 (the SDK default), `GET /?…` with TC3, and
 * signature v1 (HmacSHA1/HmacSHA256) as a form POST or a GET query. Always answers HTTP 200 with `{"Response":{…}}`.
 * Everything the headers and the URL can refuse is refused before the body is read; the body, which the signature
 * covers, is then read against the server's budget of unauthenticated bytes.
 */
export class CloudApiGateway {
  private readonly versions: ReadonlySet<string>;
  private readonly now: () => number;
  private readonly bodies: BodyReader;
  private readonly nonces: Nonces;

  constructor(private readonly d: CloudApiDeps) {
    this.versions = new Set(Object.keys(d.actions).map((k) => k.slice(0, k.indexOf('/'))));
    this.now = d.now ?? Date.now;
    this.bodies = d.bodies ?? new BodyReader();
    this.nonces = d.nonces ?? new NonceLog(SIGNATURE_WINDOW_SECONDS);
  }

  /** Serves one request. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = randomUUID();
    const trace = header(req, 'x-tc-traceid');
    if (trace !== undefined && /^[\x21-\x7e]{1,128}$/.test(trace)) res.setHeader('X-TC-TraceId', trace);
    let label = 'unknown';
    serveHttp(CLOUD_API, this.d, res, { requestId: () => requestId, label: () => label }, () => this.run(req, requestId, (key) => (label = key)));
  }

  private async run(req: IncomingMessage, requestId: string, named: (key: string) => void): Promise<Outcome> {
    // 1. Method.
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET') {
      return { error: new GatewayError(CloudErrors.UNSUPPORTED_PROTOCOL, `The HTTP method ${method} is not supported; use POST or GET.`), close: true };
    }
    // 2. Size, as declared (a chunked body is measured as it arrives).
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const authorization = header(req, 'authorization');
    const limit = method === 'GET' ? CLOUD_API_GET_LIMIT : authorization !== undefined ? CLOUD_API_V3_BODY_LIMIT : CLOUD_API_V1_BODY_LIMIT;
    const bodyLimit = method === 'GET' ? limit - Buffer.byteLength(url) : limit;
    const declared = declaredLength(req);
    if (bodyLimit < 0 || (declared !== undefined && declared > bodyLimit)) return { error: tooLarge(limit), close: true };

    let held: HeldBody | UnauthenticatedRefusal | undefined;
    try {
      // 3.-7. for TC3 and GET: the signature form, the common fields, the timestamp, the SecretId and its app.
      const before = this.beforeBody(req, method, rawQuery, authorization);
      held = await this.bodies.readUnauthenticated(req, bodyLimit);
      if (held === 'ABORTED') return { aborted: true };
      if (typeof held === 'string') return { error: bodyRefused(held, limit, this.bodies.limits.timeoutMs), close: true };
      return { result: await this.serve(req, requestId, named, { method, rawQuery, before, held }) };
    } catch (err) {
      if (err instanceof GatewayError) return { error: err };
      throw err;
    } finally {
      if (typeof held === 'object') held.release();
    }
  }

  /** The checks that need no body; throws GatewayError (a CloudErrors entry). */
  private beforeBody(req: IncomingMessage, method: 'GET' | 'POST', rawQuery: string, authorization: string | undefined): Before {
    // 3. Signature form: TC3 when there is an Authorization header, v1 when the parameters carry Signature.
    const query = method === 'GET' ? parseForm(rawQuery) : null;
    if (authorization !== undefined) {
      const auth = parseTc3Authorization(authorization);
      if (!auth) throw new GatewayError(CloudErrors.INVALID_AUTHORIZATION);
      return { auth, query, caller: this.identify(req, auth, null) };
    }
    if (query) {
      if (!query.has('Signature')) throw new GatewayError(CloudErrors.INVALID_AUTHORIZATION, UNSIGNED);
      return { auth: null, query, caller: this.identify(req, null, query) };
    }
    // A v1 POST carries its signature in a form body; any other unsigned POST is refused unread.
    if (mediaType(header(req, 'content-type')) !== FORM) throw new GatewayError(CloudErrors.INVALID_AUTHORIZATION, UNSIGNED);
    return { auth: null, query: null, caller: null };
  }

  /** 4.-7.: the common fields present, the timestamp current, the SecretId well formed, its app allowed to serve the client. */
  private identify(req: IncomingMessage, auth: Tc3Authorization | null, v1: Map<string, string> | null): { env: Envelope; app: App } {
    const env = this.envelope(req, auth, v1);
    if (!SECRET_ID_FORMAT.test(env.secretId)) throw new GatewayError(CloudErrors.INVALID_SECRET_ID);
    const app = this.d.apps.bySecretId(env.secretId);
    if (!app) throw new GatewayError(CloudErrors.SECRET_ID_NOT_FOUND);
    const clientIp = req.socket.remoteAddress ?? '';
    const refusal = this.d.apps.admit(app, clientIp, this.now() / 1000);
    if (refusal === 'DISABLED') throw new GatewayError(CloudErrors.UNAUTHORIZED, 'The app owning this SecretId is disabled.');
    if (refusal === 'EXPIRED') throw new GatewayError(CloudErrors.UNAUTHORIZED, 'The app owning this SecretId has expired.');
    if (refusal === 'IP_NOT_ALLOWED') throw new GatewayError(CloudErrors.IP_NOT_IN_WHITELIST, `The IP address ${clientIp} is not in the app's allowlist.`);
    return { env, app };
  }

  private async serve(
    req: IncomingMessage,
    requestId: string,
    named: (key: string) => void,
    r: { method: 'GET' | 'POST'; rawQuery: string; before: Before; held: HeldBody },
  ): Promise<Record<string, unknown>> {
    const { auth } = r.before;
    const body = r.held.body;
    let form = r.before.query;
    if (!form && mediaType(header(req, 'content-type')) === FORM) {
      const text = utf8(body);
      if (text === null) throw new GatewayError(CloudErrors.INVALID_PARAMETER, 'The request body is not valid UTF-8.');
      form = parseForm(text);
    }
    let caller = r.before.caller;
    if (!caller) {
      // 3.-7. for a v1 form POST, from its body.
      if (!form?.has('Signature')) throw new GatewayError(CloudErrors.INVALID_AUTHORIZATION, UNSIGNED);
      caller = this.identify(req, null, form);
    }
    const { env, app } = caller;
    const v1 = auth ? null : form!;

    // 8. Signature; the request is authenticated from here on, and its body no longer counts as unauthenticated.
    if (auth) this.verifyV3(req, { method: r.method, rawQuery: r.rawQuery, body }, auth, env, app);
    else this.verifyV1(req, r.method, v1!, app);
    r.held.release();
    if (v1 && !(await this.nonces.add(env.secretId, v1.get('Nonce')!, env.timestamp, Math.floor(this.now() / 1000)))) {
      throw new GatewayError(CloudErrors.NONCE_USED);
    }

    // 9. X-TC-Token / Token: there is no STS here, so any token is accepted and ignored.

    // 10.-12. Version, action, region.
    if (!this.versions.has(env.version)) throw new GatewayError(CloudErrors.NO_SUCH_VERSION, `The API version \`${env.version}\` does not exist.`);
    const key = `${env.version}/${env.action}`;
    const action = Object.hasOwn(this.d.actions, key) ? this.d.actions[key] : undefined;
    if (!action) throw new GatewayError(CloudErrors.INVALID_ACTION, `The API \`${env.action}\` does not exist in version ${env.version}.`);
    named(key);
    if (env.region !== '' && action.regions && !action.regions.includes(env.region)) {
      throw new GatewayError(CloudErrors.UNSUPPORTED_REGION, `The API \`${env.action}\` does not support the region \`${env.region}\`.`);
    }

    // 13. Per-app, per-action rate limit.
    if (app.settings.rateLimits === 'tencent' && !(await this.d.limiter.consume(`cloud-api/${key}`, String(app.sdkAppId), action.limit, 1))) {
      throw new GatewayError(CloudErrors.REQUEST_LIMIT, `The request frequency exceeds the limit of ${action.limit} per second for \`${env.action}\`.`);
    }

    // 14. Parameters.
    const schema = action.check.Schema();
    let params: unknown;
    if (v1) params = unflatten([...v1].filter(([k]) => !V1_COMMON.has(k)), schema);
    else if (form) params = unflatten(form, schema);
    else params = parseJson(body);
    const invalid = schemaError(action, params);
    if (invalid) throw invalid;

    // 15. The action.
    const clientIp = req.socket.remoteAddress ?? '';
    try {
      return await action.handle({ app, region: env.region, requestId, clientIp, services: this.d.services }, params);
    } catch (err) {
      if (err instanceof DomainError) throw new GatewayError(domainToCloud(action, err), err.message);
      if (err instanceof GatewayError) throw err;
      this.d.log.error({ requestId, action: key, err }, 'cloud-api action failed');
      throw new GatewayError(CloudErrors.INTERNAL);
    }
  }

  /** Reads the common fields and checks that they are present and the timestamp is current. */
  private envelope(req: IncomingMessage, auth: Tc3Authorization | null, v1: Map<string, string> | null): Envelope {
    const get = (v3Name: string, v1Name: string): [string, string | undefined] =>
      v1 ? [v1Name, v1.get(v1Name)] : [v3Name, header(req, v3Name.toLowerCase())];
    const required = (v3Name: string, v1Name: string): string => {
      const [name, value] = get(v3Name, v1Name);
      if (value === undefined || value === '') throw new GatewayError(CloudErrors.MISSING_PARAMETER, `The parameter \`${name}\` is missing.`);
      return value;
    };
    const action = required('X-TC-Action', 'Action');
    const version = required('X-TC-Version', 'Version');
    if (v1) {
      required('', 'Nonce');
      required('', 'SecretId');
    }
    const [tsName] = get('X-TC-Timestamp', 'Timestamp');
    const ts = required('X-TC-Timestamp', 'Timestamp');
    if (!TIMESTAMP.test(ts)) throw new GatewayError(CloudErrors.INVALID_PARAMETER, `The parameter \`${tsName}\` must be a Unix time in seconds.`);
    const timestamp = Number(ts);
    const now = Math.floor(this.now() / 1000);
    if (Math.abs(now - timestamp) > SIGNATURE_WINDOW_SECONDS) {
      throw new GatewayError(
        CloudErrors.SIGNATURE_EXPIRE,
        `Signature expired: ${tsName} ${ts} and the server time ${now} differ by more than ${SIGNATURE_WINDOW_SECONDS} seconds.`,
      );
    }
    return { action, version, region: get('X-TC-Region', 'Region')[1] ?? '', timestamp, secretId: auth ? auth.secretId : v1!.get('SecretId')! };
  }

  private verifyV3(
    req: IncomingMessage,
    r: { method: string; rawQuery: string; body: Buffer },
    auth: Tc3Authorization,
    env: Envelope,
    app: App,
  ): void {
    const date = utcDate(env.timestamp);
    if (auth.date !== date) {
      throw new GatewayError(CloudErrors.SIGNATURE_FAILURE, `The credential scope date ${auth.date} is not the UTC date of X-TC-Timestamp (${date}).`);
    }
    const ok = verifyTc3({
      method: r.method,
      query: r.rawQuery,
      headers: req.headers,
      body: r.body,
      timestamp: header(req, 'x-tc-timestamp')!,
      auth,
      secretKey: app.cloudApi.secretKey,
    });
    if (!ok) throw new GatewayError(CloudErrors.SIGNATURE_FAILURE);
  }

  private verifyV1(req: IncomingMessage, method: string, params: Map<string, string>, app: App): void {
    const sigMethod = params.get('SignatureMethod') ?? 'HmacSHA1';
    if (!V1_METHODS.has(sigMethod)) throw new GatewayError(CloudErrors.SIGNATURE_FAILURE, 'SignatureMethod must be HmacSHA1 or HmacSHA256.');
    const signed = Object.fromEntries(params);
    const given = params.get('Signature') ?? '';
    let ok = false;
    // The SDK signs the Host as sent (with the port); other clients may sign the bare hostname.
    for (const host of hostCandidates(header(req, 'host') ?? '')) {
      const expected = v1Signature(app.cloudApi.secretKey, sigMethod as V1SignatureMethod, v1StringToSign(method, host, signed));
      if (safeEqual(expected, given)) ok = true;
    }
    if (!ok) throw new GatewayError(CloudErrors.SIGNATURE_FAILURE);
  }
}

/** The JSON body of a TC3 POST: an object; an empty body counts as `{}`. */
function parseJson(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const text = utf8(raw);
  if (text === null) throw new GatewayError(CloudErrors.INVALID_PARAMETER, 'The request body is not valid UTF-8.');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GatewayError(CloudErrors.INVALID_PARAMETER, 'The request body is malformed JSON.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError(CloudErrors.INVALID_PARAMETER, 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function tooLarge(limit: number): GatewayError<CloudErrorEntry> {
  return new GatewayError(CloudErrors.REQUEST_SIZE, `The request exceeds the size limit of ${limit} bytes.`);
}

/** The error for a body that was not read (ABORTED is never answered). */
function bodyRefused(why: Exclude<UnauthenticatedRefusal, 'ABORTED'>, limit: number, timeoutMs: number): GatewayError<CloudErrorEntry> {
  switch (why) {
    case 'TOO_LARGE':
      return tooLarge(limit);
    case 'CONNECTION_FULL':
      return new GatewayError(CloudErrors.REQUEST_SIZE, 'The connection already carries as many unauthenticated request bytes as the server accepts.');
    case 'BUSY':
      return new GatewayError(CloudErrors.REQUEST_LIMIT, 'The server is receiving too many unauthenticated request bodies at once; retry later.');
    case 'TIMEOUT':
      return new GatewayError(CloudErrors.INVALID_PARAMETER, `The request body did not arrive within ${timeoutMs} ms.`);
  }
}

function errorBody(requestId: string, entry: CloudErrorEntry, message: string): string {
  return JSON.stringify({ Response: { Error: { Code: entry.code, Message: message }, RequestId: requestId } });
}

/** HTTP 200, `Content-Type: application/json` (exactly: the SDK switches to SSE on other types). */
function send(res: ServerResponse, body: string, close = false): void {
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
  if (close) headers.Connection = 'close';
  res.writeHead(200, headers);
  res.end(body);
}
