import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from '../test/helpers/child.ts';
import { againstBare, recorded, rows, startBenchServer, type BenchRow } from './harness.ts';

const SEND = 'live_engine_http_srv/send_gift';
const BODY = JSON.stringify({ RoomId: 'bench_room', GiftId: 'rose', Count: 1, From_Account: 'fan', ReceiverList_Account: ['host'] });

/** A loopback app server that allows every gift (Live.CallbackBeforeSendGift answered OK), counting what it got. */
async function startOkReceiver(): Promise<{ url: string; received(): number; close(): Promise<void> }> {
  let n = 0;
  const reply = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}';
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': reply.length });
      res.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    received: () => n,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/**
 * send_gift over HTTP (each accepted gift is one durable SQLite insert plus a bus event) against the bare server,
 * with Live.CallbackBeforeSendGift off (no callback URL) and on (a loopback receiver answering OK, one synchronous
 * POST per gift). The bench app has rateLimits=off: the published limit is 200/s.
 */
export async function benchGifts(): Promise<BenchRow[]> {
  const s = await startBenchServer();
  const rx = await startOkReceiver();
  try {
    const ok = (env: Record<string, unknown>, what: string) => {
      if (env.ErrorCode !== 0) throw new Error(`${what}: ${JSON.stringify(env)}`);
    };
    ok(await s.post('im_open_login_svc/multiaccount_import', { Accounts: ['fan', 'host'] }), 'import');
    ok(await s.post('live_engine_http_srv/create_room', { RoomInfo: { RoomId: 'bench_room', Owner_Account: 'host' } }), 'create_room');
    ok(await s.post('live_engine_http_srv/add_gift', { GiftId: 'rose', Coins: 1, DefaultName: 'Rose' }), 'add_gift');
    const off = await againstBare(s.url(SEND), BODY);

    // The bench server's data directory is on its command line; the CLI change reaches it within appsPollMs.
    const args = s.child.proc.spawnargs;
    const dir = args[args.indexOf('--data-dir') + 1]!;
    const set = runCli(['app', 'set', String(s.sdkAppId), `callback.url=${rx.url}`, '--data-dir', dir]);
    if (set.status !== 0) throw new Error(`app set callback.url failed: ${set.stderr}`);
    const deadline = Date.now() + 10_000;
    while (rx.received() === 0) {
      if (Date.now() > deadline) throw new Error('the bench server never called Live.CallbackBeforeSendGift');
      ok(await s.post(SEND, JSON.parse(BODY)), 'send_gift');
      await new Promise((r) => setTimeout(r, 100));
    }
    const on = await againstBare(s.url(SEND), BODY);
    return recorded([
      ...rows('REST v4 send_gift (recorded durably, before-callback off)', off, 0, Infinity),
      ...rows('REST v4 send_gift (Live.CallbackBeforeSendGift on, loopback app server)', on, 0, Infinity),
    ]);
  } finally {
    await s.child.stop('SIGTERM');
    await rx.close();
  }
}
