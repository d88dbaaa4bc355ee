// The two HTTP endpoints of trtc-sdk-v5 besides its WebSocket: the schedule, which points the SDK back at this node,
// and the log/report uploads, which are accepted and counted.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BodyReader } from '../../http/body.ts';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { LOGGER_PATH, SCHEDULE_PATH } from './protocol.ts';

/** Largest schedule form or log upload read, bytes (the SDK's logs are batched into uploads of some KB). */
const SDK_HTTP_BODY_LIMIT = 256 * 1024;

/** Whether a request is for one of the SDK's HTTP endpoints. */
export function isSdkHttpPath(url: string): boolean {
  const path = url.split('?', 1)[0];
  return path === SCHEDULE_PATH || path === LOGGER_PATH;
}

/** Pages on other origins call these endpoints: answer CORS, with the preflight. */
function cors(req: IncomingMessage, res: ServerResponse): boolean {
  res.setHeader('Access-Control-Allow-Origin', '*');
  if (req.method !== 'OPTIONS') return false;
  res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST, OPTIONS', 'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*', 'Access-Control-Max-Age': '86400' });
  res.end();
  return true;
}

function reply(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...(close ? { Connection: 'close' } : {}) });
  res.end(text);
}

/**
 * The schedule and log endpoints. The schedule answers with this node (the Host the request came to) as the
 * signalling domain and the log domain, so a SDK pointed here by `scheduleProxy`, `unifiedProxy` or DNS stays here.
 */
export class SdkHttp {
  constructor(private readonly d: { bodies: BodyReader; log: Logger; metrics: Metrics }) {}

  /** Serves POST /api/v1/config and POST /v5/AVQualityReportSvc/C2S (and their CORS preflights). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const start = process.hrtime.bigint();
    if (cors(req, res)) return;
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const command = path === SCHEDULE_PATH ? 'schedule' : 'log_upload';
    if (req.method !== 'POST') {
      reply(res, 405, { code: -1, msg: 'POST only', data: {} });
      this.d.metrics.observe('trtc-sdk', command, -1, start);
      return;
    }
    // Neither endpoint is authenticated (the SDK sends no credentials there): bodies count against that budget.
    void this.d.bodies.readUnauthenticated(req, SDK_HTTP_BODY_LIMIT).then((held) => {
      if (typeof held === 'string') {
        if (held === 'ABORTED') return this.d.log.debug({ command }, 'trtc-sdk upload aborted by the client');
        const [status, msg] = held === 'TIMEOUT' ? [408, 'body not received in time'] : held === 'BUSY' ? [503, 'server busy'] : [413, 'body too large'];
        // The rest of the body is left unread: only closing frees the connection.
        reply(res, status, { code: -1, msg, data: {} }, true);
        this.d.metrics.observe('trtc-sdk', command, -1, start);
        return;
      }
      const body = held.body;
      held.release();
      if (command === 'schedule') {
        reply(res, 200, { code: 0, msg: '', data: this.schedule(req) });
      } else {
        const q = new URLSearchParams((req.url ?? '').slice(path.length + 1));
        // The content is the SDK's own log and telemetry: useful when debugging a client, noise otherwise.
        this.d.log.debug({ sdkAppId: q.get('sdkappid'), cmdtype: q.get('cmdtype'), bytes: body.length, content: body.toString('utf8', 0, 4096) }, 'trtc-sdk log upload');
        reply(res, 200, { code: 0 });
      }
      this.d.metrics.observe('trtc-sdk', command, 0, start);
    });
  }

  /** The schedule reply's data: this node for signalling and logs, no ICE servers, one PeerConnection, no caching. */
  private schedule(req: IncomingMessage): Record<string, unknown> {
    const host = hostOf(req);
    const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    return { domains: [host, host], iceServers: [], config: { singlePC: true, loggerDomain: `${scheme}://${host}`, scheduleCache: false } };
  }
}

/** host[:port] this request was sent to (what the SDK should connect to next). */
function hostOf(req: IncomingMessage): string {
  const h = req.headers.host;
  if (h && /^[A-Za-z0-9.\-[\]:]{1,255}$/.test(h)) return h;
  const a = req.socket.localAddress ?? '127.0.0.1';
  return `${a.includes(':') ? `[${a}]` : a}:${req.socket.localPort}`;
}
