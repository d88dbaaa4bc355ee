import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { startTestServer, type TestServer } from '../test/helpers/server.ts';
import { opensslMissing, selfSignedCert, type TestCert } from '../test/helpers/tls.ts';

/** Sends `send` once connected; resolves to everything the server sent until it closed (≤ 20 s), and how long that took. */
function exchange(s: Socket, send?: string): Promise<{ text: string; ms: number }> {
  const t0 = Date.now();
  // A connection the server forgets fails the test instead of holding the server's shutdown.
  const cap = setTimeout(() => s.destroy(), 20_000);
  s.once('close', () => clearTimeout(cap));
  return new Promise((resolve) => {
    let text = '';
    if (send !== undefined) s.once('encrypted' in s ? 'secureConnect' : 'connect', () => s.write(send));
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ text, ms: Date.now() - t0 }));
  });
}

describe('one port over TLS', { skip: opensslMissing() }, () => {
  let t: TestServer;
  let cert: TestCert;
  before(async () => {
    cert = selfSignedCert(['127.0.0.1']);
    t = await startTestServer({ tlsCert: cert.certFile, tlsKey: cert.keyFile });
  });
  after(async () => {
    await t?.close();
    if (cert) rmSync(dirname(cert.certFile), { recursive: true, force: true });
  });

  it('says https:// in its url and answers /healthz to a client that trusts the certificate', async () => {
    assert.equal(t.server.url, `https://127.0.0.1:${t.server.port}`);
    const r = await exchange(tlsConnect({ port: t.server.port, host: '127.0.0.1', ca: cert.cert }), 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[\s\S]*"status":"ok"/);
  });

  it('answers a request it cannot parse with the REST envelope, as over plain HTTP', async () => {
    const r = await exchange(tlsConnect({ port: t.server.port, host: '127.0.0.1', ca: cert.cert }), 'BAD\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"ErrorCode":60002/);
  });

  it('closes a plain HTTP request without an answer, and a connection that never starts its handshake after 10 s', { timeout: 30_000 }, async () => {
    const plain = await exchange(connect(t.server.port, '127.0.0.1'), 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(plain.text, '');
    const silent = await exchange(connect(t.server.port, '127.0.0.1'));
    assert.equal(silent.text, '');
    assert.ok(silent.ms >= 9_500 && silent.ms < 20_000, `closed after ${silent.ms} ms`);
  });
});
