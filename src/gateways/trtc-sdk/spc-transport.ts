// The server end of trtc-sdk-v5's single PeerConnection: one ICE-lite, DTLS-SRTP, BUNDLE transport negotiated from
// the client's "ability" (no SDP on the wire). RTP is routed by SSRC both ways, outside werift's transceivers: the SDK
// sends no MID, announces its uplink SSRCs in publish/v2 and picks the downlink SSRCs itself in subscribe/v3.
import { RTCPeerConnection, type RTCDtlsTransport, type RtcpPacket, type RtpPacket } from 'werift';
import type { FanOut, FanOutOwner } from '../../realtime/media/fan-out.ts';
import type { IngressMark, LaneMember, MediaWorkers, MemberOffsets } from '../../realtime/media/media-workers.ts';
import { RtpWriter, type LaneRoute, type RtpExtensions, type RtpOut } from '../../realtime/media/rtp-writer.ts';
import { peerConfig, type MediaNetwork } from '../../realtime/media/peer-config.ts';
import { TwccLoss } from '../../realtime/media/twcc-loss.ts';
import { watchPeer, type PeerEnd } from '../../realtime/media/publisher.ts';
import { UplinkIngress, type UplinkRoute } from './uplink-ingress.ts';

/** An RTP codec as the SDK's ability lists it. */
interface AbilityCodec {
  payload: number;
  codec: string;
  fmtp: string;
  rate: number;
  channels?: number;
  rtx: number;
  rtcpfb: Array<{ id: string; params: string[] }>;
}

/** The part of the SDK's client ability (join/v2, rebuild_pc) the server uses. */
export interface ClientAbility {
  ice: { ufrag: string; password: string };
  dtls: { hash: string; fingerprint: string; setup: string };
  audio: { codecs: AbilityCodec[]; extensions: Array<{ id: number; uri: string }> };
  video: { codecs: AbilityCodec[]; decoders?: AbilityCodec[]; extensions: Array<{ id: number; uri: string }> };
}

/** The codecs both ends use: the client's own Opus and VP8 entries (the SDK answers its offer with its own numbers). */
interface SpcCodecs {
  opus: AbilityCodec;
  /** The client's uplink VP8 (payload type and RTX of its offer). */
  vp8: AbilityCodec;
  /** The VP8 the server sends down (it picks the downlink payload types: the SDK rewrites its offer to them). */
  downVp8: AbilityCodec;
}

const TWCC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const VIDEO_FEEDBACK = [
  { id: 'nack', params: [] },
  { id: 'nack', params: ['pli'] },
  { id: 'ccm', params: ['fir'] },
  { id: 'goog-remb', params: [] },
];

/** Opus and VP8 from a client ability; null when it offers neither (trtcd forwards without transcoding). */
function spcCodecs(a: ClientAbility): SpcCodecs | null {
  const opus = a.audio?.codecs?.find((c) => c.codec.toLowerCase() === 'opus');
  const vp8 = a.video?.codecs?.find((c) => c.codec.toLowerCase() === 'vp8');
  const downVp8 = (a.video?.decoders ?? a.video?.codecs)?.find((c) => c.codec.toLowerCase() === 'vp8') ?? vp8;
  return opus && vp8 && downVp8 ? { opus, vp8, downVp8 } : null;
}

/** The SDP offer the client's ability stands for: audio (mid 0) and the three uplink video sections (mids 1–3). */
function offerFromAbility(a: ClientAbility, c: SpcCodecs): string {
  const common = [`a=ice-ufrag:${a.ice.ufrag}`, `a=ice-pwd:${a.ice.password}`, `a=fingerprint:${a.dtls.hash} ${a.dtls.fingerprint}`, 'a=setup:actpass', 'a=rtcp-mux'];
  const lines = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2 3', 'a=msid-semantic: WMS'];
  lines.push(`m=audio 9 UDP/TLS/RTP/SAVPF ${c.opus.payload}`, 'c=IN IP4 0.0.0.0', ...common, 'a=mid:0', 'a=sendrecv', `a=rtpmap:${c.opus.payload} opus/48000/2`);
  if (c.opus.fmtp) lines.push(`a=fmtp:${c.opus.payload} ${c.opus.fmtp}`);
  for (const mid of [1, 2, 3]) {
    lines.push(`m=video 9 UDP/TLS/RTP/SAVPF ${c.vp8.payload}`, 'c=IN IP4 0.0.0.0', ...common, `a=mid:${mid}`, 'a=sendrecv', `a=rtpmap:${c.vp8.payload} VP8/90000`);
    for (const fb of VIDEO_FEEDBACK) lines.push(`a=rtcp-fb:${c.vp8.payload} ${fb.id}${fb.params.length ? ` ${fb.params.join(' ')}` : ''}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A host candidate of the server's ability ("foundation" is what the SDK writes as the transport). */
interface AbilityCandidate {
  ip: string;
  port: number;
  priority: number;
  foundation: 'udp';
  type: 'host';
}

/** Reads what the ability reply needs from werift's answer. */
function answerFacts(sdp: string): { ufrag: string; pwd: string; fingerprint: string; hash: string; setup: string; candidates: AbilityCandidate[] } {
  const get = (re: RegExp) => re.exec(sdp)?.[1];
  const fp = /a=fingerprint:(\S+) (\S+)/.exec(sdp);
  const candidates: AbilityCandidate[] = [];
  const seen = new Set<string>();
  for (const m of sdp.matchAll(/a=candidate:\S+ 1 udp (\d+) (\S+) (\d+) typ host/gi)) {
    const key = `${m[2]}:${m[3]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    candidates.push({ ip: m[2]!, port: Number(m[3]), priority: Number(m[1]), foundation: 'udp', type: 'host' });
  }
  const ufrag = get(/a=ice-ufrag:(\S+)/);
  const pwd = get(/a=ice-pwd:(\S+)/);
  if (!ufrag || !pwd || !fp || candidates.length === 0) throw new Error('the answer lacks ICE credentials, a fingerprint or candidates');
  return { ufrag, pwd, hash: fp[1]!, fingerprint: fp[2]!, setup: get(/a=setup:(\S+)/) ?? 'active', candidates };
}

/** A downlink SSRC's place in a publication's fan-out: the media worker writes its packets (see SsrcWriter). */
export interface SpcMembership {
  fanOut: FanOut;
  route: LaneRoute;
  member: LaneMember;
  writer: RtpWriter;
  /** Header and SRTP tag bytes the worker adds to each packet's payload. */
  overhead: number;
  /** The worker's counts last taken. */
  packets: number;
  octets: number;
}

/**
 * One SDK user's media transport. `onRtp`/`onRtcp` get every decrypted packet (the caller routes them by SSRC);
 * `sendRtp` writes one packet with the given header fields.
 */
export class SpcTransport {
  private dtls: RTCDtlsTransport | undefined;
  private writer: RtpWriter | undefined;
  private closed = false;
  private unwatch: () => void = () => undefined;
  /** The transport-wide sequence extension of downlink packets, by payload type (Opus, else video); none when not offered. */
  private readonly twcc: { audio: RtpExtensions | undefined; video: RtpExtensions | undefined };
  /** The subscriber's path loss, from its transport-wide feedback on the downlink packets. */
  readonly loss = new TwccLoss();
  onRtp: (rtp: RtpPacket) => void = () => undefined;
  onRtcp: (rtcp: RtcpPacket) => void = () => undefined;
  /** The media worker's reading of the uplink, once the transport is connected. */
  private readonly ingress: UplinkIngress;

  private constructor(
    private readonly pc: RTCPeerConnection,
    readonly codecs: SpcCodecs,
    private readonly workers: MediaWorkers | undefined,
    client: ClientAbility,
  ) {
    const id = (exts: Array<{ id: number; uri: string }> | undefined) => exts?.find((e) => e.uri === TWCC && Number.isInteger(e.id) && e.id >= 1 && e.id <= 14)?.id;
    const audio = id(client.audio?.extensions);
    const video = id(client.video?.extensions);
    this.twcc = { audio: audio === undefined ? undefined : { twccId: audio }, video: video === undefined ? undefined : { twccId: video } };
    this.ingress = new UplinkIngress(pc, workers);
  }

  /** Negotiates with a client ability; resolves with the transport and the server ability of the join/rebuild reply. */
  static async open(client: ClientAbility, net: MediaNetwork, onEnd: (why: PeerEnd, state: string) => void): Promise<{ transport: SpcTransport; ability: Record<string, unknown> }> {
    const codecs = spcCodecs(client);
    if (!codecs) throw new Error('the ability offers no Opus or no VP8');
    const pc = new RTCPeerConnection({ ...peerConfig(net), iceLite: true });
    const t = new SpcTransport(pc, codecs, net.workers, client);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerFromAbility(client, codecs) });
      for (const tr of pc.getTransceivers()) tr.setDirection('recvonly');
      await pc.setLocalDescription(await pc.createAnswer());
      const facts = answerFacts(pc.localDescription?.sdp ?? '');
      const dtls = pc.getTransceivers()[0]?.dtlsTransport;
      if (!dtls) throw new Error('no transport was created');
      t.dtls = dtls;
      dtls.onRtp.subscribe((rtp) => {
        if (!t.closed) t.onRtp(rtp);
      });
      dtls.onRtcp.subscribe((rtcp) => {
        if (!t.closed) t.onRtcp(rtcp);
      });
      t.unwatch = watchPeer(
        pc,
        (why, state) => {
          if (!t.closed) onEnd(why, state);
        },
        () => t.ingress.start(),
      );
      const twcc = (exts: Array<{ id: number; uri: string }> | undefined) => (exts ?? []).filter((e) => e.uri === TWCC);
      const ability = {
        ice: { ufrag: facts.ufrag, password: facts.pwd },
        dtls: { hash: facts.hash, fingerprint: facts.fingerprint, setup: facts.setup },
        candidates: facts.candidates,
        audio: { codecs: [{ ...codecs.opus, rtcpfb: [], rtx: 0 }], extensions: twcc(client.audio.extensions) },
        video: {
          codecs: [{ ...codecs.vp8, rtcpfb: VIDEO_FEEDBACK }],
          decoders: [{ ...codecs.downVp8, rtcpfb: VIDEO_FEEDBACK }],
          extensions: twcc(client.video.extensions),
        },
        useVp8: true,
      };
      return { transport: t, ability };
    } catch (err) {
      t.close();
      throw err;
    }
  }

  /**
   * Sets the uplink streams a media worker forwards to their fan-outs' members itself, once the transport is connected;
   * the caller still gets every packet (`onRtp`), and `mark` says while it does where the worker read it.
   */
  routeUplink(routes: readonly UplinkRoute[]): void {
    this.ingress.route(routes);
  }

  /** Where a media worker read the packet being handed to `onRtp`, while it is (see IngressMark). */
  get mark(): IngressMark | undefined {
    return this.ingress.mark;
  }

  /**
   * Joins a publication's fan-out for one downlink SSRC: from the next packet on, the media worker writes the header
   * (`h`'s SSRC and payload type, this transport's transport-wide sequence number) with the packet's sequence number
   * and timestamp plus `offsets`. Undefined when packets go out on this thread (no media worker, or no route yet).
   */
  joinFanOut(fanOut: FanOut, h: Pick<RtpOut, 'payloadType' | 'ssrc'>, offsets: MemberOffsets, owner: FanOutOwner): SpcMembership | undefined {
    const writer = this.currentWriter();
    const route = writer?.laneRoute();
    if (!writer || !route) return undefined;
    const { header, twccAt } = writer.template({ ...h, sequenceNumber: 0, timestamp: 0, marker: false }, this.extensionsFor(h.payloadType));
    const member = fanOut.join(route.lane, route.id, header, twccAt, owner, offsets);
    return member && { fanOut, route, member, writer, overhead: header.length + route.tag, packets: 0, octets: 0 };
  }

  /** Whether a membership still matches how this transport sends (same keys, pair and worker). */
  holds(m: SpcMembership): boolean {
    return !this.closed && this.writer === m.writer && m.writer.dtls === this.dtls && m.writer.laneRoute() === m.route;
  }

  /**
   * Sends one RTP packet through the SFU's RtpWriter (dropped until DTLS is up). The publisher's header extensions are
   * not carried over; the packet gets this transport's own transport-wide sequence number where the client offered the
   * extension, so the subscriber's feedback reports it (see TwccLoss).
   */
  sendRtp(h: RtpOut, payload: Buffer): void {
    this.currentWriter()?.write(h, payload, this.extensionsFor(h.payloadType));
  }

  /** The writer for the transport's DTLS session (a new one after a new handshake); undefined until DTLS is up. */
  private currentWriter(): RtpWriter | undefined {
    if (this.closed || !this.dtls?.srtpStarted) return undefined;
    if (this.writer?.dtls !== this.dtls) {
      this.writer?.close();
      this.writer = new RtpWriter(this.dtls, undefined, this.workers);
    }
    return this.writer;
  }

  private extensionsFor(payloadType: number): RtpExtensions | undefined {
    return payloadType === this.codecs.opus.payload ? this.twcc.audio : this.twcc.video;
  }

  /** Sends RTCP (keyframe requests upstream). */
  sendRtcp(packets: RtcpPacket[]): void {
    if (this.closed || !this.dtls?.srtpStarted) return;
    this.dtls.sendRtcp(packets).catch(() => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.ingress.stop();
    this.writer?.close();
    void this.pc.close().catch(() => undefined);
  }
}
