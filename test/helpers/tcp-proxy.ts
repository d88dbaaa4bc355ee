import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** How the proxy treats traffic: pass it, hold it (a server that stopped answering), or cut it (a server that is gone). */
export type ProxyMode = 'pass' | 'hold' | 'cut';

/** A TCP proxy on loopback in front of a real server, to take that server away and bring it back. */
export interface TcpProxy {
  port: number;
  /** pass: forward both ways. hold: stop reading either side (bytes wait in the kernel, as with a stopped server). cut: reset every connection, old and new. */
  mode(m: ProxyMode): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (host:port) on a free loopback port. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let current: ProxyMode = 'pass';
  const pairs = new Set<[Socket, Socket]>();
  const apply = ([a, b]: [Socket, Socket]) => {
    for (const s of [a, b]) {
      if (current === 'cut') s.destroy();
      else if (current === 'hold') s.pause();
      else s.resume();
    }
  };
  const server: Server = createServer((client) => {
    if (current === 'cut') return client.destroy();
    const upstream = createConnection(target);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    // Plain data handlers rather than pipe(): a paused socket then stays paused (pipe resumes it on 'drain').
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) s.on('error', end).on('close', end);
    apply(pair);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    mode(m) {
      current = m;
      for (const pair of [...pairs]) apply(pair);
    },
    close: () =>
      new Promise((r) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
