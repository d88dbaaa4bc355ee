// Live thumbnails for the developer console: the video of a published stream, sent to the console's page over its own
// WebRTC subscription. The console is not a room member: nobody in the room sees it, and the subscriber counts it
// shows leave these subscriptions out.
import type { MediaNetwork } from '../../realtime/media/peer-config.ts';
import type { Owner, Sfu, StreamType, Subscription } from '../../realtime/media/sfu.ts';
import { Subscriber } from '../../realtime/media/subscriber.ts';
import { userKey } from '../../services/tenant-keys.ts';
import type { RoomRef } from '../../services/trtc-rooms/trtc-rooms-service.ts';

/** Thumbnails open at once on this node, across every console page. */
const MAX_PREVIEWS = 32;

/** Why a preview was not opened. */
type PreviewRefusal = 'NO_STREAM' | 'TOO_MANY' | 'BAD_OFFER';

/** The console's video subscriptions on this node's SFU. */
export class ConsolePreviews {
  /** No app has id 0: this owner is nobody's session. */
  private readonly owner: Owner = { userKey: userKey(0, 'trtcd-console') };

  constructor(
    private readonly sfu: Sfu,
    private readonly net: MediaNetwork,
  ) {}

  /** Answers a recvonly video offer with the stream's video; its id closes it. */
  async open(sdkAppId: number, room: RoomRef, userId: string, stream: StreamType, offer: string): Promise<{ id: string; sdp: string } | PreviewRefusal> {
    const pub = this.sfu.find(sdkAppId, room, userId, stream);
    if (!pub || !pub.source.kinds.video) return 'NO_STREAM';
    if (this.sfu.subscriptionCount(this.owner) >= MAX_PREVIEWS) return 'TOO_MANY';
    const made: { id?: string } = {};
    let answered: Awaited<ReturnType<typeof Subscriber.answer>>;
    try {
      answered = await Subscriber.answer(
        offer,
        { audio: false, video: true },
        this.net,
        () => this.sfu.askKeyframe(pub),
        // The page went away (or its connection failed): the subscription ends with it.
        () => {
          if (made.id !== undefined) this.close(made.id);
        },
      );
    } catch {
      return 'BAD_OFFER';
    }
    if (!this.sfu.live(pub)) {
      answered.subscriber.close();
      return 'NO_STREAM';
    }
    const sub = this.sfu.subscribe(pub, answered.subscriber, this.owner);
    made.id = sub.id;
    return { id: sub.id, sdp: answered.sdp };
  }

  /** Closes a preview (of the app `sdkAppId` only, when given); false when there is no such preview. */
  close(id: string, sdkAppId?: number): boolean {
    const sub = this.sfu.subscription(id);
    if (!sub || sub.owner !== this.owner || (sdkAppId !== undefined && sub.publication.sdkAppId !== sdkAppId)) return false;
    this.sfu.unsubscribe(sub);
    return true;
  }

  /** Whether a subscription is one of the console's. */
  isPreview(sub: Subscription): boolean {
    return sub.owner === this.owner;
  }

  /** Closes every preview; safe to repeat. */
  stop(): void {
    this.sfu.dropOwner(this.owner, 'console stopped');
  }
}
