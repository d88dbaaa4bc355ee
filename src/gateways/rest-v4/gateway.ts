import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestIds } from '../../http/request-ids.ts';
import type { VerifyResult } from '../../auth/usersig.ts';
import { BodyReader, declaredLength, parseQuery, sendJson, utf8 } from '../../http/body.ts';
import type { RateLimiter } from '../../limits/rate-limiter.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import { DomainError } from '../../services/errors.ts';
import { domainToRest, type CommandTable, type RestCommand, type RestServices } from './command.ts';
import { RestErrors, type RestErrorEntry } from './errors.ts';
import { GatewayError } from '../gateway-error.ts';
import { serveHttp, type Answer, type HttpFamily } from '../http-pipeline.ts';

const PATH = /^\/v4\/([A-Za-z0-9_]+)\/([A-Za-z0-9_]+)$/;
const UINT = /^\d{1,10}$/;

/** What the REST v4 gateway needs from the rest of the server. */
interface RestV4Deps {
  apps: AppsService;
  services: RestServices;
  commands: CommandTable;
  limiter: RateLimiter;
  log: Logger;
  metrics: Metrics;
  bodyLimit: number;
  /** The server's body reader (limits and timeout); the body is read only once the request is authenticated. */
  bodies?: BodyReader;
  /** Where RequestIds come from (the server's; a source of its own by default). */
  ids?: RequestIds;
}

const SIG_ERRORS: Record<Exclude<VerifyResult, { ok: true }>['reason'], RestErrorEntry> = {
  EMPTY: RestErrors.SIG_EMPTY,
  MALFORMED: RestErrors.SIG_INVALID,
  V1_UNSUPPORTED: RestErrors.SIG_INVALID,
  FIELD_MISSING: RestErrors.SIG_INVALID,
  IDENTIFIER_MISMATCH: RestErrors.SIG_IDENTIFIER_MISMATCH,
  SDKAPPID_MISMATCH: RestErrors.SIG_SDKAPPID_MISMATCH,
  EXPIRED: RestErrors.SIG_EXPIRED,
  SIG_MISMATCH: RestErrors.SIG_KEY_MISMATCH,
  USERBUF_MISMATCH: RestErrors.SIG_INVALID,
};

/** Renders the REST v4 envelope: ActionStatus, ErrorInfo, ErrorCode, RequestId, then the payload. */
export function envelope(requestId: string, code: number, info: string, payload?: Record<string, unknown>): string {
  const head = `{"ActionStatus":"${code === 0 ? 'OK' : 'FAIL'}","ErrorInfo":${JSON.stringify(info)},"ErrorCode":${code},"RequestId":"${requestId}"`;
  if (!payload) return head + '}';
  const rest = JSON.stringify(payload);
  return rest === '{}' ? head + '}' : `${head},${rest.slice(1)}`;
}

/** Finds the first schema problem: the field's own code if the command lists one, 60015 for a non-string account field, else the command's invalid code. */
function schemaError(cmd: RestCommand, body: unknown): GatewayError<RestErrorEntry> | null {
  if (cmd.check.Check(body)) return null;
  const first = cmd.check.Errors(body).First();
  if (!first) return new GatewayError(cmd.invalid);
  const field = cmd.fieldErrors?.[first.path.split('/')[1] ?? ''];
  if (field) return new GatewayError(field, `${field.message} ${first.path}: ${first.message}`);
  if ((first.schema as Record<string, unknown>)['x-account'] && first.value !== undefined && typeof first.value !== 'string') {
    return new GatewayError(RestErrors.ACCOUNT_TYPE, `${RestErrors.ACCOUNT_TYPE.message} (${first.path})`);
  }
  return new GatewayError(cmd.invalid, `${cmd.invalid.message} ${first.path || '/'}: ${first.message}`);
}

/** REST v4 in the HTTP pipeline: the v4 envelope, always HTTP 200. */
const REST_V4: HttpFamily<Record<string, unknown> | undefined> = {
  name: 'rest-v4',
  labelKey: 'command',
  internal: RestErrors.INTERNAL,
  write: (res, requestId, reply, close) =>
    sendJson(res, 200, 'error' in reply ? envelope(requestId, Number(reply.error.entry.code), reply.error.message) : envelope(requestId, 0, '', reply.result), close),
};

/**
 * The REST API v4 gateway: `POST /v4/<service>/<command>?sdkappid&identifier&usersig&random&contenttype`. The URL
 * carries the credentials, so a request is authenticated before its body is read: a refused one costs no buffering.
 */
export class RestV4Gateway {
  private readonly bodies: BodyReader;
  private readonly ids: RequestIds;

  constructor(private readonly d: RestV4Deps) {
    this.bodies = d.bodies ?? new BodyReader();
    this.ids = d.ids ?? new RequestIds();
  }

  /** Serves one request; always answers HTTP 200 with the v4 envelope. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = this.ids.rest();
    let command = 'unknown';
    serveHttp(REST_V4, this.d, res, { requestId: () => requestId, label: () => command }, () => this.run(req, requestId, (c) => (command = c)));
  }

  private async run(req: IncomingMessage, requestId: string, named: (command: string) => void): Promise<Answer<Record<string, unknown> | undefined>> {
    const refuse = (entry: RestErrorEntry, info: string) => ({ error: new GatewayError(entry, info), close: true });
    const tooLarge = () => refuse(RestErrors.REQUEST_FORMAT, `request body larger than ${this.d.bodyLimit} bytes`);
    try {
      const declared = declaredLength(req);
      if (declared !== undefined && declared > this.d.bodyLimit) return tooLarge();
      const { cmd, app, identifier } = await this.admit(req, named);
      const raw = await this.bodies.read(req, this.d.bodyLimit);
      if (raw === 'ABORTED') return { aborted: true };
      if (raw === 'TOO_LARGE') return tooLarge();
      if (raw === 'TIMEOUT') return refuse(RestErrors.REQUEST_FORMAT, `request body not received within ${this.bodies.limits.timeoutMs} ms`);
      const body = parseBody(raw);
      const invalid = schemaError(cmd, body);
      if (invalid) throw invalid;
      const payload = await cmd.handle({ app, identifier, requestId, clientIp: req.socket.remoteAddress ?? '', services: this.d.services }, body).catch((err: unknown) => {
        if (err instanceof DomainError) {
          const entry = domainToRest(cmd, err);
          throw new GatewayError(entry, `${entry.message} ${err.message}`);
        }
        if (err instanceof GatewayError) throw err;
        this.d.log.error({ requestId, err }, 'rest-v4 handler failed');
        throw new GatewayError(cmd.internal);
      });
      return { result: payload };
    } catch (err) {
      if (err instanceof GatewayError) return { error: err };
      throw err;
    }
  }

  /** URL, method, app, UserSig, admin, rate-limit checks, in that order (docs/compatibility.md). */
  private async admit(req: IncomingMessage, named: (command: string) => void): Promise<{ cmd: RestCommand; app: App; identifier: string }> {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const m = PATH.exec(q < 0 ? url : url.slice(0, q));
    if (!m) throw new GatewayError(RestErrors.HTTP_PARSE, `${RestErrors.HTTP_PARSE.message} Expected /v4/<service>/<command>.`);
    if (req.method !== 'POST') throw new GatewayError(RestErrors.REQUEST_FORMAT, 'only POST is supported');
    const key = `${m[1]}/${m[2]}`;
    const cmd = Object.hasOwn(this.d.commands, key) ? this.d.commands[key] : undefined;
    if (!cmd) throw new GatewayError(RestErrors.RESOURCE, `${RestErrors.RESOURCE.message} Unknown command v4/${key}.`);
    named(key);

    const params = parseQuery(q < 0 ? '' : url.slice(q + 1));
    if (!params) throw new GatewayError(RestErrors.HTTP_PARSE, 'the query string is not valid UTF-8 once percent-decoded');
    const random = params.get('random');
    if (random === null || !UINT.test(random) || Number(random) > 0xffffffff) {
      throw new GatewayError(RestErrors.HTTP_PARSE, 'random must be an unsigned 32-bit integer');
    }
    if (params.get('contenttype') !== 'json') throw new GatewayError(RestErrors.HTTP_PARSE, 'contenttype must be json');
    const sdkappid = params.get('sdkappid');
    if (!sdkappid) throw new GatewayError(RestErrors.SDKAPPID_MISSING);
    const app = UINT.test(sdkappid) ? this.d.apps.get(Number(sdkappid)) : undefined;
    if (!app) throw new GatewayError(RestErrors.SDKAPPID_INVALID);
    const refusal = this.d.apps.admit(app, req.socket.remoteAddress);
    if (refusal === 'DISABLED') throw new GatewayError(RestErrors.APP_DISABLED);
    if (refusal === 'EXPIRED') throw new GatewayError(RestErrors.PACKAGE_EXPIRED);
    if (refusal === 'IP_NOT_ALLOWED') throw new GatewayError(RestErrors.IP_NOT_ALLOWED);

    const identifier = params.get('identifier');
    if (!identifier) throw new GatewayError(RestErrors.ACCOUNT_OR_SIG, 'identifier is missing from the URL');
    const verdict = this.d.apps.verifyUserSig(app.sdkAppId, identifier, params.get('usersig') ?? '');
    if (!verdict.ok) throw new GatewayError(SIG_ERRORS[verdict.reason], `${SIG_ERRORS[verdict.reason].message} (${verdict.message})`);
    if (!this.d.apps.isAdmin(app.sdkAppId, identifier)) throw new GatewayError(RestErrors.ADMIN_REQUIRED);

    const s = app.settings;
    if (s.appRateLimit > 0 && !(await this.d.limiter.consume('rest-v4', String(app.sdkAppId), s.appRateLimit, 1))) {
      throw new GatewayError(RestErrors.APP_RATE_LIMIT);
    }
    if (s.rateLimits === 'tencent' && !(await this.d.limiter.consume(key, String(app.sdkAppId), cmd.limit.points, cmd.limit.seconds))) {
      throw new GatewayError(cmd.limited);
    }
    return { cmd, app, identifier };
  }
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) throw new GatewayError(RestErrors.JSON_PARSE, 'the request body is empty; send {} when no fields are needed');
  const text = utf8(raw);
  if (text === null) throw new GatewayError(RestErrors.JSON_PARSE, 'the request body is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new GatewayError(RestErrors.JSON_PARSE);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError(RestErrors.JSON_PARSE, 'the request body must be a JSON object');
  }
  return body;
}
