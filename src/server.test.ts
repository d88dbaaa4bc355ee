import assert from 'node:assert/strict';
import { existsSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { restUrl, startTestServer, tempDir } from '../test/helpers/server.ts';
import { DEFAULT_CONFIG } from './config.ts';
import { startServer } from './server.ts';

describe('operations endpoints', () => {
  it('/healthz answers 200 and /metrics counts requests by family, command and code', async () => {
    const t = await startTestServer();
    try {
      assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
      await t.rest('im_open_login_svc/account_check', { CheckItem: [{ UserID: 'a' }] });
      await t.rest('im_open_login_svc/account_check', { CheckItem: [{ UserID: 'a' }] }, { usersig: 'bad' });
      const res = await fetch(`${t.server.url}/metrics`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /trtcd_requests_total\{family="rest-v4",command="im_open_login_svc\/account_check",code="0"\} 1/);
      assert.match(text, /trtcd_requests_total\{family="rest-v4",command="im_open_login_svc\/account_check",code="70003"\} 1/);
      assert.match(text, /trtcd_rtc_connections 0/);
      assert.match(text, /trtcd_media_publications 0/);
      assert.match(text, /trtcd_media_subscriptions 0/);
      assert.match(text, /trtcd_request_duration_seconds_bucket\{le="0.005",family="rest-v4",command="im_open_login_svc\/account_check"\} \d+/);
    } finally {
      await t.close();
    }
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight before closing', async () => {
    const t = await startTestServer();
    const url = new URL(restUrl(t.server.url, 'im_open_login_svc/account_import', { sdkappid: String(t.app.sdkAppId), identifier: 'administrator', usersig: t.adminSig, random: '1', contenttype: 'json' }));
    const body = JSON.stringify({ UserID: 'late_writer' });
    let closed = false;
    const reply = new Promise<string>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'POST', path: url.pathname + url.search, headers: { 'content-length': body.length } }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve(data));
      });
      req.on('error', reject);
      req.write(body.slice(0, 5));
      // Once the request is under way, start shutting down, then send the rest of the body.
      setTimeout(() => {
        const closing = t.server.close().then(() => (closed = true));
        setTimeout(() => req.end(body.slice(5)), 50);
        void closing;
      }, 50);
    });
    const env = JSON.parse(await reply) as { ErrorCode: number };
    assert.equal(env.ErrorCode, 0);
    await t.close();
    assert.ok(closed);
  });
});

describe('structured logs and keep-alive', () => {
  it('logs a failed request as JSON with its RequestId', async () => {
    const { pino } = await import('pino');
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const { startServer } = await import('./server.ts');
    const { DEFAULT_CONFIG } = await import('./config.ts');
    const { tempDir } = await import('../test/helpers/server.ts');
    const server = await startServer({ ...DEFAULT_CONFIG, dataDir: tempDir(), port: 0 }, log);
    try {
      const res = await fetch(`${server.url}/v4/im_open_login_svc/account_check?random=1&contenttype=json`, { method: 'POST', body: '{}' });
      const env = (await res.json()) as { RequestId: string; ErrorCode: number };
      assert.equal(env.ErrorCode, 60012);
      const entry = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.requestId === env.RequestId);
      assert.ok(entry, 'a log line carries the RequestId');
      assert.equal(entry.code, 60012);
      assert.equal(entry.command, 'im_open_login_svc/account_check');
    } finally {
      await server.close();
    }
  });

  it('keeps connections alive between requests', async () => {
    const t = await startTestServer();
    const { Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = new URL(restUrl(t.server.url, 'im_open_login_svc/account_check', { sdkappid: String(t.app.sdkAppId), identifier: 'administrator', usersig: t.adminSig, random: '1', contenttype: 'json' }));
    const once = () =>
      new Promise<{ reused: boolean; code: number }>((resolve, reject) => {
        const req = request({ agent, host: url.hostname, port: url.port, method: 'POST', path: url.pathname + url.search }, (res) => {
          let d = '';
          res.on('data', (c) => (d += c));
          res.on('end', () => resolve({ reused: req.reusedSocket, code: (JSON.parse(d) as { ErrorCode: number }).ErrorCode }));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ CheckItem: [{ UserID: 'a' }] }));
      });
    try {
      assert.deepEqual(await once(), { reused: false, code: 0 });
      assert.deepEqual(await once(), { reused: true, code: 0 });
    } finally {
      agent.destroy();
      await t.close();
    }
  });
});

describe('a start that cannot listen', () => {
  it('fails with the listen error and closes what it had opened (the store\'s files)', { skip: !existsSync('/proc/self/fd') && 'needs /proc' }, async () => {
    const taken = createNetServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    const dir = tempDir();
    // Descriptors this process holds on files in the data directory (Linux: /proc/self/fd).
    const openInDir = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    }).length;
    try {
      await assert.rejects(startServer({ ...DEFAULT_CONFIG, dataDir: dir, host: '127.0.0.1', port, logLevel: 'silent' }), /EADDRINUSE/);
      assert.equal(openInDir(), 0);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
