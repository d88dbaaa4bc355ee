// trtcd started with --tls-cert/--tls-key (a self-signed certificate made at test time) serves https and wss on its one
// port: Tencent's unmodified Web SDK in Chromium reaches it by `unifiedProxy`, by `scheduleProxy`, and with no proxy at
// all by resolving Tencent's own hostnames to it (the no-code-change route of docs/trtc-web-sdk.md).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { genUserSig } from '../../src/auth/usersig.ts';
import { CHROMIUM_MEDIA_ARGS, chromiumMissing, launchChromium } from '../helpers/browser.ts';
import { runCli, startChild, type ServerChild } from '../helpers/child.ts';
import { tempDir } from '../helpers/server.ts';
import { opensslMissing, selfSignedCert, type TestCert } from '../helpers/tls.ts';
import { callSdk, enterRoom, framesGrow, openSdkPage, watchRemoteVideo, type SdkPage } from '../helpers/trtc-sdk-page.ts';

const noOpenssl = opensslMissing();
const skip = noOpenssl || chromiumMissing();
if (skip) console.log(`# skipping the trtc-sdk-v5 TLS tests: ${skip}`);

/** Tencent's hosts a China sdkAppId (≥ 1400000000) contacts without a proxy: the schedule pair and the logger (docs/trtc-web-sdk.md). */
const TENCENT_HOSTS = ['schedule.cloud-rtc.com', 'schedule.cloud-rtc.net', 'yun.tim.qq.com'];

/** One HTTPS request to 127.0.0.1:`port` with this Host header, trusting only `ca` and checking the name of Host against it. */
function fetchTls(port: number, path: string, o: { host: string; ca: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const name = o.host.replace(/:\d+$/, '');
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, path, method: o.method ?? 'GET', ca: o.ca, servername: isIP(name) ? undefined : name, headers: { ...o.headers, Host: o.host } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** `p`, or a failure naming `what` after `ms` (page.evaluate has no time limit of its own). */
function within<T>(p: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** `s` with the characters of a regular expression escaped. */
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The multipart form the SDK posts to the schedule (a few of its fields). */
function scheduleForm(): { headers: Record<string, string>; body: string } {
  const boundary = '----trtcdTlsTest';
  const fields = { userId: 'u1', sdkAppId: '1400000001', isStrGroupId: 'false', groupId: '1234', sdkVersion: '5.17.1', frameWorkType: '30' };
  const body = `${Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('')}--${boundary}--\r\n`;
  return { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` }, body };
}

let cert: TestCert;
let child: ServerChild;
let app: { sdkAppId: number; secretKey: string };
let dir: string | undefined;

before(async () => {
  if (noOpenssl) return;
  cert = selfSignedCert();
  dir = tempDir();
  const created = runCli(['app', 'create', '--json', '--data-dir', dir]);
  assert.equal(created.status, 0, created.stderr);
  app = JSON.parse(created.stdout) as typeof app;
  child = await startChild(['--data-dir', dir, '--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
});
after(async () => {
  await child?.stop();
  for (const d of [dir, cert && dirname(cert.certFile)]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('trtcd over TLS, from Node', { skip: noOpenssl }, () => {
  it('logs an https:// url, and serves /healthz over https', async () => {
    assert.equal(child.url, `https://127.0.0.1:${child.port}`);
    assert.match(child.output(), new RegExp(`"url":"https://127\\.0\\.0\\.1:${child.port}"[^\\n]*"msg":"trtcd listening"`));
    const r = await fetchTls(child.port, '/healthz', { host: `127.0.0.1:${child.port}`, ca: cert.cert });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { status: string }).status, 'ok');
  });

  it('the schedule answers the Host it was sent to as domains and https://<Host> as loggerDomain', async () => {
    for (const host of [`127.0.0.1:${child.port}`, 'schedule.cloud-rtc.com', 'schedule.cloud-rtc.net']) {
      const r = await fetchTls(child.port, '/api/v1/config', { host, ca: cert.cert, method: 'POST', ...scheduleForm() });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers['access-control-allow-origin'], '*');
      const reply = JSON.parse(r.body) as { code: number; data: { domains: string[]; config: { loggerDomain: string; singlePC: boolean } } };
      assert.equal(reply.code, 0);
      assert.deepEqual(reply.data.domains, [host, host]);
      assert.equal(reply.data.config.loggerDomain, `https://${host}`);
    }
    const log = await fetchTls(child.port, '/v5/AVQualityReportSvc/C2S?sdkappid=1400000001&cmdtype=jssdk_log', { host: 'yun.tim.qq.com', ca: cert.cert, method: 'POST', body: 'a log line' });
    assert.deepEqual([log.status, JSON.parse(log.body)], [200, { code: 0 }]);
  });

  it('upgrades wss://…/v2/ws on the same port; the SDK channel opens with cmd 19', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${child.port}/v2/ws?sdkAppId=${app.sdkAppId}&userId=u1&userSig=x`, { ca: cert.cert });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d: Buffer) => resolve(d.toString()));
      ws.once('error', reject);
    });
    ws.close();
    assert.equal((JSON.parse(first) as { cmd: number }).cmd, 19);
  });
});

describe('trtc-sdk-v5 against trtcd over TLS', { skip }, () => {
  let browser: Browser;
  const pages: SdkPage[] = [];

  before(async () => {
    // Tencent's hostnames (port 443) go to trtcd's port; certificate errors are ignored (docs/trtc-web-sdk.md, "No code change").
    const rules = TENCENT_HOSTS.map((h) => `MAP ${h} 127.0.0.1:${child.port}`).join(', ');
    browser = await launchChromium([...CHROMIUM_MEDIA_ARGS, '--ignore-certificate-errors', `--host-resolver-rules=${rules}`]);
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
  });
  after(() => browser?.close());

  const open = async (): Promise<SdkPage> => {
    const p = await openSdkPage(browser, child.url);
    pages.push(p);
    return p;
  };
  const params = (userId: string, roomId: number, proxy: Record<string, unknown> | undefined) => ({
    sdkAppId: app.sdkAppId,
    userId,
    userSig: genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: 3600 }),
    roomId,
    ...(proxy ? { proxy } : {}),
  });

  /**
   * Two SDK users enter `roomId` by the route `proxy` gives (none: DNS), see each other, and the second decodes the
   * first one's camera. Resolves to what the first page asked for: `METHOD url status` and `WS url` lines.
   */
  async function meet(label: string, roomId: number, proxy: Record<string, unknown> | undefined): Promise<string[]> {
    const [a, b] = [await open(), await open()];
    const [ua, ub] = [`${label}-a`, `${label}-b`];
    const seen: string[] = [];
    a.page.on('response', (r) => void seen.push(`${r.request().method()} ${r.url()} ${r.status()}`));
    a.page.on('requestfailed', (r) => void seen.push(`${r.method()} ${r.url()} failed: ${r.failure()?.errorText}`));
    a.page.on('websocket', (ws) => void seen.push(`WS ${ws.url()}`));
    // The SDK's own warnings, to tell a failure under load from a wrong route.
    const warnings: string[] = [];
    for (const [who, p] of [[ua, a], [ub, b]] as const) p.page.on('console', (m) => void (['warning', 'error'].includes(m.type()) && warnings.push(`${who}: ${m.text().slice(0, 300)}`)));
    assert.equal(await within(enterRoom(a, params(ua, roomId, proxy)), `${ua} enterRoom`), 'ok');
    assert.equal(await within(enterRoom(b, params(ub, roomId, proxy)), `${ub} enterRoom`), 'ok');
    assert.deepEqual(await a.waitEvent('remote-user-enter', `e.userId === "${ub}"`), { userId: ub });
    assert.equal(await within(callSdk(a, 'startLocalVideo'), `${ua} startLocalVideo`), 'ok');
    await b.waitEvent('remote-video-available', `e.userId === "${ua}" && e.streamType === "main"`);
    await within(watchRemoteVideo(b, ua), `${ub} startRemoteVideo`);
    // Patient: the machine may be busy with other browsers (a route that is wrong fails long before).
    const got = await framesGrow(b.page, ua, 'main', 30_000).catch((err: Error) => {
      // What the server saw of these two users, and its warnings (a media connection that ended says where ICE and DTLS stood).
      const server = child.output().split('\n').filter((l) => l.includes(`"${ua}"`) || l.includes(`"${ub}"`) || /"level":(40|50)/.test(l));
      throw new Error(`${err.message}\nthe SDK warned:\n${warnings.join('\n')}\nthe server logged:\n${server.join('\n')}`, { cause: err });
    });
    assert.ok(got.width > 0);
    assert.deepEqual([...a.errors, ...b.errors], []);
    return seen;
  }

  /** Waits (≤ 10 s) until `seen` has a line matching `re`. */
  async function saw(seen: string[], re: RegExp): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!seen.some((l) => re.test(l))) {
      assert.ok(Date.now() < deadline, `no request matching ${re} in:\n${seen.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('unifiedProxy: schedule over https, signalling at wss://<unified>/v2/ws with signalDomain, logs over https, nothing else', { timeout: 150_000 }, async () => {
    const u = `127.0.0.1:${child.port}`;
    const q = escape(u);
    const seen = await meet('unified', 2001, { unifiedProxy: u });
    await saw(seen, new RegExp(`^POST https://${q}/api/v1/config 200$`));
    await saw(seen, new RegExp(`^WS wss://${q}/v2/ws\\?.*&signalDomain=${escape(encodeURIComponent(u))}(&|$)`));
    await saw(seen, new RegExp(`^POST https://${q}/v5/AVQualityReportSvc/C2S\\?\\S+ 200$`));
    assert.deepEqual(seen.filter((l) => !l.includes(`://${u}/`)), [], 'the unified host only');
  });

  it('scheduleProxy: schedule over https, then wss to the domains of its reply', { timeout: 150_000 }, async () => {
    const host = `127.0.0.1:${child.port}`;
    const q = escape(host);
    const seen = await meet('sched', 2002, { scheduleProxy: host });
    await saw(seen, new RegExp(`^POST https://${q}/api/v1/config 200$`));
    await saw(seen, new RegExp(`^WS wss://${q}/v2/ws\\?`));
    // No loggerProxy: logs go to Tencent's logger host until the reply's loggerDomain (this node) replaces it.
    assert.deepEqual(seen.filter((l) => !l.includes(`://${host}/`) && !l.includes('://yun.tim.qq.com/')), []);
  });

  it('no proxy: Tencent’s schedule, signalling and logger hostnames resolved to trtcd', { timeout: 150_000 }, async () => {
    const seen = await meet('dns', 2003, undefined);
    await saw(seen, /^POST https:\/\/schedule\.cloud-rtc\.(com|net)\/api\/v1\/config 200$/);
    await saw(seen, /^WS wss:\/\/schedule\.cloud-rtc\.(com|net)\/v2\/ws\?/);
    await saw(seen, /^POST https:\/\/yun\.tim\.qq\.com\/v5\/AVQualityReportSvc\/C2S\?\S+ 200$/);
    assert.deepEqual(seen.filter((l) => !TENCENT_HOSTS.some((h) => l.includes(`://${h}/`))), [], 'Tencent’s hostnames only');
  });
});
