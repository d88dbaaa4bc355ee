// A subscription's peer connection: answers the subscriber's recvonly offer and sends it a publication's packets.
import { PictureLossIndication, RtcpPayloadSpecificFeedback, RTCPeerConnection, RtpHeader, RtpPacket, type RtcpPacket, type RTCRtpSender, type RTCRtpTransceiver } from 'werift';
import { peerConfig, type MediaNetwork } from './peer-config.ts';
import { watchPeer, type PeerEnd } from './publisher.ts';
import { mediaKind, type MediaKind } from './source.ts';

/** RTCP payload-specific feedback FMT of a Full Intra Request (RFC 5104; werift does not export its class). */
export const FIR_FMT = 4;

/** Calls `onKeyframe` when the peer asks a sending transceiver for a keyframe (PLI or FIR). */
export function onKeyframeRequest(t: RTCRtpTransceiver, onKeyframe: () => void): void {
  const sender = t.sender;
  const onRtcp = (p: RtcpPacket) => {
    if (p instanceof RtcpPayloadSpecificFeedback && (p.feedback.count === PictureLossIndication.count || p.feedback.count === FIR_FMT)) onKeyframe();
  };
  sender.onRtcp.subscribe(onRtcp);
  // werift routes feedback by the sender SSRC first: from a peer that announced SSRCs for its recvonly sections it
  // lands on this transceiver's receiver instead of its sender.
  t.receiver.onRtcp.subscribe((p) => {
    if (p instanceof RtcpPayloadSpecificFeedback && 'mediaSsrc' in p.feedback && p.feedback.mediaSsrc === sender.ssrc) onRtcp(p);
  });
}

/**
 * The server side of one subscription. Packets keep their sequence numbers and timestamps; the payload type and SSRC
 * are the ones negotiated with this subscriber, and the publisher's header extensions are dropped (their ids were
 * negotiated on the other connection). werift's sender answers the subscriber's NACKs from its own history.
 */
export class Subscriber {
  private readonly senders: Partial<Record<MediaKind, RTCRtpSender>> = {};
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
    const pc = new RTCPeerConnection(peerConfig(net));
    const s = new Subscriber(pc);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) {
        const kind = mediaKind(t.kind);
        if (!kind || !kinds[kind] || s.senders[kind]) {
          t.setDirection('inactive');
          continue;
        }
        t.setDirection('sendonly');
        s.senders[kind] = t.sender;
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

  /** Sends one packet of `kind` (dropped until the connection is up, or if the kind is not subscribed). */
  send(kind: MediaKind, rtp: RtpPacket): void {
    const sender = this.senders[kind];
    if (!sender || this.closed) return;
    const h = rtp.header;
    const copy = new RtpPacket(new RtpHeader({ marker: h.marker, payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc }), rtp.payload);
    sender.sendRtp(copy).catch(() => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    void this.pc.close().catch(() => undefined);
  }
}
