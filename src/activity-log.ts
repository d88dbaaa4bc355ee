// Client activity at info level, from the events every protocol shares (REST, /rtc, Tencent's Web SDK, the Chat SDK):
// users entering and leaving TRTC rooms, calls starting and ending, streams published and unpublished. Logins are
// logged by each gateway.
import type { Bus } from './bus/bus.ts';
import type { Logger } from './logger.ts';
import type { Sfu } from './realtime/media/sfu.ts';
import { CALL_TOPIC, type CallChanged } from './services/calls/calls-service.ts';
import { roomText, TRTC_ROOM_TOPIC, type TrtcRoomEvent } from './services/trtc-rooms/trtc-rooms-service.ts';

/** Logs this node's client activity from start() to stop() (events of other nodes are theirs to log). */
export class ActivityLog {
  private offs: Array<() => void> = [];
  private observing = false;

  constructor(
    private readonly bus: Bus,
    private readonly sfu: Sfu,
    private readonly log: Logger,
  ) {}

  /** Follows the bus and the SFU; safe to repeat. */
  start(): void {
    if (this.offs.length > 0) return;
    const { bus, log } = this;
    this.offs = [
      bus.subscribe(TRTC_ROOM_TOPIC, (p, remote) => {
        if (remote) return;
        const e = p as TrtcRoomEvent;
        log.info({ sdkAppId: e.sdkAppId, room: roomText(e.room), users: e.users, reason: e.reason || undefined }, `trtc room ${e.type}`);
      }),
      bus.subscribe(CALL_TOPIC, (p, remote) => {
        if (remote) return;
        const { call, changes, started, ended } = p as CallChanged;
        const fields = { sdkAppId: call.sdkAppId, callId: call.callId, caller: call.caller, mediaType: call.mediaType };
        if (started) log.info({ ...fields, callees: call.members.filter((m) => m.userId !== call.caller).map((m) => m.userId) }, 'call started');
        else if (changes.length && !ended) log.info({ ...fields, changes: changes.map((c) => `${c.userId} ${c.action}`) }, 'call changed');
        if (ended) log.info({ ...fields, result: call.result }, 'call ended');
      }),
    ];
    // The SFU's observers cannot be removed: one is added once, and is silent while the log is stopped.
    if (this.observing) return;
    this.observing = true;
    const on = () => this.offs.length > 0;
    this.sfu.observe({
      published: (pub) => void (on() && log.info({ sdkAppId: pub.sdkAppId, room: roomText(pub.room), userId: pub.userId, stream: pub.stream, ...pub.source.kinds }, 'stream published')),
      unpublished: (pub, reason) => void (on() && reason !== 'replaced' && log.info({ sdkAppId: pub.sdkAppId, room: roomText(pub.room), userId: pub.userId, stream: pub.stream, reason }, 'stream unpublished')),
    });
  }

  /** Stops logging; safe to repeat. */
  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }
}
