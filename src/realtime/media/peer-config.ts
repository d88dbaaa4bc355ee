// The WebRTC settings of every server-side peer connection: the codecs the SFU forwards and the ICE transport.
import {
  RTCRtpCodecParameters,
  useFIR,
  useNACK,
  usePLI,
  useREMB,
  useSdesMid,
  useTransportWideCC,
  useTWCC,
  type RTCPeerConnectionConfig,
} from 'werift';
import type { MediaWorkers } from './media-workers.ts';

/** Where server-side peer connections listen (a UDP port range, '' = any free port; extra host addresses) and who sends. */
export interface MediaNetwork {
  /** The media worker threads that protect and send the SFU's packets; the main thread does when absent. */
  workers?: MediaWorkers;
  /** 'min-max', e.g. '40000-49999'; '' lets the system pick. */
  portRange: string;
  /** Host addresses to offer besides the machine's interfaces (werift leaves out loopback by default). */
  extraHostAddresses?: string[];
}

/** Parses a `min-max` UDP port range; undefined for ''. Throws on a malformed or empty range. */
export function parsePortRange(range: string): [number, number] | undefined {
  if (range === '') return undefined;
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(range);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  // werift needs two distinct ports.
  if (!(lo >= 1024 && hi <= 65535 && lo < hi)) throw new Error(`media port range must be "min-max" with 1024 <= min < max <= 65535, got "${range}"`);
  return [lo, hi];
}

/**
 * The peer-connection options: Opus and VP8 only (every publisher sends what every subscriber decodes, so RTP is
 * forwarded as it is), NACK/PLI/FIR feedback, REMB, and transport-wide congestion control where the server receives.
 * A connection that only sends (`sendOnly`, a subscription) leaves the transport-wide sequence extension out (werift
 * still echoes the offer's `transport-cc` feedback line, which without the extension means nothing): the server
 * estimates no bandwidth from that feedback, so the subscriber sends none (a browser may send REMB instead).
 */
export function peerConfig(net: MediaNetwork, sendOnly = false): RTCPeerConnectionConfig {
  const feedback = [useNACK(), usePLI(), useFIR(), useREMB()];
  return {
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, parameters: 'minptime=10;useinbandfec=1' })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, rtcpFeedback: sendOnly ? feedback : [...feedback, useTWCC()] })],
    },
    headerExtensions: { audio: [useSdesMid()], video: sendOnly ? [useSdesMid()] : [useSdesMid(), useTransportWideCC()] },
    icePortRange: parsePortRange(net.portRange),
    iceAdditionalHostAddresses: net.extraHostAddresses,
    bundlePolicy: 'max-bundle',
  };
}
