// A subscription's peer connection: answers the subscriber's recvonly offer and sends it a publication's packets.
import { RTCPeerConnection, type RtpPacket } from 'werift';
import type { FanOut } from './fan-out.ts';
import type { PacketHistory } from './packet-history.ts';
import type { IngressMark } from './media-workers.ts';
import { peerConfig, type MediaNetwork } from './peer-config.ts';
import { watchPeer, type PeerEnd } from './publisher.ts';
import { onKeyframeRequest, SenderOut } from './sender-out.ts';
import { mediaKind, type MediaKind } from './source.ts';

/**
 * The server side of one subscription. Packets keep their sequence numbers and timestamps; the payload type and SSRC
 * are the ones negotiated with this subscriber, the extensions its own (MID, transport-wide sequence). Packets go
 * out through an RtpWriter, and NACKs are answered from the publication's PacketHistory.
 */
export class Subscriber {
  private readonly out: Partial<Record<MediaKind, SenderOut>> = {};
  private closed = false;
  private unwatch: () => void = () => undefined;

  private constructor(private readonly pc: RTCPeerConnection) {}

  /**
   * Answers a subscribe offer, sending the kinds in `kinds` (other sections are answered inactive). `onKeyframe` is
   * called when the subscriber asks for a keyframe (PLI/FIR) and once it is connected; `onEnd` if it fails.
   */
  static async answer(
    offer: string,
    kinds: Record<MediaKind, boolean>,
    net: MediaNetwork,
    onKeyframe: () => void,
    onEnd: (why: PeerEnd) => void,
  ): Promise<{ subscriber: Subscriber; sdp: string }> {
    const pc = new RTCPeerConnection(peerConfig(net, true));
    const s = new Subscriber(pc);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) {
        const kind = mediaKind(t.kind);
        if (!kind || !kinds[kind] || s.out[kind]) {
          t.setDirection('inactive');
          continue;
        }
        t.setDirection('sendonly');
        s.out[kind] = new SenderOut(t, net.workers);
        onKeyframeRequest(t, onKeyframe);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('no answer was created');
      s.unwatch = watchPeer(
        pc,
        (why) => {
          if (!s.closed) onEnd(why);
        },
        onKeyframe,
      );
      return { subscriber: s, sdp };
    } catch (err) {
      s.close();
      throw err;
    }
  }

  /** The publication's recent packets of `kind`, which the subscriber's NACKs are answered from. */
  useHistory(kind: MediaKind, history: PacketHistory): void {
    this.out[kind]?.useHistory(history);
  }

  /** The publication's fan-out of `kind`, which this subscriber's sender of that kind joins. */
  useFanOut(kind: MediaKind, fanOut: FanOut): void {
    this.out[kind]?.useFanOut(fanOut);
  }

  /** Sends one packet of `kind` (dropped until the connection is up, or if the kind is not subscribed). */
  send(kind: MediaKind, rtp: RtpPacket, from?: IngressMark): void {
    if (!this.closed) this.out[kind]?.send(rtp, from);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    for (const o of Object.values(this.out)) o?.close();
    void this.pc.close().catch(() => undefined);
  }
}
