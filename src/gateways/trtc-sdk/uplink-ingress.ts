// An SDK user's uplink read by a media worker (ingress.ts), on either transport: the single PeerConnection or the MPC
// uplink. The worker tells the streams apart by the SSRCs of the publish (camera audio and video, screen share) and
// forwards each to the members of its publication's fan-out on its lane; the small stream and RTX stay on the main
// thread, which gets every packet afterwards with its IngressMark.
import type { RTCPeerConnection } from 'werift';
import type { FanOut } from '../../realtime/media/fan-out.ts';
import { PublisherIngress } from '../../realtime/media/ingress.ts';
import type { IngressMark, MediaWorkers } from '../../realtime/media/media-workers.ts';

/** An uplink stream a media worker forwards: its SSRC and its publication's fan-out of that kind. */
export interface UplinkRoute {
  ssrc: number;
  fanOut: FanOut;
}

/** The worker's reading of one uplink peer connection, from when it connects until it closes. */
export class UplinkIngress {
  private ingress: PublisherIngress | undefined;
  private routes: readonly UplinkRoute[] = [];
  private stopped = false;

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly workers: MediaWorkers | undefined,
  ) {}

  /** The connection is up: a worker reads it from now on (when there are workers and the pair allows it). */
  start(): void {
    if (this.stopped || this.ingress) return;
    this.ingress = PublisherIngress.start(this.pc, { payloadTypes: [], ssrcs: [] }, this.workers);
    this.feed();
  }

  /** Sets the streams the worker forwards itself (those published now); the others reach the main thread only. */
  route(routes: readonly UplinkRoute[]): void {
    this.routes = routes;
    this.feed();
  }

  /** Where the worker read the packet being handed on, while it is (see IngressMark). */
  get mark(): IngressMark | undefined {
    return this.ingress?.mark;
  }

  /** Stops the worker's reading; safe to repeat. */
  stop(): void {
    this.stopped = true;
    this.ingress?.stop();
    this.ingress = undefined;
  }

  private feed(): void {
    // The fan-outs first: a stream's SSRC then names a stream whose group the worker already knows.
    this.ingress?.feedStreams(this.routes.map((r) => r.fanOut));
    this.ingress?.useSsrcs(this.routes.map((r, stream) => [r.ssrc, stream]));
  }
}
