// What the developer console shows of one app: read from the services (this node's view of rooms, calls and sessions;
// the call records and the callback log from the store, through their services), shaped for the page. Nothing here changes state.
import type { Sfu } from '../../realtime/media/sfu.ts';
import type { App, AppsService } from '../../services/apps/apps-service.ts';
import type { Call } from '../../services/calls/call.ts';
import type { CallsService } from '../../services/calls/calls-service.ts';
import type { DigitalHumanService } from '../../services/digital-human/digital-human-service.ts';
import type { LiveService } from '../../services/live/live-service.ts';
import { roomText, type TrtcRoomsService } from '../../services/trtc-rooms/trtc-rooms-service.ts';
import type { AttemptRow, OutboxRow } from '../../store/outbox-repo.ts';
import type { CallbackDispatcher } from '../../webhooks/dispatcher.ts';
import type { ConsolePreviews } from './previews.ts';
import type { RecentLiveEvents } from './recent-live.ts';

/** Call records and callbacks shown per app. */
const SHOWN = { records: 20, callbacks: 50 } as const;

/** Where the console reads from. */
export interface ConsoleSources {
  apps: AppsService;
  live: LiveService;
  trtcRooms: TrtcRoomsService;
  sfu: Sfu;
  calls: CallsService;
  digitalHuman: DigitalHumanService;
  callbacks: CallbackDispatcher;
  recent: RecentLiveEvents;
  /** The console's own thumbnails, left out of the subscriber counts. */
  previews: ConsolePreviews;
}

const callView = (c: Call) => ({
  callId: c.callId,
  caller: c.caller,
  mediaType: c.mediaType,
  callType: c.callType,
  roomId: c.roomId,
  startTime: c.startTime,
  acceptTime: c.acceptTime,
  endTime: c.endTime,
  result: c.result,
  members: c.members.map((m) => ({ userId: m.userId, status: m.status })),
  invited: c.invited,
});

/** A callback as the console lists it, with its attempts when they were read. */
export function callbackView(r: OutboxRow & { attemptLog?: AttemptRow[] }) {
  return {
    id: Number(r.id),
    command: r.command,
    status: r.status,
    attempts: Number(r.attempts),
    lastStatus: Number(r.last_status),
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    nextAttemptAt: r.status === 'pending' ? Number(r.next_attempt_at) : 0,
    deliveredAt: Number(r.delivered_at),
    orderKey: r.order_key,
    body: r.body,
    attemptLog: (r.attemptLog ?? []).map((a) => ({ attempt: Number(a.attempt), at: Number(a.attempted_at), durationMs: Number(a.duration_ms), status: Number(a.status), error: a.error })),
  };
}

/** The console's view of one app: settings, live rooms, TRTC rooms with their streams, calls, sessions, callbacks. */
async function appSnapshot(s: ConsoleSources, app: App) {
  const id = app.sdkAppId;
  const cb = app.settings.callbacks;
  const [records, callbacks] = await Promise.all([s.calls.records({ sdkAppId: id, page: 1, perPage: SHOWN.records }), s.callbacks.recent(id, SHOWN.callbacks)]);
  return {
    sdkAppId: id,
    settings: {
      disabled: app.settings.disabled,
      expiresAt: app.settings.expiresAt,
      features: app.settings.features,
      callbackUrls: Object.fromEntries(Object.entries(cb).map(([family, c]) => [family, c?.url ?? ''])),
      rateLimits: app.settings.rateLimits,
      accountLimit: app.settings.accountLimit,
    },
    liveRooms: s.live.all(id).map((r) => ({
      roomId: r.roomId,
      name: r.info.RoomName,
      owner: r.owner,
      createdAt: r.createdAt,
      viewCount: r.viewCount,
      members: r.state.members.map((m) => m.userId),
      admins: r.state.admins,
      robots: r.state.robots,
      seats: r.state.seats.map((seat) => ({ index: seat.index, member: seat.member, locked: seat.locked })),
      messages: r.state.messages,
      recent: s.recent.of(id, r.roomId),
    })),
    trtcRooms: s.trtcRooms.roomsOf(id).map(({ ref, members }) => ({
      roomId: roomText(ref),
      numeric: 'roomId' in ref,
      members,
      streams: s.sfu.inRoom(id, ref).map((p) => ({
        userId: p.userId,
        stream: p.stream,
        audio: p.source.kinds.audio && !p.muted.audio && !p.blocked.audio,
        video: p.source.kinds.video && !p.muted.video && !p.blocked.video,
        subscribers: [...p.subscriptions].filter((sub) => !s.previews.isPreview(sub)).length,
      })),
    })),
    calls: s.calls.activeCalls(id).map(callView),
    callRecords: records.calls.map(callView),
    digitalHumans: s.digitalHuman.list(app, {}).map((d) => ({
      sessionId: d.sessionId,
      projectId: d.projectId,
      assetKey: d.assetKey,
      userId: d.userId,
      protocol: d.protocol,
      driverType: d.driverType,
      status: d.status,
      started: d.started,
      room: d.trtc ? { sdkAppId: d.trtc.sdkAppId, roomId: d.trtc.strRoomId ?? String(d.trtc.roomId ?? ''), userId: d.trtc.userId } : null,
      createdAt: d.createdAt,
    })),
    callbacks: callbacks.map(callbackView),
  };
}

/** The apps the viewer may show, and the full view of one of them (`shown`, or the first): one app's queries a poll. */
export async function consoleSnapshot(s: ConsoleSources, apps: App[], shown: number | undefined) {
  const app = apps.find((a) => a.sdkAppId === shown) ?? apps[0];
  return { now: Date.now(), apps: apps.map((a) => ({ sdkAppId: a.sdkAppId })), app: app ? await appSnapshot(s, app) : null };
}
