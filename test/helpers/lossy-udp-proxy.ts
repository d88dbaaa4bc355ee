// A UDP relay on loopback between a browser and a server's ICE candidates that drops a share of the server's RTP:
// a lossy downlink, for a machine whose kernel has no netem. STUN, DTLS and RTCP pass untouched.
import { createSocket, type Socket } from 'node:dgram';
import type { Page } from 'playwright-core';

/** A relay in front of each server candidate a page is given; `downLoss` is the share of server RTP dropped (0–1). */
export interface LossyUdpProxy {
  downLoss: number;
  /** RTP datagrams from the server dropped and passed so far. */
  counts(): { dropped: number; passed: number };
  close(): void;
}

/** RTP rather than RTCP, STUN or DTLS (RFC 7983 and RFC 5761). */
function isRtp(b: Buffer): boolean {
  return b.length >= 12 && b[0]! >= 128 && b[0]! <= 191 && !(b[1]! >= 192 && b[1]! <= 223);
}

/**
 * Puts a lossy relay between `page`'s RTCPeerConnections and the server: every IPv4 host candidate in a remote
 * description is replaced by a relay on the same address, and every other candidate is left out, so all media crosses
 * a relay.
 * Call before the page creates its connections.
 */
export async function lossyDownlink(page: Page): Promise<LossyUdpProxy> {
  const sockets: Socket[] = [];
  const relays = new Map<string, number>();
  let dropped = 0;
  let passed = 0;
  const proxy: LossyUdpProxy = {
    downLoss: 0,
    counts: () => ({ dropped, passed }),
    close: () => {
      for (const s of sockets) s.close();
    },
  };
  /** A relay to `ip`:`port`, listening on every IPv4 address; its own port. */
  const relay = async (ip: string, port: number): Promise<number> => {
    const key = `${ip}:${port}`;
    const known = relays.get(key);
    if (known) return known;
    const front = createSocket('udp4');
    sockets.push(front);
    const backs = new Map<string, Socket>();
    front.on('message', (msg, from) => {
      const client = `${from.address}:${from.port}`;
      let back = backs.get(client);
      if (!back) {
        back = createSocket('udp4');
        sockets.push(back);
        backs.set(client, back);
        back.on('message', (down) => {
          if (isRtp(down) && Math.random() < proxy.downLoss) {
            dropped++;
            return;
          }
          if (isRtp(down)) passed++;
          front.send(down, from.port, from.address);
        });
        back.bind(0);
      }
      back.send(msg, port, ip);
    });
    await new Promise<void>((resolve) => front.bind(0, resolve));
    const own = front.address().port;
    relays.set(key, own);
    return own;
  };
  await page.exposeFunction('lossyRelay', relay);
  await page.evaluate(() => {
    const w = window as unknown as { lossyRelay(ip: string, port: number): Promise<number> };
    const original = RTCPeerConnection.prototype.setRemoteDescription as (this: RTCPeerConnection, d: RTCSessionDescriptionInit) => Promise<void>;
    RTCPeerConnection.prototype.setRemoteDescription = async function (this: RTCPeerConnection, desc?: RTCSessionDescriptionInit) {
      if (desc?.sdp) {
        const lines: string[] = [];
        for (const line of desc.sdp.split('\r\n')) {
          const m = /^(a=candidate:\S+ \d+ udp \d+ )(\S+) (\d+)( typ host.*)$/i.exec(line);
          if (!m) lines.push(line);
          else if (/^\d+\.\d+\.\d+\.\d+$/.test(m[2]!)) lines.push(`${m[1]}${m[2]} ${await w.lossyRelay(m[2]!, Number(m[3]))}${m[4]}`);
        }
        desc = { type: desc.type, sdp: lines.join('\r\n') };
      }
      return original.call(this, desc as RTCSessionDescriptionInit);
    } as typeof RTCPeerConnection.prototype.setRemoteDescription;
  });
  return proxy;
}
