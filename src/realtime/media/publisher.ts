// A client's published stream: a werift peer connection that answers the client's offer and only receives.
import { RTCPeerConnection, type RTCRtpReceiver } from 'werift';
import type { FanOut } from './fan-out.ts';
import { PublisherIngress, publishedStreams } from './ingress.ts';
import { peerConfig, type MediaNetwork } from './peer-config.ts';
import { mediaKind, type MediaKind, type MediaSource, type RtpSink } from './source.ts';

/** Why a peer connection ended on its own. */
export type PeerEnd = 'failed' | 'timeout';

/** How long a new peer connection may take to connect before it is closed, ms. */
const CONNECT_TIMEOUT_MS = 20_000;

/** Where a peer connection's ICE and DTLS stand, for the log of one that ended. */
function peerState(pc: RTCPeerConnection): string {
  return `ice ${pc.iceConnectionState}, dtls ${pc.dtlsTransports.map((t) => t.state).join('/') || 'none'}`;
}

/**
 * Calls `onEnd` (with where ICE and DTLS stood) when the connection fails or does not connect within
 * CONNECT_TIMEOUT_MS; returns a disposer.
 */
export function watchPeer(pc: RTCPeerConnection, onEnd: (why: PeerEnd, state: string) => void, onConnected?: () => void): () => void {
  const timer = setTimeout(() => onEnd('timeout', peerState(pc)), CONNECT_TIMEOUT_MS);
  timer.unref?.();
  const sub = pc.connectionStateChange.subscribe((state) => {
    if (state === 'connected') {
      clearTimeout(timer);
      onConnected?.();
    } else if (state === 'failed' || state === 'disconnected') {
      clearTimeout(timer);
      onEnd('failed', peerState(pc));
    }
  });
  return () => {
    clearTimeout(timer);
    sub.unSubscribe();
  };
}

/**
 * A MediaSource fed by a client over WebRTC. The client offers (sendonly audio and/or video), the server answers
 * recvonly; every RTP packet with a payload goes to the sink, and keyframe requests go back as RTCP PLI.
 */
export class WebRtcPublisher implements MediaSource {
  private sink: RtpSink | undefined;
  private video: { receiver: RTCRtpReceiver; ssrc: number } | undefined;
  /** A keyframe was asked for before the first video packet named the SSRC to ask it of. */
  private keyframeWanted = false;
  private closed = false;
  private unwatch: () => void = () => undefined;
  /** The media worker that reads the connection's socket once it is connected, if one does. */
  private ingress: PublisherIngress | undefined;
  private fanOuts: Readonly<Record<MediaKind, FanOut>> | undefined;

  private constructor(
    private readonly pc: RTCPeerConnection,
    readonly kinds: Readonly<Record<MediaKind, boolean>>,
  ) {}

  /** Answers a publish offer; `onEnd` is called if the connection later fails. Rejects when the SDP is unusable. */
  static async answer(offer: string, kinds: Record<MediaKind, boolean>, net: MediaNetwork, onEnd: (why: PeerEnd) => void): Promise<{ publisher: WebRtcPublisher; sdp: string }> {
    const pc = new RTCPeerConnection(peerConfig(net));
    const p = new WebRtcPublisher(pc, kinds);
    try {
      // werift announces remote tracks while the offer is applied, so listen first.
      pc.onTrack.subscribe((track) => {
        const kind = mediaKind(track.kind);
        const tr = pc.getTransceivers().find((t) => t.receiver.tracks.includes(track));
        if (!kind || !kinds[kind] || !tr) return;
        track.onReceiveRtp.subscribe((rtp) => {
          // Padding-only packets are bandwidth probes for this hop, not media.
          if (p.closed || rtp.payload.length === 0) return;
          if (kind === 'video' && p.video === undefined) {
            p.video = { receiver: tr.receiver, ssrc: rtp.header.ssrc };
            if (p.keyframeWanted) p.requestKeyframe();
          }
          p.sink?.(kind, rtp, p.ingress?.mark);
        });
      });
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      for (const t of pc.getTransceivers()) {
        const kind = mediaKind(t.kind);
        t.setDirection(kind && kinds[kind] ? 'recvonly' : 'inactive');
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('no answer was created');
      p.unwatch = watchPeer(
        pc,
        (why) => {
          if (!p.closed) onEnd(why);
        },
        () => p.startIngress(net),
      );
      return { publisher: p, sdp };
    } catch (err) {
      p.close();
      throw err;
    }
  }

  onRtp(sink: RtpSink): void {
    this.sink = sink;
  }

  useFanOuts(fanOut: Readonly<Record<MediaKind, FanOut>>): void {
    this.fanOuts = fanOut;
    this.ingress?.useFanOuts(fanOut);
  }

  private startIngress(net: MediaNetwork): void {
    if (this.closed || this.ingress) return;
    this.ingress = PublisherIngress.start(this.pc, publishedStreams(this.pc, this.kinds), net.workers);
    if (this.fanOuts) this.ingress?.useFanOuts(this.fanOuts);
  }

  requestKeyframe(): void {
    if (this.closed) return;
    // Asked before any video arrived (a subscriber that joined as the publisher connected): asked once it does.
    this.keyframeWanted = this.video === undefined;
    if (this.video) void this.video.receiver.sendRtcpPLI(this.video.ssrc);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink = undefined;
    this.unwatch();
    this.ingress?.stop();
    void this.pc.close().catch(() => undefined);
  }
}
