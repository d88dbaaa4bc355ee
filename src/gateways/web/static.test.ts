import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../../test/helpers/server.ts';
import { findPackageRoot } from '../../package-root.ts';
import { createWebHandler } from './static.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (fetch would normalise the path and refuse bodies on HEAD). */
function call(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web static handler', () => {
  let server: Server;
  let base: string;

  before(async () => {
    const handle = createWebHandler();
    server = createServer((req, res) => {
      if (!handle(req, res)) res.writeHead(418).end('not mine');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the SDK as one browser ES module, with an ETag', async () => {
    const r = await call(base, 'GET', '/sdk/trtcd.js');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers.etag), /^"[\w-]{22}"$/);
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body));
    assert.doesNotMatch(r.body, /\bfrom\s*["'](node:|ws["'])|require\(/, 'no Node-only imports in the bundle');
    assert.doesNotMatch(r.body, /^import /m, 'one file: nothing left to import');
    assert.doesNotMatch(r.body, /\.\.\/|\/tmp\/|\/work\//, 'no paths of the build machine');
    const mod = (await import(`data:text/javascript;base64,${Buffer.from(r.body).toString('base64')}`)) as Record<string, unknown>;
    assert.equal(typeof mod.TrtcdClient, 'function');
    assert.equal(typeof mod.genTestUserSig, 'function');
    assert.equal(mod.CONNECTION_LOST, -1);
    // Cached: the same bytes and tag; a matching If-None-Match gets 304; HEAD gets the headers only.
    const again = await call(base, 'GET', '/sdk/trtcd.js?v=2');
    assert.equal(again.body, r.body);
    assert.equal(again.headers.etag, r.headers.etag);
    const cached = await call(base, 'GET', '/sdk/trtcd.js', { 'If-None-Match': String(r.headers.etag) });
    assert.equal(cached.status, 304);
    assert.equal(cached.body, '');
    const head = await call(base, 'HEAD', '/sdk/trtcd.js');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], r.headers['content-length']);
  });

  it('serves the demo page and its files, redirecting /demo to /demo/', async () => {
    const page = await call(base, 'GET', '/demo/');
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(page.body, /<script type="module" src="demo.js">/);
    assert.equal((await call(base, 'GET', '/demo/index.html')).body, page.body);
    const js = await call(base, 'GET', '/demo/demo.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(js.body, /\/sdk\/trtcd\.js/);
    assert.equal((await call(base, 'GET', '/demo/demo.css')).headers['content-type'], 'text/css; charset=utf-8');
    const redirect = await call(base, 'GET', '/demo?server=x');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/demo/?server=x');
    const head = await call(base, 'HEAD', '/demo/');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], page.headers['content-length']);
    assert.equal((await call(base, 'GET', '/demo/', { 'If-None-Match': String(page.headers.etag) })).status, 304);
  });

  it('serves only the known files: no traversal, 404 otherwise, 405 for other methods', async () => {
    for (const path of ['/demo/../package.json', '/demo/%2e%2e/package.json', '/demo/..%2fpackage.json', '/demo/nope.js', '/demo/sub/', '/demo//etc/passwd', '/demo/demo.js/']) {
      const r = await call(base, 'GET', path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, /"name"/);
    }
    const post = await call(base, 'POST', '/sdk/trtcd.js');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    for (const path of ['/sdk', '/sdk/other.js', '/demos', '/v4/x/y', '/index.html']) assert.equal((await call(base, 'GET', path)).status, 418, path);
    for (const path of ['/', '/favicon.ico']) assert.equal((await call(base, 'POST', path, { Accept: '*/*' })).status, 418, `POST ${path} is left to the API gateways`);
  });

  it('answers GET / with a landing page linking the demo, the SDK and the health check, and /favicon.ico with an icon', async () => {
    const html = { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const home = await call(base, 'GET', '/', html);
    assert.equal(home.status, 200);
    assert.match(String(home.headers['content-type']), /^text\/html/);
    for (const link of ['/demo/', '/demo/trtc-sdk.html', '/sdk/trtcd.js', '/healthz', '/metrics']) assert.ok(home.body.includes(`href="${link}"`), link);
    const icon = await call(base, 'GET', '/favicon.ico', { Accept: 'image/avif,image/webp,*/*' });
    assert.equal(icon.status, 200);
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.match(icon.body, /^<svg /);
    const head = await call(base, 'HEAD', '/', { Accept: '*/*' });
    assert.deepEqual([head.status, head.body], [200, '']);
    // An API client (no Accept, or JSON) and a query string are left to the API gateways.
    for (const [path, headers] of [['/', {}], ['/', { Accept: 'application/json' }], ['/?a=1', html]] as const) {
      assert.equal((await call(base, 'GET', path, headers)).status, 418, `${path} ${JSON.stringify(headers)}`);
    }
  });

  it('answers 404 when the web files are missing', async () => {
    const dir = tempDir();
    try {
      const handle = createWebHandler({ root: dir });
      const s = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      const b = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      assert.equal((await call(b, 'GET', '/demo/')).status, 404);
      assert.equal((await call(b, 'GET', '/sdk/trtcd.js')).status, 500);
      await new Promise<void>((resolve) => s.close(() => resolve()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('findPackageRoot', () => {
  it('finds the trtcd package from its sources and from the CLI bundle cache', () => {
    assert.equal(findPackageRoot([join(ROOT, 'src/gateways/web')]), ROOT);
    assert.equal(findPackageRoot([undefined, join(ROOT, 'node_modules/.cache/trtcd')]), ROOT);
  });

  it('skips other packages on the way up and falls back to later starts', () => {
    const dir = tempDir();
    try {
      mkdirSync(join(dir, 'other/deep'), { recursive: true });
      writeFileSync(join(dir, 'other/package.json'), '{"name":"other"}');
      writeFileSync(join(dir, 'package.json'), '{"name":"trtcd"}');
      assert.equal(findPackageRoot([join(dir, 'other/deep')]), dir);
      writeFileSync(join(dir, 'package.json'), 'not json');
      assert.equal(findPackageRoot([join(dir, 'other/deep'), ROOT]), ROOT);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
