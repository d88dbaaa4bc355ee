// The digital-human avatar's media: pre-encoded VP8 and Opus clips sent as paced RTP, following the speaking state.
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { packageRoot } from '../../package-root.ts';
import { parseIvf } from './ivf.ts';
import type { IvfFile, IvfFrame } from './ivf.ts';
import { PACKET_SAMPLES, parseOggOpus } from './ogg-opus.ts';
import type { MediaKind, MediaSource, RtpSink } from './source.ts';
import { isVp8Keyframe, packetizeVp8 } from './vp8-packetizer.ts';

/** The avatar's decoded clips: VP8 frames for idle and speaking, 20 ms Opus packets of speech, and the video rate. */
export interface AvatarClips {
  idle: IvfFrame[];
  speaking: IvfFrame[];
  speech: Buffer[];
  fps: number;
}

/** Options of a ClipPlayer. */
interface ClipPlayerOptions {
  /** Wall clock in ms, for pacing and the keyframe rate limit; Date.now by default. */
  now?: () => number;
}

/** Payload type of the player's VP8 RTP (the SFU rewrites it per subscriber). */
export const VIDEO_PAYLOAD_TYPE = 96;
/** Payload type of the player's Opus RTP. */
export const AUDIO_PAYLOAD_TYPE = 111;
/** A 20 ms Opus packet of silence (CELT, fullband, mono), sent while idle so the audio track keeps flowing. */
export const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
/** Least time between two clip restarts asked for by requestKeyframe, so a flood of PLIs cannot pin the loop at frame 0. */
const KEYFRAME_RESTART_MIN_MS = 500;

const VIDEO_CLOCK = 90_000;
const AUDIO_PERIOD_MS = 20;
// A late timer callback makes up at most this much media at once, so a stall is caught up in short bursts.
const MAX_BURST_MS = 250;
// Further behind (a long stall) or ahead (the clock stepped back) than this, pacing starts afresh from now.
const RESYNC_MS = 2000;
// How often the pacers look at the clock: a packet goes out at most about this long after it is due.
const CHECK_MS = 10;

/** One video frame ready to send: its RTP payloads and whether it is a keyframe. */
interface PreparedFrame {
  payloads: Buffer[];
  key: boolean;
}

/** Sequence numbers and timestamps of one outgoing RTP stream; both start random and wrap (16 and 32 bits). */
class RtpStream {
  readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomInt(0, 0x10000);
  private readonly firstTimestamp = randomBytes(4).readUInt32BE(0);
  private units = 0;

  constructor(
    private readonly payloadType: number,
    private readonly clockPerUnit: number,
  ) {}

  /** The next packet of the current unit (frame or audio packet). */
  packet(payload: Buffer, marker: boolean): RtpPacket {
    // From the unit count rather than summed, so a clock step that is not a whole number (90000/fps) cannot drift.
    const timestamp = (this.firstTimestamp + Math.round(this.units * this.clockPerUnit)) >>> 0;
    const header = new RtpHeader({ payloadType: this.payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc, marker });
    this.seq = (this.seq + 1) & 0xffff;
    return new RtpPacket(header, payload);
  }

  /** Moves the timestamp on by one unit. */
  endUnit(): void {
    this.units++;
  }
}

/**
 * Calls `step` once per period of the `now` clock, checked by an unref'd interval. The step count follows the clock,
 * not the callbacks: Node's intervals run late (setInterval(20) gives ~49 a second), which would starve receivers.
 */
class Pacer {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  private origin = 0;
  private sent = 0;

  constructor(
    private readonly periodMs: number,
    private readonly now: () => number,
    private readonly step: () => void,
  ) {}

  /** Takes the first step now and the rest on the interval. */
  start(): void {
    this.running = true;
    this.origin = this.now();
    this.sent = 0;
    this.tick();
    if (!this.running) return;
    this.timer = setInterval(() => this.tick(), Math.min(this.periodMs / 2, CHECK_MS));
    this.timer.unref();
  }

  /** Stops the interval. */
  stop(): void {
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const due = Math.floor((this.now() - this.origin) / this.periodMs) + 1;
    let steps = due - this.sent;
    if (Math.abs(steps) * this.periodMs > RESYNC_MS) {
      this.origin = this.now();
      this.sent = 0;
      steps = 1;
    }
    for (let i = Math.min(steps, Math.ceil(MAX_BURST_MS / this.periodMs)); i > 0 && this.running; i--) {
      this.sent++;
      this.step();
    }
  }
}

/** Packetizes every frame of a clip once, since the clip is sent over and over. */
function prepareClip(name: string, frames: IvfFrame[]): PreparedFrame[] {
  if (frames.length === 0) throw new Error(`ClipPlayer: the ${name} clip has no frames`);
  if (!isVp8Keyframe(frames[0]!.data)) throw new Error(`ClipPlayer: the ${name} clip does not start with a keyframe`);
  return frames.map((frame) => ({ payloads: packetizeVp8(frame.data), key: isVp8Keyframe(frame.data) }));
}

/** A MediaSource that plays the avatar: idle or speaking video and speech or silent audio, as real-time RTP. */
export class ClipPlayer implements MediaSource {
  readonly kinds: Readonly<Record<MediaKind, boolean>> = { audio: true, video: true };
  private readonly idle: PreparedFrame[];
  private readonly speakingClip: PreparedFrame[];
  private readonly speech: Buffer[];
  private readonly now: () => number;
  private readonly video: RtpStream;
  private readonly audio = new RtpStream(AUDIO_PAYLOAD_TYPE, PACKET_SAMPLES);
  private readonly videoPacer: Pacer;
  private readonly audioPacer: Pacer;
  private sink: RtpSink | undefined;
  private isSpeaking = false;
  private videoIndex = 0;
  private speechIndex = 0;
  private keyframeWanted = false;
  private lastRestartAt = -Infinity;
  private started = false;
  private closed = false;

  constructor(clips: AvatarClips, options: ClipPlayerOptions = {}) {
    if (!(clips.fps > 0)) throw new Error(`ClipPlayer: bad frame rate ${clips.fps}`);
    if (clips.speech.length === 0) throw new Error('ClipPlayer: the speech has no packets');
    this.idle = prepareClip('idle', clips.idle);
    this.speakingClip = prepareClip('speaking', clips.speaking);
    this.speech = clips.speech;
    this.now = options.now ?? (() => Date.now());
    this.video = new RtpStream(VIDEO_PAYLOAD_TYPE, VIDEO_CLOCK / clips.fps);
    this.videoPacer = new Pacer(1000 / clips.fps, this.now, () => this.sendVideoFrame());
    this.audioPacer = new Pacer(AUDIO_PERIOD_MS, this.now, () => this.sendAudioPacket());
  }

  /** Whether the avatar is speaking. */
  get speaking(): boolean {
    return this.isSpeaking;
  }

  /** Sets the one sink that gets every packet (replaces any earlier one); packets sent with no sink are dropped. */
  onRtp(sink: RtpSink): void {
    if (!this.closed) this.sink = sink;
  }

  /**
   * Starts sending: a video frame and an audio packet now, then one per frame period and one per 20 ms of the `now`
   * clock. Tests driving it with mock.timers must mock Date too (or pass `now`), in ticks of at most 2 s.
   */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.videoPacer.start();
    // The sink may have closed the player while taking the first frame.
    if (!this.closed) this.audioPacer.start();
  }

  /** Switches between the speaking and idle clips; each switch starts the new clip (and the speech) from the top. */
  setSpeaking(on: boolean): void {
    if (on === this.isSpeaking) return;
    this.isSpeaking = on;
    // Frame 0 is a keyframe: a decoder must never get a delta frame that refers to the other clip's pictures.
    this.videoIndex = 0;
    this.speechIndex = 0;
  }

  /** Makes the next video frame a keyframe, restarting the clip if need be, at most once per KEYFRAME_RESTART_MIN_MS. */
  requestKeyframe(): void {
    this.keyframeWanted = true;
  }

  /** Stops the timers and drops the sink; safe to call again. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.videoPacer.stop();
    this.audioPacer.stop();
    this.sink = undefined;
  }

  private sendVideoFrame(): void {
    const clip = this.isSpeaking ? this.speakingClip : this.idle;
    if (this.keyframeWanted && !clip[this.videoIndex]!.key) {
      const now = this.now();
      // A request inside the limit stays pending: it is met by the next keyframe, natural or a later restart.
      if (now - this.lastRestartAt >= KEYFRAME_RESTART_MIN_MS) {
        this.videoIndex = 0;
        this.lastRestartAt = now;
      }
    }
    const frame = clip[this.videoIndex]!;
    if (frame.key) this.keyframeWanted = false;
    this.videoIndex = (this.videoIndex + 1) % clip.length;
    const last = frame.payloads.length - 1;
    frame.payloads.forEach((payload, i) => this.emit('video', this.video.packet(payload, i === last)));
    this.video.endUnit();
  }

  private sendAudioPacket(): void {
    let payload: Buffer = OPUS_SILENCE;
    if (this.isSpeaking) {
      payload = this.speech[this.speechIndex]!;
      this.speechIndex = (this.speechIndex + 1) % this.speech.length;
    }
    this.emit('audio', this.audio.packet(payload, false));
    this.audio.endUnit();
  }

  private emit(kind: MediaKind, rtp: RtpPacket): void {
    this.sink?.(kind, rtp);
  }
}

/** Frames per second of an IVF clip, from its timebase and the pts step between frames. */
function ivfFps(name: string, file: IvfFile): number {
  const [first, second] = file.frames;
  const step = first && second ? second.pts - first.pts : 1;
  const fps = file.header.timebaseDen / (file.header.timebaseNum * step);
  if (!(fps > 0 && Number.isFinite(fps))) throw new Error(`ClipPlayer: ${name} has no usable frame rate`);
  return fps;
}

/** Reads and parses assets/avatar/{idle.ivf,speaking.ivf,speech.ogg} under a package root, once per loader. */
export class AvatarClipLoader {
  private clips: Promise<AvatarClips> | undefined;

  constructor(private readonly root: string | undefined = packageRoot()) {}

  /** The clips; a failed read is not kept, so a later call tries again. */
  load(): Promise<AvatarClips> {
    const root = this.root;
    if (!root) return Promise.reject(new Error('ClipPlayer: the trtcd package root was not found'));
    if (!this.clips) {
      const clips = readAvatarClips(join(root, 'assets', 'avatar'));
      clips.catch(() => {
        if (this.clips === clips) this.clips = undefined;
      });
      this.clips = clips;
    }
    return this.clips;
  }
}

/** Reads and parses the three avatar assets in `dir`. */
async function readAvatarClips(dir: string): Promise<AvatarClips> {
  const [idleFile, speakingFile, speechFile] = await Promise.all(
    ['idle.ivf', 'speaking.ivf', 'speech.ogg'].map((name) => readFile(join(dir, name))),
  );
  const idle = parseIvf(idleFile!);
  const speaking = parseIvf(speakingFile!);
  const fps = ivfFps('idle.ivf', idle);
  if (Math.abs(ivfFps('speaking.ivf', speaking) - fps) > 1e-9) throw new Error('ClipPlayer: idle.ivf and speaking.ivf differ in frame rate');
  return { idle: idle.frames, speaking: speaking.frames, speech: parseOggOpus(speechFile!).packets, fps };
}
