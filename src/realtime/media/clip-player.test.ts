import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { RtpPacket } from 'werift';
import { AUDIO_PAYLOAD_TYPE, AvatarClipLoader, ClipPlayer, OPUS_SILENCE, VIDEO_PAYLOAD_TYPE } from './clip-player.ts';
import type { AvatarClips } from './clip-player.ts';
import type { IvfFrame } from './ivf.ts';
import type { MediaKind } from './source.ts';
import { isVp8Keyframe } from './vp8-packetizer.ts';

const T0 = 1_760_000_000_000;

/** A synthetic VP8 frame: byte 0 is the frame tag (bit 0 clear for a keyframe), then the clip's letter and the index. */
function frame(clip: string, index: number, key: boolean, size = 20): IvfFrame {
  const data = Buffer.alloc(size, 0xaa);
  data[0] = key ? 0x10 : 0x11;
  data[1] = clip.charCodeAt(0);
  data[2] = index;
  return { data, pts: index };
}

/** Idle: 10 frames, keyframes at 0 and 8. Speaking: 12 frames, keyframe at 0 only, frame 1 big enough for 3 packets. */
function clips(): AvatarClips {
  return {
    idle: Array.from({ length: 10 }, (_, i) => frame('I', i, i === 0 || i === 8)),
    speaking: Array.from({ length: 12 }, (_, i) => frame('S', i, i === 0, i === 1 ? 2500 : 20)),
    speech: Array.from({ length: 5 }, (_, i) => Buffer.from([0xfc, 0x53, i, 0x01, 0x02])),
    fps: 15,
  };
}

interface Sent {
  kind: MediaKind;
  rtp: RtpPacket;
  at: number;
}

/** A video frame as sent: its packets, and the clip letter and index read from the first payload. */
interface SentFrame {
  packets: RtpPacket[];
  name: string;
  at: number;
}

let sent: Sent[];
let player: ClipPlayer | undefined;

beforeEach(() => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: T0 });
  sent = [];
});

afterEach(() => {
  player?.close();
  player = undefined;
  mock.timers.reset();
});

/** A started player whose packets go to `sent`. */
function play(c: AvatarClips = clips(), speaking = false): ClipPlayer {
  player = new ClipPlayer(c);
  player.setSpeaking(speaking);
  player.onRtp((kind, rtp) => sent.push({ kind, rtp, at: Date.now() - T0 }));
  player.start();
  return player;
}

/** Advances the clock to T0 + ms in `step` ms steps (so Date.now() inside a timer is close to when it fired). */
function tickTo(ms: number, step = 1): void {
  while (Date.now() - T0 < ms) mock.timers.tick(Math.min(step, ms - (Date.now() - T0)));
}

const packetsOf = (kind: MediaKind): RtpPacket[] => sent.filter((s) => s.kind === kind).map((s) => s.rtp);

/** Video packets grouped into frames by timestamp, named like `S1` (clip letter, index) from the first payload. */
function frames(): SentFrame[] {
  const out: SentFrame[] = [];
  for (const s of sent.filter((p) => p.kind === 'video')) {
    const last = out.at(-1);
    if (last && last.packets[0]!.header.timestamp === s.rtp.header.timestamp) last.packets.push(s.rtp);
    else out.push({ packets: [s.rtp], name: `${String.fromCharCode(s.rtp.payload[2]!)}${s.rtp.payload[3]}`, at: s.at });
  }
  return out;
}

/** Asserts sequence numbers step by 1 (mod 2^16) and returns the packets' timestamp steps (mod 2^32). */
function timestampSteps(packets: RtpPacket[]): number[] {
  const steps: number[] = [];
  for (let i = 1; i < packets.length; i++) {
    const [a, b] = [packets[i - 1]!.header, packets[i]!.header];
    assert.equal(b.sequenceNumber, (a.sequenceNumber + 1) & 0xffff, `sequence gap at packet ${i}`);
    steps.push((b.timestamp - a.timestamp) >>> 0);
  }
  return steps;
}

describe('ClipPlayer', () => {
  it('sends 15 video frames and 50 audio packets a second, with RTP headers as the SFU expects', () => {
    play();
    tickTo(999);
    assert.equal(frames().length, 15);
    assert.equal(packetsOf('audio').length, 50);
    tickTo(10_010);
    const video = packetsOf('video');
    const audio = packetsOf('audio');
    assert.equal(frames().length, 151);
    assert.equal(audio.length, 501);

    assert.ok(video.every((p) => p.header.payloadType === VIDEO_PAYLOAD_TYPE && p.header.ssrc === video[0]!.header.ssrc));
    assert.ok(audio.every((p) => p.header.payloadType === AUDIO_PAYLOAD_TYPE && p.header.ssrc === audio[0]!.header.ssrc));
    assert.ok(audio.every((p) => !p.header.marker));
    assert.notEqual(video[0]!.header.ssrc, audio[0]!.header.ssrc);
    assert.ok(timestampSteps(audio).every((d) => d === 960));
    for (const f of frames()) {
      assert.deepEqual(f.packets.map((p) => p.header.marker), f.packets.map((_, i) => i === f.packets.length - 1));
    }
    assert.ok(timestampSteps(video).every((d) => d === 0 || d === 6000));
    assert.equal(timestampSteps(video).filter((d) => d === 6000).length, 150);
  });

  it('loops the idle clip and sends Opus silence while idle', () => {
    const p = play();
    tickTo(1400);
    assert.equal(p.speaking, false);
    assert.deepEqual(frames().map((f) => f.name).slice(0, 12), ['I0', 'I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8', 'I9', 'I0', 'I1']);
    assert.ok(packetsOf('audio').every((a) => a.payload === OPUS_SILENCE));
  });

  it('switches clips at frame 0 and speech at its first packet, keeping sequence numbers and timestamps continuous', () => {
    const p = play();
    tickTo(250); // idle frames 0-3 out
    p.setSpeaking(true);
    assert.equal(p.speaking, true);
    tickTo(1250);
    p.setSpeaking(true); // no change: no restart
    tickTo(1500);
    p.setSpeaking(false);
    tickTo(1800);

    assert.deepEqual(
      frames().map((f) => f.name),
      ['I0', 'I1', 'I2', 'I3', 'S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'I0', 'I1', 'I2', 'I3'],
    );
    const audio = sent.filter((s) => s.kind === 'audio');
    const speaking = audio.filter((s) => s.at > 250 && s.at <= 1500).map((s) => s.rtp.payload);
    assert.deepEqual(speaking.map((b) => b[2]), Array.from({ length: speaking.length }, (_, i) => i % 5));
    assert.ok(speaking.every((b) => b.length === 5 && b[1] === 0x53));
    assert.ok(audio.filter((s) => s.at <= 250 || s.at > 1500).every((s) => s.rtp.payload === OPUS_SILENCE));

    assert.ok(timestampSteps(packetsOf('audio')).every((d) => d === 960));
    assert.ok(timestampSteps(packetsOf('video')).every((d) => d === 0 || d === 6000));
  });

  it('splits big frames over several packets that share a timestamp, the marker on the last', () => {
    play(clips(), true);
    tickTo(100);
    const [, big] = frames();
    assert.equal(big!.name, 'S1');
    assert.equal(big!.packets.length, 3);
    assert.deepEqual(big!.packets.map((p) => p.header.marker), [false, false, true]);
    assert.deepEqual(big!.packets.map((p) => p.payload[0]), [0x10, 0x00, 0x00]);
  });

  it('restarts the clip at its keyframe on requestKeyframe, at most once per 500 ms', () => {
    const p = play(clips(), true);
    tickTo(300); // S0-S4 at 0-267
    p.requestKeyframe(); // next frame (333) restarts at S0
    tickTo(400); // the restart at 333; S1 at 400
    p.requestKeyframe(); // held until 500 ms after the restart
    tickTo(1020);
    const names = frames().map((f) => `${f.name}@${Math.floor(f.at / (1000 / 15))}`);
    assert.deepEqual(names, ['S0@0', 'S1@1', 'S2@2', 'S3@3', 'S4@4', 'S0@5', 'S1@6', 'S2@7', 'S3@8', 'S4@9', 'S5@10', 'S6@11', 'S7@12', 'S0@13', 'S1@14', 'S2@15']);
    const restarted = frames().filter((f) => f.name === 'S0');
    assert.ok(restarted.every((f) => isVp8Keyframe(f.packets[0]!.payload.subarray(1))));
  });

  it('meets a keyframe request with the next natural keyframe instead of restarting', () => {
    const p = play();
    tickTo(450); // I0-I6 out, I7 next, then I8 (a keyframe)
    p.requestKeyframe(); // restart at I7's turn (nothing restarted yet)
    tickTo(500);
    p.requestKeyframe(); // pending; I8 is a keyframe and meets it
    tickTo(1020);
    assert.deepEqual(frames().map((f) => f.name), ['I0', 'I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I0', 'I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'I7', 'I8']);
    p.close();
    sent = [];
    const quiet = play();
    tickTo(1530); // I0 … I7 since 1020
    quiet.requestKeyframe(); // I8 is next: no restart needed
    tickTo(1700);
    assert.deepEqual(frames().map((f) => f.name).slice(-3), ['I8', 'I9', 'I0']);
  });

  it('close stops the timers and drops the sink, and can be called again', () => {
    const p = play();
    tickTo(200);
    const before = sent.length;
    p.close();
    p.close();
    p.onRtp(() => assert.fail('closed players send nothing'));
    p.start();
    tickTo(2000);
    assert.equal(sent.length, before);
  });

  it('stops at once when the sink closes it', () => {
    const p = new ClipPlayer(clips());
    player = p;
    let calls = 0;
    p.onRtp(() => {
      calls++;
      p.close();
    });
    p.start();
    tickTo(1000);
    assert.equal(calls, 1);
  });

  it('drops packets while no sink is set but keeps the clock running', () => {
    const p = new ClipPlayer(clips());
    player = p;
    p.start();
    tickTo(1020); // 16 frames: I0-I9, I0-I5
    p.onRtp((kind, rtp) => sent.push({ kind, rtp, at: Date.now() - T0 }));
    tickTo(1150);
    assert.deepEqual(frames().map((f) => f.name), ['I6', 'I7']);
  });

  it('wraps sequence numbers at 16 bits without a gap', () => {
    let count = 0;
    let last: RtpPacket | undefined;
    const p = new ClipPlayer(clips());
    player = p;
    p.onRtp((kind, rtp) => {
      if (kind !== 'audio') return;
      if (last) {
        assert.equal(rtp.header.sequenceNumber, (last.header.sequenceNumber + 1) & 0xffff);
        assert.equal(rtp.header.timestamp, (last.header.timestamp + 960) >>> 0);
      }
      last = rtp;
      count++;
    });
    p.start();
    tickTo(66_000 * 20, 20);
    assert.equal(count, 66_001);
  });

  it('catches up after a stalled timer and starts afresh after a long one', () => {
    play();
    tickTo(100);
    mock.timers.tick(300); // one late callback owes several frames
    assert.equal(frames().length, 7);
    mock.timers.tick(5000); // too far behind: pace from now rather than burst
    assert.ok(frames().length < 20);
    const n = frames().length;
    tickTo(6420, 5);
    assert.equal(frames().length - n, 15);
  });

  it('refuses clips it cannot loop', () => {
    const c = clips();
    assert.throws(() => new ClipPlayer({ ...c, idle: [] }), /idle clip has no frames/);
    assert.throws(() => new ClipPlayer({ ...c, speaking: c.speaking.slice(1) }), /speaking clip does not start with a keyframe/);
    assert.throws(() => new ClipPlayer({ ...c, speech: [] }), /speech has no packets/);
    assert.throws(() => new ClipPlayer({ ...c, fps: 0 }), /bad frame rate/);
  });
});

describe('AvatarClipLoader', () => {
  it('loads the avatar assets once and plays them', async () => {
    const loader = new AvatarClipLoader();
    const first = loader.load();
    assert.equal(loader.load(), first);
    const c = await first;
    assert.equal(c.fps, 15);
    assert.equal(c.idle.length, 60);
    assert.equal(c.speaking.length, 60);
    assert.ok(c.speech.length >= 199);

    play(c, true);
    tickTo(999);
    const f = frames();
    assert.equal(f.length, 15);
    assert.ok(isVp8Keyframe(f[0]!.packets[0]!.payload.subarray(1)));
    assert.ok(f.some((x) => x.packets.length > 1), 'some frame spans packets');
    assert.ok(f.every((x) => x.packets.at(-1)!.header.marker && x.packets.slice(0, -1).every((p) => !p.header.marker)));
    assert.deepEqual(packetsOf('audio').map((a) => a.payload), c.speech.slice(0, 50));
  });

  it('rejects a root without the assets, and does not keep the failure', async () => {
    const loader = new AvatarClipLoader('/nonexistent-trtcd-root');
    const first = loader.load();
    await assert.rejects(first, /ENOENT/);
    const second = loader.load();
    assert.notEqual(second, first);
    await assert.rejects(second, /ENOENT/);
  });
});
