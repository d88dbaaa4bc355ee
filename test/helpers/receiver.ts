import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One callback as the receiver saw it. */
export interface Received {
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** What the receiver answered. */
  status: number;
}

/** A chosen answer: an HTTP status with a raw body, or no answer at all until the receiver closes. */
export type Reply = { status: number; body: string } | 'hang';

/** A real HTTP callback receiver on loopback that records what it gets and can fail on purpose. */
export interface Receiver {
  url: string;
  /** Every request, in arrival order. */
  all: Received[];
  /** The requests it answered with 200. */
  delivered(): Received[];
  /** Answers the next `n` requests with HTTP 500. */
  failNext(n: number): void;
  /** Answers every request with what `fn` returns (null: back to the default 200 OK reply). */
  respond(fn: ((r: { query: URLSearchParams; body: Record<string, unknown> }) => Reply) | null): void;
  /** Resolves once `n` requests were answered with 200. */
  waitDelivered(n: number): Promise<Received[]>;
  /** Resolves once `n` requests arrived (whatever the answer). */
  waitAll(n: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts a receiver on a free loopback port. */
export async function startReceiver(): Promise<Receiver> {
  const all: Received[] = [];
  let failing = 0;
  let responder: ((r: { query: URLSearchParams; body: Record<string, unknown> }) => Reply) | null = null;
  const waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (d) => (data += d));
    req.on('end', () => {
      if (responder) {
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        const body = JSON.parse(data) as Record<string, unknown>;
        const reply = responder({ query, body });
        all.push({ query, body, status: reply === 'hang' ? 0 : reply.status });
        if (reply !== 'hang') {
          res.writeHead(reply.status, { 'Content-Type': 'application/json' });
          res.end(reply.body);
        }
        for (const w of waiters.splice(0)) w();
        return;
      }
      const status = failing > 0 ? (failing--, 500) : 200;
      all.push({ query: new URL(req.url ?? '/', 'http://x').searchParams, body: JSON.parse(data) as Record<string, unknown>, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ActionStatus: status === 200 ? 'OK' : 'FAIL', ErrorInfo: '', ErrorCode: status === 200 ? 0 : 1 }));
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const delivered = () => all.filter((r) => r.status === 200);
  const until = (pred: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      const check = () => (pred() ? resolve() : waiters.push(check));
      check();
    });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    all,
    delivered,
    failNext: (n) => (failing = n),
    respond: (fn) => (responder = fn),
    waitDelivered: async (n) => (await until(() => delivered().length >= n), delivered()),
    waitAll: async (n) => (await until(() => all.length >= n), all),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
