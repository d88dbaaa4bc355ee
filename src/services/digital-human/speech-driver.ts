import { DomainError, type DomainErrorCode } from '../errors.ts';
import type { DriverType, IvhEvent, SpeakStatus } from './session.ts';
import { ssmlSpeech, validateSsml } from './ssml.ts';

/** `DomainError.detail` of a refused drive command. */
export type SpeechErrorDetail = 'INVALID' | 'TOO_FREQUENT' | 'WRONG_TIME' | 'COMMAND_NOT_ALLOWED';

/** IVH wire code (https://www.tencentcloud.com/document/product/1211/62122) per refusal. A command the session's DriverType does not allow is a request parameter error. */
export const SPEECH_ERROR_CODES: Record<SpeechErrorDetail, number> = {
  INVALID: 100001,
  TOO_FREQUENT: 100012,
  WRONG_TIME: 110015,
  COMMAND_NOT_ALLOWED: 100001,
};

const DOMAIN_CODES: Record<SpeechErrorDetail, DomainErrorCode> = {
  INVALID: 'INVALID_ARGUMENT',
  TOO_FREQUENT: 'LIMIT_EXCEEDED',
  WRONG_TIME: 'FAILED_PRECONDITION',
  COMMAND_NOT_ALLOWED: 'INVALID_ARGUMENT',
};

/** SEND_TEXT `Text` limit, in characters (code points). */
const MAX_TEXT_CHARS = 4000;
/** SEND_STREAMTEXT `Text` limit per fragment, in UTF-8 bytes. */
const MAX_STREAM_FRAGMENT_BYTES = 1000;
/** Two SEND_TEXT texts closer than this are refused (100012). */
const MIN_TEXT_INTERVAL_MS = 1000;
/** Shortest time a text utterance takes from TextStart to TextOver. */
const MIN_UTTERANCE_MS = 500;
/** Default speaking rate. */
const DEFAULT_MS_PER_CHAR = 200;
/** PCM 16 kHz, 16-bit, mono. */
const PCM_BYTES_PER_SECOND = 32_000;

export interface SpeechDriverOptions {
  sessionId: string;
  driverType: DriverType;
  /** StreamMaxInterval: a stream (audio or stream text) with no packet for this long is finalized by the server. */
  streamMaxIntervalMs: number;
  emit: (e: IvhEvent) => void;
  /** Speaking time per spoken (non-whitespace) character; default 200. */
  msPerChar?: number;
}

/** 1 = the client sent the final packet, 2 = server auto-final after StreamMaxInterval, 3 = interrupted. */
type FinalType = 1 | 2 | 3;

/** What the avatar is saying now. */
interface Utterance {
  kind: 'text' | 'stream' | 'audio';
  reqId: string;
  /** Last Seq received (streams). */
  seq: number;
  /** Whether the last packet/fragment has arrived (or the server finalized it). */
  final: boolean;
  startedAt: number;
  /** When what has been received so far will have been spoken (ms, may be fractional for audio). */
  playEnd: number;
  /** Stream text received so far. */
  text: string;
  /** Speaking time of `text`. */
  spokenMs: number;
  idle?: ReturnType<typeof setTimeout>;
  over?: ReturnType<typeof setTimeout>;
}

function refuse(detail: SpeechErrorDetail, message: string): never {
  throw new DomainError(DOMAIN_CODES[detail], message, detail);
}

function invalid(message: string): never {
  refuse('INVALID', message);
}

function optString(data: Record<string, unknown>, field: string): string | undefined {
  const v = data[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') invalid(`${field} must be a string`);
  return v;
}

function optBool(data: Record<string, unknown>, field: string): boolean {
  const v = data[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') invalid(`${field} must be a boolean`);
  return v;
}

function seqOf(data: Record<string, unknown>): number {
  const v = data.Seq;
  if (v === undefined || v === null) invalid('Seq is required');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) invalid('Seq must be an integer starting at 1');
  return v;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** How many ended ReqIds are remembered, to tell late packets from new utterances. */
const ENDED_MEMORY = 64;

/**
 * Drives one session's avatar from command-channel commands: validates each command, applies the sequencing rules of
 * the command channel (https://www.tencentcloud.com/document/product/1211/62112) and emits the Type 3 speak-status events (TextStart/TextOver, AudioStart/AudioOver + FinalType) at the
 * times the avatar would start and stop speaking. Events are emitted synchronously from `handle` (starts, interrupts)
 * or from timers (ends). `Waiting*` statuses are never emitted.
 */
export class SpeechDriver {
  private readonly sessionId: string;
  private readonly driverType: DriverType;
  private readonly streamMaxIntervalMs: number;
  private readonly emit: (e: IvhEvent) => void;
  private readonly msPerChar: number;
  private status: SpeakStatus = 'Initial';
  private current: Utterance | null = null;
  private lastTextAt: number | null = null;
  /** ReqId → how its stream ended, for packets that arrive after the end. */
  private readonly ended = new Map<string, { kind: Utterance['kind']; finalType: FinalType }>();
  private stopped = false;

  constructor(opts: SpeechDriverOptions) {
    this.sessionId = opts.sessionId;
    this.driverType = opts.driverType;
    this.streamMaxIntervalMs = opts.streamMaxIntervalMs;
    this.emit = opts.emit;
    this.msPerChar = opts.msPerChar ?? DEFAULT_MS_PER_CHAR;
  }

  /** The status of the last emitted event ('Initial' before any). */
  get speakStatus(): SpeakStatus {
    return this.status;
  }

  /** ReqId of the utterance being spoken (or streamed), or null when the avatar is silent. */
  get activeReqId(): string | null {
    return this.current?.reqId ?? null;
  }

  /**
   * Applies one upstream command at `now` (ms). Throws DomainError with detail INVALID, TOO_FREQUENT, WRONG_TIME or
   * COMMAND_NOT_ALLOWED (see SPEECH_ERROR_CODES); a refused command changes nothing.
   */
  handle(reqId: string, command: string, data: Record<string, unknown>, now = Date.now()): void {
    if (this.stopped) refuse('WRONG_TIME', 'the session is no longer driven');
    if (typeof reqId !== 'string' || reqId === '') invalid('ReqId is required');
    if (data === null || typeof data !== 'object' || Array.isArray(data)) invalid('Data must be an object');
    switch (command) {
      case 'SEND_TEXT':
        return this.sendText(reqId, data, now);
      case 'SEND_STREAMTEXT':
        return this.sendStreamText(reqId, data, now);
      case 'SEND_AUDIO':
        return this.sendAudio(reqId, data, now);
      case 'SEND_HEARTBEAT':
        // Any Data is accepted (clients send {"Text":"PING"}); keepalive bookkeeping is the session's.
        return;
      default:
        invalid(`Command "${String(command)}" is not a known command (SEND_TEXT, SEND_STREAMTEXT, SEND_AUDIO, SEND_HEARTBEAT)`);
    }
  }

  /** A drive that cannot proceed: emits Type 9 and sets speakStatus 'Error'; the utterance of `reqId`, if current, ends silently. */
  fail(reqId: string, code: number, message: string): void {
    const u = this.current;
    if (u && u.reqId === reqId) {
      this.clearTimers(u);
      this.current = null;
      this.remember(u.reqId, u.kind, 3);
    }
    this.status = 'Error';
    const seq = u && u.reqId === reqId ? Math.max(u.seq, 1) : 0;
    this.emit({ Type: 9, SessionId: this.sessionId, ReqId: reqId, Seq: seq, ErrorCode: code, ErrorMessage: message });
  }

  /** Cancels every pending event; later commands are refused. */
  stop(): void {
    this.stopped = true;
    if (this.current) this.clearTimers(this.current);
    this.current = null;
  }

  private sendText(reqId: string, data: Record<string, unknown>, now: number): void {
    const text = optString(data, 'Text') ?? '';
    const interrupt = optBool(data, 'Interrupt');
    optString(data, 'ChatCommand');
    optString(data, 'ChatRoundId');
    optString(data, 'VideoSeiInfo');
    optBool(data, 'SmartActionEnabled');
    const biz = optString(data, 'CloudAiVisitorBizId');
    if (biz !== undefined && biz.length > 64) invalid('CloudAiVisitorBizId is longer than 64 characters');
    if (text.trim() === '') {
      if (!interrupt) invalid('Text must not be empty (send {"Interrupt":true} alone to interrupt)');
      this.interrupt();
      return;
    }
    const chars = [...text].length;
    if (chars > MAX_TEXT_CHARS) invalid(`Text is ${chars} characters, more than ${MAX_TEXT_CHARS}`);
    const problem = validateSsml(text);
    if (problem) invalid(`Text is not valid SSML: ${problem}`);
    if (this.lastTextAt !== null && now - this.lastTextAt < MIN_TEXT_INTERVAL_MS) {
      refuse('TOO_FREQUENT', `texts must be at least ${MIN_TEXT_INTERVAL_MS} ms apart (${now - this.lastTextAt} ms since the previous one)`);
    }
    const cur = this.current;
    if (cur?.kind === 'audio') this.audioPlaying(cur);
    this.lastTextAt = now;
    if (cur) this.end(cur, 3);
    const u = this.begin('text', reqId, now);
    this.speak(u, text, now);
    this.finalize(u, now, 1);
  }

  private sendStreamText(reqId: string, data: Record<string, unknown>, now: number): void {
    const text = optString(data, 'Text') ?? '';
    const interrupt = optBool(data, 'Interrupt');
    const isFinal = optBool(data, 'IsFinal');
    optBool(data, 'SmartActionEnabled');
    optBool(data, 'IsSentence');
    optBool(data, 'IsInsertSentence');
    if (interrupt && text === '') {
      this.interrupt();
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_STREAM_FRAGMENT_BYTES) invalid(`Text is ${bytes} bytes, more than ${MAX_STREAM_FRAGMENT_BYTES} per fragment`);
    const seq = seqOf(data);
    let u = this.current;
    if (u?.kind === 'stream' && u.reqId === reqId) {
      this.nextSeq(u, seq);
    } else {
      if (this.late(reqId, 'stream')) return;
      if (seq !== 1) invalid(`Seq must start at 1 for a new ReqId (got ${seq})`);
      if (u?.kind === 'audio') this.audioPlaying(u);
      if (u) this.end(u, 3);
      u = this.begin('stream', reqId, now);
    }
    u.seq = seq;
    this.speak(u, text, now);
    if (isFinal) this.finalize(u, now, 1);
    else this.armIdle(u, now);
  }

  private sendAudio(reqId: string, data: Record<string, unknown>, now: number): void {
    if (this.driverType !== 3) refuse('COMMAND_NOT_ALLOWED', `SEND_AUDIO needs DriverType 3; this session has DriverType ${this.driverType}`);
    const audio = optString(data, 'Audio') ?? '';
    const interrupt = optBool(data, 'Interrupt');
    const isFinal = optBool(data, 'IsFinal');
    if (!BASE64.test(audio) || audio.length % 4 === 1) invalid('Audio must be base64');
    const bytes = Buffer.from(audio, 'base64').length;
    if (bytes % 2 !== 0) invalid(`Audio must be 16-bit PCM: ${bytes} bytes is not a whole number of samples`);
    if (interrupt && audio === '') {
      this.interrupt();
      return;
    }
    const seq = seqOf(data);
    let u = this.current;
    if (u?.kind === 'audio' && u.reqId === reqId) {
      this.nextSeq(u, seq);
    } else {
      const drop = this.late(reqId, 'audio');
      if (!drop && seq !== 1) invalid(`Seq must start at 1 for a new ReqId (got ${seq})`);
      if (interrupt && u) {
        // Interrupt with audio: stop what is playing, then this packet starts the new utterance.
        this.end(u, 3);
        u = null;
      }
      if (drop) return;
      if (u?.kind === 'audio') {
        refuse('WRONG_TIME', `audio ${u.reqId} is still ${u.final ? 'playing' : 'streaming'}: wait for its AudioOver (or interrupt) before new audio`);
      }
      if (u) refuse('WRONG_TIME', 'text is playing: interrupt it (SEND_TEXT {"Interrupt":true}) and wait for TextOver before sending audio');
      u = this.begin('audio', reqId, now);
    }
    u.seq = seq;
    u.playEnd = Math.max(u.playEnd, now) + (bytes * 1000) / PCM_BYTES_PER_SECOND;
    if (isFinal) this.finalize(u, now, 1);
    else this.armIdle(u, now);
  }

  private audioPlaying(u: Utterance): never {
    refuse(
      'WRONG_TIME',
      u.final
        ? `audio ${u.reqId} is playing: wait for AudioOver before sending text`
        : `audio ${u.reqId} is streaming: send its final packet (IsFinal) and wait for AudioOver before sending text`,
    );
  }

  /** Refuses a packet whose Seq does not follow the last one of the current stream. */
  private nextSeq(u: Utterance, seq: number): void {
    if (u.final) invalid(`ReqId ${u.reqId} has already received its final packet`);
    if (seq !== u.seq + 1) invalid(`Seq ${seq} does not follow ${u.seq} (expected ${u.seq + 1})`);
  }

  /**
   * Whether a packet for an already-ended stream should be dropped: true after an interrupt or server auto-final
   * (the client may still be sending); refused after the client's own final packet; false for an unknown ReqId.
   */
  private late(reqId: string, kind: Utterance['kind']): boolean {
    const ended = this.ended.get(reqId);
    if (!ended || ended.kind !== kind) return false;
    if (ended.finalType === 1) invalid(`ReqId ${reqId} has already received its final packet`);
    return true;
  }

  private begin(kind: Utterance['kind'], reqId: string, now: number): Utterance {
    const u: Utterance = { kind, reqId, seq: 0, final: false, startedAt: now, playEnd: now, text: '', spokenMs: 0 };
    this.current = u;
    this.publish(reqId, kind === 'audio' ? 'AudioStart' : 'TextStart', 1);
    return u;
  }

  /** Adds text to what the utterance says, extending its end by the new text's speaking time. */
  private speak(u: Utterance, text: string, now: number): void {
    u.text += text;
    const speech = ssmlSpeech(u.text);
    let chars = 0;
    for (const c of speech.text) if (!/\s/u.test(c)) chars++;
    const total = chars * this.msPerChar + speech.pauseMs;
    u.playEnd = Math.max(u.playEnd, now) + Math.max(0, total - u.spokenMs);
    u.spokenMs = Math.max(total, u.spokenMs);
  }

  /** The last packet is in (or the server gave up waiting at `at`): the utterance ends once all of it is spoken. */
  private finalize(u: Utterance, at: number, finalType: FinalType): void {
    u.final = true;
    if (u.idle) clearTimeout(u.idle);
    u.idle = undefined;
    const endAt = u.kind === 'audio' ? u.playEnd : Math.max(u.playEnd, u.startedAt + MIN_UTTERANCE_MS);
    const delay = Math.ceil(endAt - at);
    if (delay <= 0) this.end(u, finalType);
    else u.over = setTimeout(() => this.end(u, finalType), delay);
  }

  private armIdle(u: Utterance, now: number): void {
    if (u.idle) clearTimeout(u.idle);
    const at = now + this.streamMaxIntervalMs;
    u.idle = setTimeout(() => {
      u.idle = undefined;
      if (this.current === u && !u.final) this.finalize(u, at, 2);
    }, this.streamMaxIntervalMs);
  }

  /** Interrupt: whatever is being said ends now (TextOver, or AudioOver with FinalType 3); nothing when silent. */
  private interrupt(): void {
    if (this.current) this.end(this.current, 3);
  }

  /** Ends `u` (if still current) and emits its Over event. */
  private end(u: Utterance, finalType: FinalType): void {
    if (this.current !== u) return;
    this.clearTimers(u);
    this.current = null;
    this.remember(u.reqId, u.kind, finalType);
    const seq = Math.max(u.seq, 1);
    if (u.kind === 'audio') this.publish(u.reqId, 'AudioOver', seq, finalType);
    else this.publish(u.reqId, 'TextOver', seq);
  }

  private remember(reqId: string, kind: Utterance['kind'], finalType: FinalType): void {
    this.ended.delete(reqId);
    this.ended.set(reqId, { kind, finalType });
    if (this.ended.size > ENDED_MEMORY) this.ended.delete(this.ended.keys().next().value!);
  }

  private clearTimers(u: Utterance): void {
    if (u.idle) clearTimeout(u.idle);
    if (u.over) clearTimeout(u.over);
    u.idle = undefined;
    u.over = undefined;
  }

  /**
   * Emits a Type 3 event. `Seq` is required in every downstream message (https://tencentcloud.com/document/product/1211/62116):
   * 1 for a start and for SEND_TEXT, the last Seq received for a stream's end.
   */
  private publish(reqId: string, status: SpeakStatus, seq: number, finalType?: FinalType): void {
    this.status = status;
    const e: IvhEvent = { Type: 3, SessionId: this.sessionId, ReqId: reqId, Seq: seq, SpeakStatus: status };
    if (finalType !== undefined) e.FinalType = finalType;
    this.emit(e);
  }
}
