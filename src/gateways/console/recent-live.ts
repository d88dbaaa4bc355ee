// The last messages and gifts of each live room, for the developer console. Live rooms keep a message count, not the
// messages (Tencent's REST API has no way to read them back), so the console keeps what it saw on the bus since start.
import type { Bus } from '../../bus/bus.ts';
import { LIVE_TOPIC, type LiveEvent } from '../../services/live/room.ts';
import { liveRoomKey, type LiveRoomKey } from '../../services/tenant-keys.ts';

/** Events kept per room. */
const KEEP = 20;

/** A message or gift as the console lists it. */
interface RecentLiveEvent {
  kind: 'text' | 'custom' | 'gift';
  /** Unix ms. */
  time: number;
  /** One readable line: "host1: hello", "viewer1 sent 2 × Rose to host1". */
  text: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

function line(e: LiveEvent): RecentLiveEvent | undefined {
  const d = e.data;
  if (e.type === 'text') return { kind: 'text', time: e.time, text: `${str(d.sender)}: ${str(d.text)}` };
  if (e.type === 'custom') return { kind: 'custom', time: e.time, text: `${str(d.sender)} [${str(d.businessId)}] ${str(d.data)}` };
  if (e.type === 'gift') {
    const to = Array.isArray(d.receivers) ? d.receivers.map(str).join(', ') : '';
    return { kind: 'gift', time: e.time, text: `${str(d.from)} sent ${str(d.count)} × ${str(d.name) || str(d.giftId)}${to ? ` to ${to}` : ''}` };
  }
  return undefined;
}

/** Follows the live-room events of every node from `start` to `stop` and keeps the last few of each room. */
export class RecentLiveEvents {
  private readonly rooms = new Map<LiveRoomKey, RecentLiveEvent[]>();
  private off: (() => void) | undefined;

  constructor(private readonly bus: Bus) {}

  /** Starts following the bus; safe to repeat. */
  start(): void {
    this.off ??= this.bus.subscribe(LIVE_TOPIC, (p) => this.note(p as LiveEvent));
  }

  /** Stops following and forgets; safe to repeat. */
  stop(): void {
    this.off?.();
    this.off = undefined;
    this.rooms.clear();
  }

  /** A room's recent messages and gifts, oldest first. */
  of(sdkAppId: number, roomId: string): readonly RecentLiveEvent[] {
    return this.rooms.get(liveRoomKey(sdkAppId, roomId)) ?? [];
  }

  private note(e: LiveEvent): void {
    const key = liveRoomKey(e.sdkAppId, e.roomId);
    if (e.type === 'destroyed') {
      this.rooms.delete(key);
      return;
    }
    const entry = line(e);
    if (!entry) return;
    let list = this.rooms.get(key);
    if (!list) this.rooms.set(key, (list = []));
    list.push(entry);
    if (list.length > KEEP) list.shift();
  }
}
