import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../logger.ts';
import { IVH_EVENT_TOPIC, type IvhEvent, type SpeakStatus } from '../services/digital-human/session.ts';
import { TRTC_ROOM_TOPIC, type TrtcRoomEvent, type TrtcRoomsService } from '../services/trtc-rooms/trtc-rooms-service.ts';
import { listen } from './feature.ts';
import { AvatarClipLoader, ClipPlayer, type AvatarClips } from './media/clip-player.ts';
import type { Publication } from './media/sfu.ts';
import type { MediaFeature } from './media-feature.ts';
import { userKey, type UserKey } from '../services/tenant-keys.ts';

/** The room member role of a digital human (set by the digital-human service when its session is ready). */
const AVATAR_ROLE = 'avatar';

/** Speak statuses during which the avatar is talking (https://www.tencentcloud.com/document/product/1211/62112: from *Start until *Over). */
const SPEAKING: ReadonlySet<SpeakStatus> = new Set(['TextStart', 'WaitingTextOver', 'AudioStart', 'WaitingAudioOver']);

/** Whether the avatar is talking in this speak status. */
export function isSpeaking(status: SpeakStatus): boolean {
  return SPEAKING.has(status);
}

/** What avatar media needs. */
interface AvatarMediaDeps {
  bus: Bus;
  log: Logger;
  media: Pick<MediaFeature, 'sfu' | 'announce'>;
  trtcRooms: Pick<TrtcRoomsService, 'members'>;
  /** The clips to play; default: assets/avatar under the package root. */
  clips?: () => Promise<AvatarClips>;
}

/**
 * A digital human's media: when its session puts it in a TRTC room (role `avatar`), its main stream is published in
 * that room from the avatar clips (VP8 video, Opus audio), and the command channel's speak status switches the clips
 * between idle and speaking. The node that ran the room entry plays it; it stops when the avatar leaves the room.
 */
export class AvatarMedia {
  /** Playing avatars: `${sdkAppId}\n${userId}` → their publication. */
  private readonly playing = new Map<UserKey, Publication>();
  private unsubscribe: Array<() => void> = [];
  private closed = false;
  /** Loads the avatar clips once (when the deps give no `clips`). */
  private loader: AvatarClipLoader | undefined;

  constructor(private readonly d: AvatarMediaDeps) {}

  /** Follows avatars entering rooms (their media starts) and their speak status. */
  start(): void {
    if (this.unsubscribe.length > 0) return;
    const d = this.d;
    this.closed = false;
    this.unsubscribe = [
      listen(d.bus, TRTC_ROOM_TOPIC, d.log, 'avatar media room event', (p, remote) => {
        const e = p as TrtcRoomEvent;
        if (remote || e.type !== 'enter') return;
        const roles = new Map(d.trtcRooms.members(e.sdkAppId, e.room).map((m) => [m.userId, m.role]));
        for (const u of e.users) if (roles.get(u) === AVATAR_ROLE) void this.play(e);
      }),
      listen(d.bus, IVH_EVENT_TOPIC, d.log, 'avatar speak event', (p, remote) => {
        const m = p as { event: IvhEvent; avatar?: { sdkAppId: number; userId: string } };
        if (remote || !m.avatar || !m.event.SpeakStatus) return;
        const pub = this.playing.get(userKey(m.avatar.sdkAppId, m.avatar.userId));
        if (pub && d.media.sfu.live(pub)) (pub.source as ClipPlayer).setSpeaking(isSpeaking(m.event.SpeakStatus));
      }),
    ];
  }

  /** Whether the avatar is playing, and speaking; for tests and stats. */
  state(sdkAppId: number, userId: string): { playing: boolean; speaking: boolean } {
    const pub = this.playing.get(userKey(sdkAppId, userId));
    const live = pub !== undefined && this.d.media.sfu.live(pub);
    return { playing: live, speaking: live && (pub.source as ClipPlayer).speaking };
  }

  close(): void {
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  private async play(e: TrtcRoomEvent): Promise<void> {
    let clips: AvatarClips;
    try {
      clips = await (this.d.clips ?? (() => (this.loader ??= new AvatarClipLoader()).load()))();
    } catch (err) {
      this.d.log.error({ err }, 'avatar clips could not be loaded; the avatar publishes no media');
      return;
    }
    if (this.closed) return;
    for (const userId of e.users) {
      // Still in the room as the avatar once the clips are loaded (a session closed at once leaves no media behind).
      if (!this.d.trtcRooms.members(e.sdkAppId, e.room).some((m) => m.userId === userId && m.role === AVATAR_ROLE)) continue;
      const player = new ClipPlayer(clips);
      const pub = this.d.media.sfu.publish({ sdkAppId: e.sdkAppId, room: e.room, userId, stream: 'main', source: player, owner: undefined });
      this.playing.set(userKey(e.sdkAppId, userId), pub);
      player.start();
      this.d.media.announce(pub);
    }
    // Forget avatars whose publication ended (left the room, replaced).
    for (const [k, pub] of this.playing) if (!this.d.media.sfu.live(pub)) this.playing.delete(k);
  }
}
