import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog, LEVEL } from '../test/helpers/log-capture.ts';
import { ActivityLog } from './activity-log.ts';
import { InProcessBus } from './bus/bus.ts';
import { Sfu } from './realtime/media/sfu.ts';
import type { MediaSource } from './realtime/media/source.ts';
import type { Call } from './services/calls/call.ts';
import { CALL_TOPIC, type CallChanged } from './services/calls/calls-service.ts';
import { TRTC_ROOM_TOPIC, type TrtcRoomEvent } from './services/trtc-rooms/trtc-rooms-service.ts';

const source: MediaSource = { kinds: { audio: true, video: false }, onRtp: () => undefined, requestKeyframe: () => undefined, close: () => undefined };

describe('ActivityLog', () => {
  it('logs room entries, calls and publications at info, and stops when told', () => {
    const { log, lines } = captureLog();
    const bus = new InProcessBus();
    const sfu = new Sfu({ unpublished: () => undefined });
    const activity = new ActivityLog(bus, sfu, log);
    bus.publish(TRTC_ROOM_TOPIC, { sdkAppId: 1, room: { roomId: 6 }, type: 'enter', users: ['early'], reason: '' } satisfies TrtcRoomEvent);
    assert.equal(lines.length, 0, 'nothing before start: the constructor follows nothing');
    activity.start();
    activity.start();
    bus.publish(TRTC_ROOM_TOPIC, { sdkAppId: 1, room: { strRoomId: 'r1' }, type: 'enter', users: ['alice'], reason: '' } satisfies TrtcRoomEvent);
    const call = { callId: 'c1', sdkAppId: 1, caller: 'alice', mediaType: 'video', members: [{ userId: 'alice' }, { userId: 'bob' }], result: null } as unknown as Call;
    bus.publish(CALL_TOPIC, { call, changes: [], started: true, ended: false } satisfies CallChanged);
    bus.publish(CALL_TOPIC, { call: { ...call, result: 'Hangup' } as unknown as Call, changes: [], started: false, ended: true } satisfies CallChanged);
    const pub = sfu.publish({ sdkAppId: 1, room: { roomId: 7 }, userId: 'alice', stream: 'main', source, owner: undefined });
    sfu.unpublish(pub, 'left');
    const seen = lines.filter((l) => l.level === LEVEL.info).map((l) => [l.msg, l.room ?? l.callId, l.users ?? l.callees ?? l.result ?? l.userId]);
    assert.deepEqual(seen, [
      ['trtc room enter', 'r1', ['alice']],
      ['call started', 'c1', ['bob']],
      ['call ended', 'c1', 'Hangup'],
      ['stream published', '7', 'alice'],
      ['stream unpublished', '7', 'alice'],
    ]);
    activity.stop();
    activity.stop();
    bus.publish(TRTC_ROOM_TOPIC, { sdkAppId: 1, room: { roomId: 7 }, type: 'leave', users: ['alice'], reason: 'leave' } satisfies TrtcRoomEvent);
    sfu.unpublish(sfu.publish({ sdkAppId: 1, room: { roomId: 7 }, userId: 'bob', stream: 'main', source, owner: undefined }), 'left');
    assert.equal(lines.length, 5, 'nothing after stop');
    activity.start();
    bus.publish(TRTC_ROOM_TOPIC, { sdkAppId: 1, room: { roomId: 8 }, type: 'leave', users: ['carol'], reason: 'leave' } satisfies TrtcRoomEvent);
    assert.equal(lines.length, 6, 'logs again once started again, once per event');
  });
});
