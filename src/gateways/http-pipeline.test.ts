import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../logger.ts';
import { Metrics } from '../metrics.ts';
import { errorEntry, GatewayError } from './gateway-error.ts';
import { serveHttp, type Answer, type HttpFamily } from './http-pipeline.ts';

const INTERNAL = errorEntry(-1, 'internal');
const REFUSED = errorEntry(7, 'refused');
const FAMILY: HttpFamily<{ v: number }> = {
  name: 'test-family',
  labelKey: 'op',
  internal: INTERNAL,
  write: (res, requestId, reply, close) => {
    const body = JSON.stringify('error' in reply ? { id: requestId, code: reply.error.entry.code, message: reply.error.message, echo: reply.payload } : { id: requestId, code: 0, ...reply.result });
    res.writeHead(200, { 'Content-Type': 'application/json', ...(close ? { Connection: 'close' } : {}) });
    res.end(body);
  },
};

describe('serveHttp', () => {
  const metrics = new Metrics();
  let server: Server;
  let url: string;
  const runs: Record<string, () => Promise<Answer<{ v: number }>>> = {
    '/ok': async () => ({ result: { v: 1 } }),
    '/refused': async () => ({ error: new GatewayError(REFUSED, 'refused: because'), payload: { v: 2 }, close: true }),
    '/rejects': async () => {
      throw new Error('boom');
    },
    '/throws': () => {
      throw new Error('boom at once');
    },
  };

  before(async () => {
    server = createServer((req, res) => {
      let requestId = 'early';
      serveHttp(FAMILY, { log: createLogger('silent'), metrics }, res, { requestId: () => requestId, label: () => req.url!.slice(1) }, () => {
        requestId = `id-${req.url!.slice(1)}`;
        return runs[req.url!]!();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('writes a result and a refusal in the family envelope with the id known at the end, and closes when asked', async () => {
    const ok = await fetch(`${url}/ok`);
    assert.deepEqual(await ok.json(), { id: 'id-ok', code: 0, v: 1 });
    const refused = await fetch(`${url}/refused`);
    assert.equal(refused.headers.get('connection'), 'close');
    assert.deepEqual(await refused.json(), { id: 'id-refused', code: 7, message: 'refused: because', echo: { v: 2 } });
  });

  it('answers a run that rejects or throws with the family’s INTERNAL entry, never a 500 or a hang', async () => {
    for (const path of ['/rejects', '/throws']) {
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { code: number }).code, -1, path);
    }
  });

  it('counts every request under its family, label and code', async () => {
    const text = await metrics.registry.metrics();
    for (const [label, code] of [['ok', '0'], ['refused', '7'], ['rejects', '-1'], ['throws', '-1']]) {
      assert.match(text, new RegExp(`family="test-family",command="${label}",code="${code}"} 1`));
    }
  });
});
