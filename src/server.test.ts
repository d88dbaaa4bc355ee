import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { restUrl, startTestServer } from '../test/helpers/server.ts';

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
