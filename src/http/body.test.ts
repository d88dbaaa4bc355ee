import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { until, upload } from '../../test/helpers/upload.ts';
import { BodyReader, DEFAULT_BODY_LIMITS, parseQuery, utf8, type BodyLimits } from './body.ts';

describe('utf8', () => {
  it('decodes valid UTF-8 and refuses invalid bytes instead of repairing them', () => {
    assert.equal(utf8(Buffer.from('héllo \u{1F600}')), 'héllo \u{1F600}');
    assert.equal(utf8(Buffer.from([0xc3, 0x28])), null);
    assert.equal(utf8(Buffer.from([0xed, 0xa0, 0x80])), null); // a UTF-16 surrogate
    assert.equal(utf8(Buffer.from([0xef, 0xbb, 0xbf, 0x7b])), '\uFEFF{'); // a BOM is kept, as Buffer#toString keeps it
  });
});

describe('parseQuery', () => {
  it('parses like URLSearchParams', () => {
    for (const text of ['a=1&b=2', 'a=1&a=2', 'x=a+b%20c', 'k', '=v', '&&a=&', 'p=%zz%4', 'p=%', 'u=%E2%82%AC%f0%9f%98%80', 'e=%3D%26', 'r=é']) {
      assert.deepEqual([...parseQuery(text)!], [...new URLSearchParams(text)], text);
    }
  });

  it('refuses a name or value whose percent-decoded bytes are not UTF-8', () => {
    assert.equal(parseQuery('identifier=%C3%28'), null);
    assert.equal(parseQuery('a=1&%FF=2'), null);
    // The bytes URLSearchParams would have repaired %C3%28 into are another, valid, string.
    assert.equal(new URLSearchParams('identifier=%C3%28').get('identifier'), '\uFFFD(');
    assert.equal(parseQuery('identifier=%EF%BF%BD(')!.get('identifier'), '\uFFFD(');
  });
});

describe('BodyReader', () => {
  type Outcome = { kind: 'body'; text: string; held: number } | { kind: 'refused'; why: string };
  let server: Server;
  let port: number;
  let reader: BodyReader;
  let outcomes: Outcome[] = [];
  let started = 0;
  // Each request: `x-mode: auth` reads as authenticated; otherwise unauthenticated, kept held until `x-release` is answered.
  const holds: Array<() => void> = [];

  const use = (limits: Partial<BodyLimits>): void => {
    reader = new BodyReader({ ...DEFAULT_BODY_LIMITS, ...limits });
    outcomes = [];
  };

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const limit = Number(req.headers['x-limit'] ?? 1 << 20);
      started++;
      const done = (o: Outcome): void => {
        outcomes.push(o);
        if (o.kind === 'refused' && o.why === 'ABORTED') return;
        res.writeHead(200, { Connection: o.kind === 'refused' ? 'close' : 'keep-alive', 'Content-Length': Buffer.byteLength(JSON.stringify(o)) });
        res.end(JSON.stringify(o));
      };
      if (req.headers['x-mode'] === 'auth') {
        void reader.read(req, limit).then((b) => done(typeof b === 'string' ? { kind: 'refused', why: b } : { kind: 'body', text: b.toString(), held: reader.held }));
        return;
      }
      void reader.readUnauthenticated(req, limit).then((h) => {
        if (typeof h === 'string') return done({ kind: 'refused', why: h });
        const o: Outcome = { kind: 'body', text: h.body.toString(), held: reader.held };
        const finish = (): void => {
          h.release();
          done(o);
        };
        if (req.headers['x-hold'] === '1') holds.push(finish);
        else finish();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => (server.closeAllConnections(), new Promise<void>((resolve) => server.close(() => resolve()))));

  const reply = async (u: ReturnType<typeof upload>): Promise<Outcome> => JSON.parse((await u.response).text) as Outcome;

  it('holds a declared length whole before reading, refuses past the server budget unread, and gives bytes back on release', async () => {
    use({ unauthenticatedBytes: 1000, unauthenticatedBytesPerConnection: 1000 });
    const a = upload(port, { headers: { 'x-hold': '1' }, declared: 600, first: 'a'.repeat(600) });
    await until(() => holds.length, (n) => n === 1, 'the first body read');
    assert.equal(reader.held, 600);
    const b = upload(port, { declared: 500 }); // nothing sent: refused on its Content-Length alone
    assert.deepEqual(await reply(b), { kind: 'refused', why: 'BUSY' });
    holds.shift()!();
    assert.deepEqual(await reply(a), { kind: 'body', text: 'a'.repeat(600), held: 600 });
    assert.equal(reader.held, 0);
    const c = upload(port, { declared: 500, first: 'c'.repeat(500) });
    assert.deepEqual(await reply(c), { kind: 'body', text: 'c'.repeat(500), held: 500 });
    for (const u of [a, b, c]) u.destroy();
  });

  it('counts a chunked body as it arrives against the connection share', async () => {
    use({ unauthenticatedBytes: 10_000, unauthenticatedBytesPerConnection: 100 });
    const u = upload(port, {});
    u.write('x'.repeat(60));
    u.write('x'.repeat(60));
    assert.deepEqual(await reply(u), { kind: 'refused', why: 'CONNECTION_FULL' });
    u.destroy();
    assert.equal(reader.held, 0);
  });

  it('refuses a body over the limit, by its Content-Length or as it arrives', async () => {
    use({});
    const declared = upload(port, { headers: { 'x-limit': '10', 'x-mode': 'auth' }, declared: 11 });
    assert.deepEqual(await reply(declared), { kind: 'refused', why: 'TOO_LARGE' });
    const chunked = upload(port, { headers: { 'x-limit': '10' } });
    chunked.write('x'.repeat(11));
    assert.deepEqual(await reply(chunked), { kind: 'refused', why: 'TOO_LARGE' });
    for (const u of [declared, chunked]) u.destroy();
    assert.equal(reader.held, 0);
  });

  it('times a slow body out, authenticated or not, and gives its bytes back', async () => {
    use({ timeoutMs: 30 });
    for (const mode of ['auth', 'unauth']) {
      const u = upload(port, { headers: { 'x-mode': mode }, declared: 100, first: 'x' });
      assert.deepEqual(await reply(u), { kind: 'refused', why: 'TIMEOUT' }, mode);
      u.destroy();
    }
    assert.equal(reader.held, 0);
  });

  it('reports a client that goes away mid-body as ABORTED, without an unhandled error', async () => {
    use({});
    for (const mode of ['auth', 'unauth']) {
      const [before, begun] = [outcomes.length, started];
      const u = upload(port, { headers: { 'x-mode': mode }, declared: 100, first: 'x' });
      await until(() => started, (n) => n > begun, 'the read started');
      u.destroy();
      await until(() => outcomes.length, (n) => n > before, 'the outcome');
      assert.deepEqual(outcomes.at(-1), { kind: 'refused', why: 'ABORTED' }, mode);
    }
    assert.equal(reader.held, 0);
  });
});
