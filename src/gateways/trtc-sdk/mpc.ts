// trtc-sdk-v5's older "MPC" mode (TRTC.create({ enableSPC: false })): one PeerConnection for the uplink and one per
// remote publisher for the downlink, each negotiated with an SDP offer from the SDK and an answer from trtcd.
import { RTCPeerConnection, type RtpPacket, type RTCDtlsTransport, type RtcpPacket } from 'werift';
import { peerConfig, type MediaNetwork } from '../../realtime/media/peer-config.ts';
import { watchPeer, type PeerEnd } from '../../realtime/media/publisher.ts';
import type { FanOut } from '../../realtime/media/fan-out.ts';
import type { IngressMark, MediaWorkers } from '../../realtime/media/media-workers.ts';
import type { PacketHistory } from '../../realtime/media/packet-history.ts';
import { onKeyframeRequest, SenderOut } from '../../realtime/media/sender-out.ts';
import type { MediaKind, MediaSink } from '../../realtime/media/source.ts';
import type { UplinkSsrcs } from './sdk-media.ts';
import { UplinkIngress, type UplinkRoute } from './uplink-ingress.ts';

/**
 * The MediaStream ids the SDK reads from a downlink answer: audio and main video belong to the first, anything else
 * is the sub stream (screen share). They are constants of the SDK.
 */
const MPC_MAIN_STREAM_ID = '5Y2wZK8nANNAoVw6dSAHVjNxrD1ObBM2kBPV';
const MPC_AUX_STREAM_ID = '224d130c-7b5c-415b-aaa2-79c2eb5a6df2';

/** The media sections of an SDP: kind and text. */
function sections(sdp: string): Array<{ kind: string; text: string }> {
  return sdp
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((text) => ({ kind: /^m=(\w+)/.exec(text)?.[1] ?? '', text }));
}

/** The SDK's offer, cleaned of what werift cannot read (an a=extmap line whose URI the SDK blanked). */
function cleanOffer(sdp: string): string {
  return sdp.replace(/^a=extmap:\d+(\/\w+)? *\r?\n/gm, '');
}

/** The uplink SSRCs of an MPC publish offer: the first a=ssrc of the audio section and of each video section (big, small, aux), with their RTX. */
export function uplinkSsrcsOf(sdp: string): UplinkSsrcs {
  const first = (t: string | undefined) => Number((t && /^a=ssrc:(\d+)/m.exec(t)?.[1]) ?? 0);
  // The retransmission SSRC is the second of the section's FID group.
  const rtx = (t: string | undefined) => Number((t && /^a=ssrc-group:FID \d+ (\d+)/m.exec(t)?.[1]) ?? 0);
  const s = sections(sdp);
  const audio = s.find((m) => m.kind === 'audio');
  const [big, small, aux] = s.filter((m) => m.kind === 'video').map((m) => m.text);
  return {
    audioSsrc: first(audio?.text),
    bigVideoSsrc: first(big),
    bigVideoRtxSsrc: rtx(big),
    smallVideoSsrc: first(small),
    smallVideoRtxSsrc: rtx(small),
    auxVideoSsrc: first(aux),
    auxVideoRtxSsrc: rtx(aux),
  };
}

/** The uplink PeerConnection: answers the SDK's publish offers; every decrypted packet goes to `onRtp`. */
export class MpcUplink {
  private dtls: RTCDtlsTransport | undefined;
  private closed = false;
  private unwatch: () => void = () => undefined;
  onRtp: (rtp: RtpPacket) => void = () => undefined;
  /** The VP8 payload type negotiated (the offer's number), for retransmissions turned back into media. */
  vp8PayloadType = 0;

  /** The media worker's reading of the uplink, once it is connected. */
  private readonly ingress: UplinkIngress;

  private constructor(
    private readonly pc: RTCPeerConnection,
    workers: MediaWorkers | undefined,
  ) {
    this.ingress = new UplinkIngress(pc, workers);
  }

  /** Opens the uplink with the first publish offer. */
  static async open(offer: string, net: MediaNetwork, onEnd: (why: PeerEnd) => void): Promise<{ uplink: MpcUplink; sdp: string }> {
    const u = new MpcUplink(new RTCPeerConnection(peerConfig(net)), net.workers);
    try {
      const sdp = await u.negotiate(offer);
      u.unwatch = watchPeer(
        u.pc,
        (why) => {
          if (!u.closed) onEnd(why);
        },
        () => u.ingress.start(),
      );
      return { uplink: u, sdp };
    } catch (err) {
      u.close();
      throw err;
    }
  }

  /** Answers an offer (the first, or a publish_change's): every section is received. */
  async negotiate(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: cleanOffer(offer) });
    for (const t of this.pc.getTransceivers()) t.setDirection('recvonly');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('no answer was created');
    this.vp8PayloadType = Number(/^a=rtpmap:(\d+) VP8\/90000/im.exec(sdp)?.[1] ?? 0);
    const dtls = this.pc.getTransceivers()[0]?.dtlsTransport;
    if (dtls && dtls !== this.dtls) {
      this.dtls = dtls;
      dtls.onRtp.subscribe((rtp) => {
        if (!this.closed && this.dtls === dtls) this.onRtp(rtp);
      });
    }
    return sdp;
  }

  /** Sends RTCP (keyframe requests, bandwidth estimates) to the publisher. */
  sendRtcp(packets: RtcpPacket[]): void {
    if (!this.closed && this.dtls?.srtpStarted) this.dtls.sendRtcp(packets).catch(() => undefined);
  }

  /** Sets the uplink streams a media worker forwards itself (see UplinkIngress); `onRtp` still gets every packet. */
  routeUplink(routes: readonly UplinkRoute[]): void {
    this.ingress.route(routes);
  }

  /** Where a media worker read the packet being handed to `onRtp`, while it is (see IngressMark). */
  get mark(): IngressMark | undefined {
    return this.ingress.mark;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.ingress.stop();
    void this.pc.close().catch(() => undefined);
  }
}

/** Writes one stream's packets through the transceivers' SenderOut (their own SSRCs, payload types, NACK answers). */
class SenderSink implements MediaSink {
  private closed = false;

  constructor(
    private readonly senders: Partial<Record<MediaKind, SenderOut>>,
    readonly wants: Record<MediaKind, boolean>,
  ) {}

  send(kind: MediaKind, rtp: RtpPacket, from?: IngressMark): void {
    if (!this.closed && this.wants[kind]) this.senders[kind]?.send(rtp, from);
  }

  useHistory(kind: MediaKind, history: PacketHistory): void {
    this.senders[kind]?.useHistory(history);
  }

  useFanOut(kind: MediaKind, fanOut: FanOut): void {
    this.senders[kind]?.useFanOut(fanOut);
  }

  /** Sets the kinds sent; a kind no longer wanted leaves its publication's fan-out at once. */
  want(wants: Record<MediaKind, boolean>): void {
    this.wants.audio = wants.audio;
    this.wants.video = wants.video;
    for (const kind of ['audio', 'video'] as const) if (!wants[kind]) this.senders[kind]?.leaveFanOut();
  }

  /** Leaves the publications' fan-outs (the subscription ended; the downlink stays). */
  leaveFanOut(): void {
    for (const s of Object.values(this.senders)) s?.leaveFanOut();
  }

  close(): void {
    this.closed = true;
    for (const s of Object.values(this.senders)) s?.close();
  }
}

/**
 * The downlink PeerConnection of one remote publisher: answers the SDK's receive-only offer (audio, main video, aux
 * video) with the SDK's stream ids, and sends the publisher's main and sub streams through it.
 */
export class MpcDownlink {
  private closed = false;
  private unwatch: () => void = () => undefined;
  readonly main: SenderSink;
  readonly aux: SenderSink;

  private constructor(
    private readonly pc: RTCPeerConnection,
    senders: { audio?: SenderOut; video?: SenderOut; aux?: SenderOut },
  ) {
    this.main = new SenderSink({ audio: senders.audio, video: senders.video }, { audio: false, video: false });
    this.aux = new SenderSink({ video: senders.aux }, { audio: false, video: false });
  }

  /** Answers a subscribe offer; `onKeyframe(stream)` when the subscriber asks for a keyframe of main or sub video. */
  static async answer(offer: string, net: MediaNetwork, onKeyframe: (stream: 'main' | 'sub') => void, onEnd: (why: PeerEnd) => void): Promise<{ downlink: MpcDownlink; sdp: string }> {
    const pc = new RTCPeerConnection(peerConfig(net, true));
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: cleanOffer(offer) });
      const senders: { audio?: SenderOut; video?: SenderOut; aux?: SenderOut } = {};
      const roles: Array<'main' | 'sub' | undefined> = [];
      for (const t of pc.getTransceivers()) {
        const slot = t.kind === 'audio' ? (senders.audio ? undefined : 'audio') : t.kind === 'video' ? (!senders.video ? 'video' : !senders.aux ? 'aux' : undefined) : undefined;
        if (!slot) {
          t.setDirection('inactive');
          roles.push(undefined);
          continue;
        }
        t.setDirection('sendonly');
        senders[slot] = new SenderOut(t, net.workers);
        const stream = slot === 'aux' ? 'sub' : 'main';
        roles.push(stream);
        onKeyframeRequest(t, () => onKeyframe(stream));
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const local = pc.localDescription?.sdp;
      if (!local) throw new Error('no answer was created');
      const d = new MpcDownlink(pc, senders);
      d.unwatch = watchPeer(pc, (why) => {
        if (!d.closed) onEnd(why);
      });
      return { downlink: d, sdp: withStreamIds(local, roles, senders) };
    } catch (err) {
      void pc.close().catch(() => undefined);
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.main.close();
    this.aux.close();
    this.unwatch();
    void this.pc.close().catch(() => undefined);
  }
}

/** Puts the SDK's stream ids into an answer: on a=msid, and on a=ssrc … msid lines (added where werift wrote none). */
function withStreamIds(sdp: string, roles: Array<'main' | 'sub' | undefined>, senders: { audio?: { ssrc: number }; video?: { ssrc: number }; aux?: { ssrc: number } }): string {
  const parts = sdp.split(/\r\n(?=m=)/);
  const head = parts[0]!;
  const out = parts.slice(1).map((text, i) => {
    const role = roles[i];
    if (!role) return text;
    const id = role === 'main' ? MPC_MAIN_STREAM_ID : MPC_AUX_STREAM_ID;
    const kind = /^m=(\w+)/.exec(text)?.[1];
    const sender = kind === 'audio' ? senders.audio : role === 'sub' ? senders.aux : senders.video;
    const track = `${kind}-${sender?.ssrc ?? i}`;
    let t = text.replace(/^a=msid:.*$/gm, '').replace(/^a=ssrc:\d+ msid:.*$/gm, '');
    t = t.replace(/(\r\n)+/g, '\r\n');
    if (!t.endsWith('\r\n')) t += '\r\n';
    t += `a=msid:${id} ${track}\r\n`;
    if (sender) {
      if (!new RegExp(`^a=ssrc:${sender.ssrc} cname:`, 'm').test(t)) t += `a=ssrc:${sender.ssrc} cname:${id}\r\n`;
      t += `a=ssrc:${sender.ssrc} msid:${id} ${track}\r\n`;
    }
    return t.replace(/\r\n$/, '');
  });
  return `${[head, ...out].join('\r\n')}\r\n`;
}
