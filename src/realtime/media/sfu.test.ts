import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RtpHeader, RtpPacket } from 'werift';
import { Sfu, type Publication } from './sfu.ts';
import type { MediaKind, MediaSink, MediaSource, RtpSink } from './source.ts';
import { userKey } from '../../services/tenant-keys.ts';

/** A source whose packets the test emits, counting keyframe requests. */
class TestSource implements MediaSource {
  readonly kinds = { audio: true, video: true };
  keyframes = 0;
  private sink: RtpSink | undefined;
  onRtp(sink: RtpSink): void {
    this.sink = sink;
  }
  requestKeyframe(): void {
    this.keyframes++;
  }
  close(): void {}
  private seq = 0;
  /** Emits a new packet of `kind`, or the one numbered `seq` again. */
  emit(kind: MediaKind, seq = ++this.seq): void {
    this.sink?.(kind, new RtpPacket(new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: seq * 3000, ssrc: 1 }), Buffer.alloc(10)));
  }
}

/** A sink that counts what it is sent. */
class TestSink implements MediaSink {
  readonly got: Record<MediaKind, number> = { audio: 0, video: 0 };
  send(kind: MediaKind): void {
    this.got[kind]++;
  }
  close(): void {}
}

describe('Sfu media blocks', () => {
  const room = { roomId: 1 };
  const owner = { userKey: userKey(1, 'sub') };

  it('a publication starts with its user’s block; blocked kinds are not forwarded; unblocking video asks for a keyframe', () => {
    const blocks = new Map<string, { audio: boolean; video: boolean }>([['u', { audio: true, video: false }]]);
    const updated: Publication[] = [];
    const sfu = new Sfu({ unpublished: () => undefined, updated: (p) => updated.push(p) }, (_a, _r, userId) => blocks.get(userId) ?? { audio: false, video: false });
    const src = new TestSource();
    const pub = sfu.publish({ sdkAppId: 1, room, userId: 'u', stream: 'main', source: src, owner: undefined });
    assert.deepEqual(pub.blocked, { audio: true, video: false });
    const sink = new TestSink();
    sfu.subscribe(pub, sink, owner);
    src.emit('audio');
    src.emit('video');
    assert.deepEqual(sink.got, { audio: 0, video: 1 });

    sfu.setBlocked(1, room, 'u', { audio: false, video: true });
    assert.equal(updated.length, 1);
    src.emit('audio');
    src.emit('video');
    assert.deepEqual(sink.got, { audio: 1, video: 1 });
    const asked = src.keyframes;
    sfu.setBlocked(1, room, 'u', { audio: false, video: false });
    assert.equal(src.keyframes, asked + 1, 'a keyframe for the subscribers once video flows again');
    src.emit('video');
    assert.deepEqual(sink.got, { audio: 1, video: 2 });
    // No change, no event; another user or room is untouched.
    sfu.setBlocked(1, room, 'u', { audio: false, video: false });
    sfu.setBlocked(1, room, 'other', { audio: true, video: true });
    sfu.setBlocked(1, { strRoomId: '1' }, 'u', { audio: true, video: true });
    assert.equal(updated.length, 2);
    assert.deepEqual(pub.blocked, { audio: false, video: false });
    // The publisher's own mute and the block are separate: unblocking does not unmute.
    sfu.setMuted(pub, 'audio', true);
    sfu.setBlocked(1, room, 'u', { audio: true, video: false });
    sfu.setBlocked(1, room, 'u', { audio: false, video: false });
    src.emit('audio');
    assert.equal(sink.got.audio, 1);
  });

  it('a video packet that came already (a publisher’s RTX probe, turned back into the original) is not forwarded again', () => {
    const sfu = new Sfu({ unpublished: () => undefined });
    const src = new TestSource();
    const pub = sfu.publish({ sdkAppId: 1, room, userId: 'u', stream: 'main', source: src, owner: undefined });
    const sink = new TestSink();
    sfu.subscribe(pub, sink, owner);
    src.emit('video', 7);
    src.emit('video', 8);
    src.emit('video', 7);
    src.emit('audio', 9);
    src.emit('audio', 9);
    assert.deepEqual(sink.got, { audio: 2, video: 2 }, 'audio is not repaired, so not checked');
  });

  it('without a lookup nothing starts blocked', () => {
    const sfu = new Sfu({ unpublished: () => undefined });
    const pub = sfu.publish({ sdkAppId: 1, room, userId: 'u', stream: 'main', source: new TestSource(), owner: undefined });
    assert.deepEqual(pub.blocked, { audio: false, video: false });
  });
});
