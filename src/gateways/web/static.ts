// The browser side of trtcd over HTTP: a landing page with links (GET /) and its icon (GET /favicon.ico), the client
// SDK bundled as one ES module (GET /sdk/trtcd.js) and the demo page (GET /demo/). Only the files listed here are
// served, so no request path can reach anything else on disk.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { packageRoot } from '../../package-root.ts';

/** Where the bundled SDK is served. */
const SDK_PATH = '/sdk/trtcd.js';
/** Where the demo page is served. */
const DEMO_PATH = '/demo/';

const JS = 'text/javascript; charset=utf-8';
const HTML = 'text/html; charset=utf-8';
/** Pages outside /demo/: the landing page and its icon (other methods, queries and API clients on `/` are left to the API gateways). */
const PAGES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'web/index.html', type: HTML },
  '/favicon.ico': { file: 'web/favicon.svg', type: 'image/svg+xml' },
};
/** The demo's files (under the package root) and their types; `''` is the page itself. */
const DEMO_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '': { file: 'web/demo/index.html', type: HTML },
  'index.html': { file: 'web/demo/index.html', type: HTML },
  'demo.js': { file: 'web/demo/demo.js', type: JS },
  'demo.css': { file: 'web/demo/demo.css', type: 'text/css; charset=utf-8' },
  // The variant on Tencent's Web SDK, whose browser bundle comes from the installed trtc-sdk-v5 package.
  'trtc-sdk.html': { file: 'web/demo/trtc-sdk.html', type: HTML },
  'trtc-sdk.js': { file: 'web/demo/trtc-sdk.js', type: JS },
  'vendor/trtc.js': { file: 'node_modules/trtc-sdk-v5/trtc.js', type: JS },
};

/** Bundles web/sdk/index.ts into one browser ES module with esbuild. */
async function bundleSdk(root: string): Promise<string> {
  const { build } = await import('esbuild');
  const out = await build({
    entryPoints: ['web/sdk/index.ts'],
    // Relative to the package root, so the bundle's path comments name web/sdk/… and nothing of this machine.
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** Options of createWebHandler. */
interface WebHandlerOptions {
  /** The package root holding web/; default: found from this module or the entry script. */
  root?: string;
}

/** Answers GET/HEAD for the landing page, the SDK bundle and the demo; returns false (nothing sent) for any other request. */
type WebHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A handler for /sdk/trtcd.js (bundled on first request, then kept in memory) and /demo/. */
export function createWebHandler(o: WebHandlerOptions = {}): WebHandler {
  let root: string | undefined | null = o.root ?? null;
  const webRoot = () => (root === null ? (root = packageRoot()) : root);
  let sdk: Promise<{ body: Buffer; etag: string }> | undefined;

  const loadSdk = (dir: string) => {
    sdk ??= bundleSdk(dir).then((text) => withTag(Buffer.from(text)));
    // A failed build is not kept: the next request tries again.
    sdk.catch(() => (sdk = undefined));
    return sdk;
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    // Exactly `/` or `/favicon.ico` from a client that takes a page (a browser, curl): API clients ask for JSON.
    const page = Object.hasOwn(PAGES, url) && /text\/html|image\/|\*\/\*/.test(req.headers.accept ?? '') ? PAGES[url] : undefined;
    if (page && (req.method === 'GET' || req.method === 'HEAD')) {
      sendFile(req, res, webRoot(), page);
      return true;
    }
    if (path !== SDK_PATH && path !== '/demo' && !path.startsWith(DEMO_PATH)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }, Buffer.from('Method Not Allowed\n'));
      return true;
    }
    if (path === '/demo') {
      send(req, res, 301, { Location: DEMO_PATH + (q < 0 ? '' : url.slice(q)) }, Buffer.alloc(0));
      return true;
    }
    const dir = webRoot();
    const entry = path === SDK_PATH ? undefined : DEMO_FILES[path.slice(DEMO_PATH.length)];
    if (!dir || (path !== SDK_PATH && !entry)) {
      notFound(req, res);
      return true;
    }
    if (path === SDK_PATH) {
      loadSdk(dir).then(
        ({ body, etag }) => reply(req, res, JS, body, etag),
        () => send(req, res, 500, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('SDK bundle failed to build\n')),
      );
      return true;
    }
    sendFile(req, res, dir, entry!);
    return true;
  };
}

/** One of the listed files under the package root (read on each request, so it follows the sources), or 404. */
export function sendFile(req: IncomingMessage, res: ServerResponse, dir: string | undefined, entry: { file: string; type: string }): void {
  let body: Buffer;
  try {
    if (!dir) throw new Error('no package root');
    body = readFileSync(join(dir, entry.file));
  } catch {
    return notFound(req, res);
  }
  reply(req, res, entry.type, body, withTag(body).etag);
}

function withTag(body: Buffer): { body: Buffer; etag: string } {
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** 200 with the body, or 304 when the client has this version; clients revalidate every time (the SDK follows the sources). */
function reply(req: IncomingMessage, res: ServerResponse, type: string, body: Buffer, etag: string): void {
  const headers = { 'Content-Type': type, ETag: etag, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' };
  const match = req.headers['if-none-match'];
  if (match !== undefined && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return send(req, res, 304, headers, Buffer.alloc(0));
  send(req, res, 200, headers, body);
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  send(req, res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('Not Found\n'));
}

/** Sends a whole response (no body for HEAD and 304). */
export function send(req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
  res.writeHead(status, status === 304 ? headers : { ...headers, 'Content-Length': String(body.length) });
  res.end(req.method === 'HEAD' || status === 304 ? undefined : body);
}

/** The handler trtcd's HTTP server uses. */
export const serveWeb: WebHandler = createWebHandler();
