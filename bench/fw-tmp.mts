import { createRequire } from 'node:module';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { benchForwarding } from './forwarding.ts';
const addon = createRequire(import.meta.url)('/tmp/srtpaddon/srtpaddon.node');
const rows = await benchForwarding();
for (const r of rows) console.log(r.value, r.ratio?.toFixed(2), r.name.slice(0, 80), '|', r.baseline);
const sink = createSocket('udp4'); sink.on('message', () => {}); await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
const port = sink.address().port; const socket = createSocket('udp4'); await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
for (const gcm of [true, false]) {
  const subs = Array.from({ length: 50 }, (_, i) => ({ s: addon.create(gcm, randomBytes(gcm ? 28 : 30), 0), buf: Buffer.alloc(1600), ssrc: 1000 + i }));
  const payload = randomBytes(1000); let seq = 0;
  const run = async (cpuMs: number) => { const start = process.cpuUsage(); let packets = 0;
    for (;;) { for (let k = 0; k < 20; k++) { for (const x of subs) { const b = x.buf; b[0] = 0x80; b[1] = 96; b.writeUInt16BE(seq, 2); b.writeUInt32BE(seq * 3000 >>> 0, 4); b.writeUInt32BE(x.ssrc, 8); payload.copy(b, 12); const len = addon.protect(x.s, b, 12 + payload.length); socket.send(b, 0, len, port, '127.0.0.1'); } seq = (seq + 1) & 0xffff; packets += 50; }
      await new Promise((r) => setImmediate(r)); const u = process.cpuUsage(start); const ms = (u.user + u.system) / 1000; if (ms >= cpuMs) return packets / (ms / 1000); } };
  await run(600); console.log(Math.round(await run(3000)), 'libsrtp2 addon', gcm ? 'GCM' : 'CM');
}
socket.close(); sink.close();
