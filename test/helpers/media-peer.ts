// Node WebRTC peers (werift) that publish synthetic RTP to trtcd's SFU or subscribe to it, for tests and the benchmark.
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { peerConfig } from '../../src/realtime/media/peer-config.ts';

type Kind = 'audio' | 'video';

/** A werift peer connection on the client side of /rtc media. */
export class MediaPeer {
  readonly pc = new RTCPeerConnection(peerConfig({ portRange: '' }));
  private readonly tracks = new Map<Kind, MediaStreamTrack>();
  /** Packets received per kind. */
  readonly received: Record<Kind, number> = { audio: 0, video: 0 };
  /** Called for every packet received. */
  onPacket: ((kind: Kind, rtp: RtpPacket) => void) | undefined;
  private pump: NodeJS.Timeout | undefined;
  private seq: Record<Kind, number> = { audio: 1000, video: 5000 };
  private ts: Record<Kind, number> = { audio: 0, video: 0 };
  /** Packets written per kind. */
  readonly sent: Record<Kind, number> = { audio: 0, video: 0 };

  /** A publishing peer (sendonly sections) or a subscribing one (recvonly sections) for the given kinds. */
  constructor(readonly role: 'publish' | 'subscribe', kinds: Kind[]) {
    for (const kind of kinds) {
      if (role === 'publish') {
        const track = new MediaStreamTrack({ kind });
        this.tracks.set(kind, track);
        this.pc.addTransceiver(track, { direction: 'sendonly' });
      } else {
        this.pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
    this.pc.onTrack.subscribe((track) => {
      const kind = track.kind as Kind;
      track.onReceiveRtp.subscribe((rtp) => {
        this.received[kind]++;
        this.onPacket?.(kind, rtp);
      });
    });
  }

  /** The offer, with this side's candidates in it. */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.pc.localDescription!.sdp;
  }

  /** Applies the server's answer. */
  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  /** Resolves once the connection is up. */
  connected(): Promise<void> {
    if (this.pc.connectionState === 'connected') return Promise.resolve();
    return new Promise((resolve) => {
      const s = this.pc.connectionStateChange.subscribe((st) => {
        if (st !== 'connected') return;
        s.unSubscribe();
        resolve();
      });
    });
  }

  /**
   * Writes synthetic packets: `videoKbps` of 1000-byte video packets and 50/s audio packets of 160 bytes, until
   * stopped. `stamp` puts the send time into the first 8 bytes of each payload (for latency measurements).
   */
  start(videoKbps = 500, stamp = false): void {
    const videoPerTick = (videoKbps * 1000) / 8 / 1000 / 50; // packets per 20 ms tick
    let carry = 0;
    this.pump = setInterval(() => {
      this.write('audio', 160, stamp);
      carry += videoPerTick;
      for (; carry >= 1; carry--) this.write('video', 1000, stamp, carry < 2);
      this.ts.video += 1800;
    }, 20);
  }

  /** Stops writing. */
  stop(): void {
    clearInterval(this.pump);
  }

  async close(): Promise<void> {
    this.stop();
    await this.pc.close();
  }

  private write(kind: Kind, size: number, stamp: boolean, marker = false): void {
    const track = this.tracks.get(kind);
    if (!track) return;
    const payload = Buffer.alloc(size, kind === 'audio' ? 0xf8 : 0x10);
    if (stamp) payload.writeDoubleBE(performance.timeOrigin + performance.now(), 0);
    if (kind === 'audio') this.ts.audio += 960;
    this.seq[kind] = (this.seq[kind] + 1) & 0xffff;
    track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: kind === 'audio' ? 111 : 96, sequenceNumber: this.seq[kind], timestamp: this.ts[kind] >>> 0, ssrc: kind === 'audio' ? 1111 : 2222, marker }), payload));
    this.sent[kind]++;
  }
}

/** Resolves once `cond` holds, polling every 10 ms of real time; rejects after `ms`. */
export async function eventually(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
