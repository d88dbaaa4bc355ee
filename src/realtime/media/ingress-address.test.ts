import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { nativeSrtp } from './native-srtp.ts';
// @ts-expect-error: plain JavaScript, shared with the media worker
import { addressInts, addressText } from './ingress-address.mjs';

const toText = addressText as (bytes: Buffer, family: number) => string;
const toInts = addressInts as (ip: string, family: number) => number[];

/** The 16 bytes watch() writes, from the ints. */
function bytesOf(ints: number[]): Buffer {
  const b = Buffer.alloc(16);
  Buffer.from(new Int32Array(ints).buffer).copy(b);
  return b;
}

describe('ingress addresses', () => {
  it('IPv4 and IPv6 text goes to the ints watch() writes and back to the same text (RFC 5952)', () => {
    for (const [ip, family] of [
      ['127.0.0.1', 4],
      ['192.168.254.3', 4],
      ['::1', 6],
      ['::', 6],
      ['fe80::1', 6],
      ['2001:db8::1:0:0:1', 6],
      ['2001:db8:0:1:1:1:1:1', 6],
      ['1::', 6],
      ['::ffff:10.0.0.7', 6],
    ] as const) {
      const ints = toInts(ip, family);
      assert.equal(ints.length, family === 4 ? 1 : 4, ip);
      assert.equal(toText(bytesOf(ints), family), ip);
    }
  });

  it('a datagram read by watch() names its source as Node does', { skip: !nativeSrtp() && 'the SRTP accelerator is not built' }, async () => {
    const native = nativeSrtp()!;
    const server = createSocket('udp4');
    const client = createSocket('udp4');
    server.bind(0, '127.0.0.1');
    client.bind(0, '127.0.0.1');
    await Promise.all([once(server, 'listening'), once(client, 'listening')]);
    const state = Object.getOwnPropertySymbols(server).find((k) => k.description === 'state symbol')!;
    const handle = (server as unknown as Record<symbol, { handle: { fd: number; recvStop(): number } }>)[state]!.handle;
    handle.recvStop();
    const buffer = Buffer.alloc(4 * 2048);
    const meta = new Int32Array(4 * 8);
    const got = new Promise<number>((resolve) => {
      const w = native.watch(native.dup(handle.fd), buffer, meta, (n) => {
        native.unwatch(w);
        native.unwatch(w);
        resolve(n);
      });
    });
    client.send('ping', server.address().port, '127.0.0.1');
    assert.equal(await got, 1);
    assert.equal(buffer.subarray(0, meta[0]).toString(), 'ping');
    const from: Pick<RemoteInfo, 'address' | 'port'> = { address: toText(Buffer.from(meta.buffer, 12, 16), meta[2]!), port: meta[1]! };
    assert.deepEqual(from, { address: '127.0.0.1', port: client.address().port });
    assert.deepEqual(toInts('127.0.0.1', 4), [meta[3]]);
    server.close();
    client.close();
  });
});
