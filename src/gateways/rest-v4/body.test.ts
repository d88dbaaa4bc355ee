import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { captureLog, LEVEL } from '../../../test/helpers/log-capture.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { until, upload, type UploadReply } from '../../../test/helpers/upload.ts';
import { BodyReader, DEFAULT_BODY_LIMITS } from '../../http/body.ts';
import { MemoryRateLimiter } from '../../limits/rate-limiter.ts';
import { Metrics } from '../../metrics.ts';
import { accountCommands } from './accounts.ts';
import { RestV4Gateway } from './gateway.ts';

const CMD = 'im_open_login_svc/account_check';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

function path(query: Record<string, string> = {}): string {
  const q = new URLSearchParams({ sdkappid: String(t.app.sdkAppId), identifier: 'administrator', usersig: t.adminSig, random: '1', contenttype: 'json', ...query });
  return `/v4/${CMD}?${q.toString()}`;
}

function errorCode(r: UploadReply): { code: number; info: string } {
  assert.equal(r.status, 200);
  const env = JSON.parse(r.text) as { ErrorCode: number; ErrorInfo: string };
  return { code: env.ErrorCode, info: env.ErrorInfo };
}

async function post(port: number, p: string, body: Buffer | string): Promise<UploadReply> {
  const u = upload(port, { path: p, declared: Buffer.byteLength(body), first: body });
  return u.response.finally(() => u.destroy());
}

describe('REST v4 before the body', () => {
  it('answers a request its URL refuses without reading its body', async () => {
    for (const [query, code] of [
      [{ usersig: 'garbage' }, 70003],
      [{ sdkappid: '1' }, 60006],
      [{ identifier: 'not-an-admin', usersig: 'garbage' }, 70003],
    ] as const) {
      // Not a byte of the 512 KiB body is sent: the answer can only come from the URL.
      const u = upload(t.server.port, { path: path(query), declared: 512 * 1024 });
      try {
        assert.equal(errorCode(await u.response).code, code, JSON.stringify(query));
      } finally {
        u.destroy();
      }
    }
  });

  it('60003 for a body that is not valid UTF-8; U+FFFD sent as UTF-8 is another, valid, UserID', async () => {
    const bad = Buffer.concat([Buffer.from('{"CheckItem":[{"UserID":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]);
    const r = errorCode(await post(t.server.port, path(), bad));
    assert.equal(r.code, 60003);
    assert.match(r.info, /UTF-8/);
    const replacement = await post(t.server.port, path(), JSON.stringify({ CheckItem: [{ UserID: '\uFFFD(' }] }));
    assert.equal(errorCode(replacement).code, 0);
  });

  it('60002 for a query parameter that is not UTF-8 once percent-decoded', async () => {
    const r = errorCode(await post(t.server.port, `${path()}&note=%C3%28`, '{}'));
    assert.equal(r.code, 60002);
    assert.match(r.info, /UTF-8/);
  });
});

describe('REST v4 slow and abandoned bodies', () => {
  let server: Server;
  let port: number;
  let seen = 0;
  const { log, lines } = captureLog();
  const bodies = new BodyReader({ ...DEFAULT_BODY_LIMITS, timeoutMs: 50 });

  before(async () => {
    const s = t.server;
    const gw = new RestV4Gateway({
      apps: s.apps,
      services: { accounts: s.accounts, calls: s.calls, live: s.live, gifts: s.gifts, messages: s.messages, groups: s.groups, apps: s.apps },
      commands: accountCommands,
      limiter: new MemoryRateLimiter(),
      log,
      metrics: new Metrics(),
      bodyLimit: 1024 * 1024,
      bodies,
    });
    server = createServer((req, res) => {
      seen++;
      gw.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => (server.closeAllConnections(), new Promise<void>((resolve) => server.close(() => resolve()))));

  it('60008 when the body does not arrive within the timeout', async () => {
    const u = upload(port, { path: path(), declared: 100, first: '{"CheckItem":' });
    const reply = await u.response;
    u.destroy();
    const r = errorCode(reply);
    assert.equal(r.code, 60008);
    assert.match(r.info, /not received within 50 ms/);
    assert.equal(reply.headers.connection, 'close');
  });

  it('logs an upload the client abandons once, at debug level', async () => {
    const [begun, before] = [lines.length, seen];
    const u = upload(port, { path: path(), declared: 100_000, first: '{"CheckItem":' });
    await until(() => seen, (n) => n > before, 'the request received');
    u.destroy();
    await until(() => lines.slice(begun).filter((l) => /aborted/.test(l.msg)).length, (n) => n > 0, 'the abort logged');
    assert.equal(errorCode(await post(port, path(), '{"CheckItem":[]}')).code, 70402);
    const mine = lines.slice(begun);
    assert.equal(mine.filter((l) => /aborted/.test(l.msg)).length, 1);
    assert.equal(mine.find((l) => /aborted/.test(l.msg))!.level, LEVEL.debug);
    assert.deepEqual(mine.filter((l) => l.level >= LEVEL.warn), []);
  });
});
