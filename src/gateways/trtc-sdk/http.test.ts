import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';

/** One request over node:http (any Host header, any body, a chosen agent); resolves with status, headers and text. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; chunks?: Buffer[]; agent?: Agent },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer and stop reading before the whole body is written.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (opts.chunks) for (const c of opts.chunks) req.write(c);
    req.end(opts.body);
  });
}

/** The schedule form as the SDK posts it (multipart: its fields as trtc-sdk-v5 5.17.1 sends them). */
function scheduleForm(sdkAppId: number): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries({ userId: 'u1', sdkAppId: String(sdkAppId), isStrGroupId: 'false', groupId: '1234', sdkVersion: '5.17.1', userSig: 'eJyrVg', osString: 'Linux/Chrome/156/x86', frameWorkType: '30' })) f.append(k, v);
  return f;
}

describe('trtc-sdk HTTP: schedule and log uploads', () => {
  let t: TestServer;
  let host: string;

  before(async () => {
    t = await startTestServer();
    host = new URL(t.server.url).host;
  });
  after(() => t.close());

  it('answers the multipart schedule with this node as signalling and log domain, with CORS', async () => {
    const res = await fetch(`${t.server.url}/api/v1/config`, { method: 'POST', body: scheduleForm(t.app.sdkAppId), headers: { Origin: 'https://app.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), {
      code: 0,
      msg: '',
      data: { domains: [host, host], iceServers: [], config: { singlePC: true, loggerDomain: `http://${host}`, scheduleCache: false } },
    });
  });

  it('takes the domains from the Host the request went to, and ignores a Host that is not a host name', async () => {
    const named = await raw(`${t.server.url}/api/v1/config`, { headers: { Host: 'rtc.example.com:8443', 'Content-Type': 'text/plain' }, body: 'x' });
    assert.equal(named.status, 200);
    const data = (JSON.parse(named.text) as { data: { domains: string[]; config: { loggerDomain: string } } }).data;
    assert.deepEqual(data.domains, ['rtc.example.com:8443', 'rtc.example.com:8443']);
    assert.equal(data.config.loggerDomain, 'http://rtc.example.com:8443');
    // A Host with a path or a scheme in it would send the SDK elsewhere: the socket's own address is given instead.
    const odd = await raw(`${t.server.url}/api/v1/config`, { headers: { Host: 'evil.example/x?y', 'Content-Type': 'text/plain' }, body: 'x' });
    assert.equal(odd.status, 200);
    const port = new URL(t.server.url).port;
    assert.deepEqual((JSON.parse(odd.text) as { data: { domains: string[] } }).data.domains, [`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
  });

  it('answers the CORS preflight with 204 on both paths', async () => {
    for (const path of ['/api/v1/config', '/v5/AVQualityReportSvc/C2S?sdkappid=1&cmdtype=jssdk_log']) {
      const res = await fetch(`${t.server.url}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
      });
      assert.equal(res.status, 204, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
      assert.match(res.headers.get('access-control-allow-headers') ?? '', /content-type/i);
      assert.equal(await res.text(), '');
    }
  });

  it('refuses GET with 405 and a JSON body', async () => {
    for (const path of ['/api/v1/config', '/v5/AVQualityReportSvc/C2S']) {
      const res = await fetch(`${t.server.url}${path}`);
      assert.equal(res.status, 405, path);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      const body = (await res.json()) as { code: number };
      assert.notEqual(body.code, 0);
    }
  });

  it('refuses a body over 256 KiB with 413 JSON, declared or chunked, and keeps serving', async () => {
    const big = Buffer.alloc(256 * 1024 + 1, 0x61);
    const declared = await raw(`${t.server.url}/api/v1/config`, { headers: { 'Content-Type': 'text/plain', 'Content-Length': String(big.length) }, body: big });
    assert.equal(declared.status, 413);
    assert.notEqual((JSON.parse(declared.text) as { code: number }).code, 0);
    const chunked = await raw(`${t.server.url}/v5/AVQualityReportSvc/C2S?sdkappid=1&cmdtype=jssdk_log`, {
      headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' },
      chunks: Array.from({ length: 9 }, () => Buffer.alloc(32 * 1024, 0x62)),
    });
    assert.equal(chunked.status, 413);
    assert.notEqual((JSON.parse(chunked.text) as { code: number }).code, 0);
    // Exactly the limit is fine.
    const limit = await raw(`${t.server.url}/v5/AVQualityReportSvc/C2S?sdkappid=1&cmdtype=jssdk_log`, { headers: { 'Content-Type': 'text/plain' }, body: Buffer.alloc(256 * 1024, 0x63) });
    assert.equal(limit.status, 200);
    assert.equal((await fetch(`${t.server.url}/healthz`)).status, 200);
  });

  it('closes the connection after refusing a body, instead of holding it with the rest unread', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Far more than the socket buffers take: the server stops reading at the limit, so the client cannot finish.
      const started = Date.now();
      let answer: { status?: number; connection?: string } = {};
      const closed = new Promise<number>((resolve, reject) => {
        const req = request(`${t.server.url}/v5/AVQualityReportSvc/C2S?sdkappid=1&cmdtype=jssdk_log`, { method: 'POST', agent, headers: { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' } }, (res) => {
          answer = { status: res.statusCode, connection: res.headers.connection };
          res.resume();
        });
        req.on('error', () => undefined);
        req.on('close', () => resolve(Date.now() - started));
        setTimeout(() => reject(new Error('the connection was still open 5 s after the 413')), 5000).unref();
        const chunk = Buffer.alloc(1024 * 1024, 0x61);
        const write = (n: number): void => {
          if (n === 0 || req.destroyed) return void req.end();
          if (req.write(chunk)) setImmediate(() => write(n - 1));
          else req.once('drain', () => write(n - 1));
        };
        write(32);
      });
      assert.ok((await closed) < 5000);
      assert.deepEqual(answer, { status: 413, connection: 'close' });
      assert.equal((await raw(`${t.server.url}/api/v1/config`, { agent, headers: { 'Content-Type': 'text/plain' }, body: 'x' })).status, 200);
    } finally {
      agent.destroy();
    }
  });

  it('accepts log uploads with {code:0} and counts them in /metrics', async () => {
    const url = `${t.server.url}/v5/AVQualityReportSvc/C2S?sdkappid=${t.app.sdkAppId}&cmdtype=jssdk_log`;
    const count = async (): Promise<number> => {
      const text = await (await fetch(`${t.server.url}/metrics`)).text();
      const m = /trtcd_requests_total\{family="trtc-sdk",command="log_upload",code="0"\} (\d+)/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await count();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: JSON.stringify({ timestamp: Date.now(), log: `[INFO] line ${i}` }) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await res.json(), { code: 0 });
    }
    assert.equal(await count(), before + 2);
    const text = await (await fetch(`${t.server.url}/metrics`)).text();
    assert.match(text, /trtcd_requests_total\{family="trtc-sdk",command="schedule",code="0"\} [1-9]/);
  });
});

describe('trtc-sdk HTTP bodies are unauthenticated bytes', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ unauthenticatedBodyBytes: 64 * 1024 });
  });
  after(() => t.close());

  it('counts a schedule or log body against the server’s unauthenticated budget (503 past it, unread), and gives it back', async () => {
    const url = `${t.server.url}/v5/AVQualityReportSvc/C2S?sdkappid=1&cmdtype=jssdk_log`;
    const big = await raw(url, { body: Buffer.alloc(100 * 1024, 0x61) });
    assert.equal(big.status, 503);
    assert.equal((JSON.parse(big.text) as { code: number }).code, -1);
    const small = await raw(url, { body: Buffer.alloc(32 * 1024, 0x61) });
    assert.equal(small.status, 200);
    assert.equal(small.text, '{"code":0}');
    const metrics = await (await fetch(`${t.server.url}/metrics`)).text();
    assert.match(metrics, /^trtcd_unauthenticated_body_bytes 0$/m, 'the held bytes are released');
  });
});
