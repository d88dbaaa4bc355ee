import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { DomainError } from '../errors.ts';
import type { IvhEvent } from './session.ts';
import { SPEECH_ERROR_CODES, SpeechDriver, type SpeechDriverOptions, type SpeechErrorDetail } from './speech-driver.ts';

const T0 = 1_760_000_000_000;
const IDLE = 3000;

let events: IvhEvent[];

beforeEach(() => {
  mock.timers.enable({ apis: ['Date', 'setTimeout'], now: T0 });
  events = [];
});

afterEach(() => {
  mock.timers.reset();
});

function driver(over: Partial<SpeechDriverOptions> = {}): SpeechDriver {
  return new SpeechDriver({ sessionId: 'sess-1', driverType: 3, streamMaxIntervalMs: IDLE, emit: (e) => events.push(e), ...over });
}

/** Events so far as `ReqId:SpeakStatus[/FinalType]` (Type 9 as `ReqId:!ErrorCode`). */
function seen(): string[] {
  return events.map((e) => (e.Type === 9 ? `${e.ReqId}:!${e.ErrorCode}` : `${e.ReqId}:${e.SpeakStatus}${e.FinalType === undefined ? '' : `/${e.FinalType}`}`));
}

/** Milliseconds since T0. */
function at(): number {
  return Date.now() - T0;
}

/** Advances the clock to T0 + ms, 1 ms at a time (so Date.now() inside a timer callback is the time it fired). */
function tickTo(ms: number): void {
  while (at() < ms) mock.timers.tick(1);
}

/** Records the time (since T0) at which each event is emitted. */
function timed(over: Partial<SpeechDriverOptions> = {}): { d: SpeechDriver; times: Array<[string, number]> } {
  const times: Array<[string, number]> = [];
  const d = driver({
    ...over,
    emit: (e) => {
      events.push(e);
      times.push([`${e.ReqId}:${e.SpeakStatus}${e.FinalType === undefined ? '' : `/${e.FinalType}`}`, at()]);
    },
  });
  return { d, times };
}

function refused(fn: () => unknown, detail: SpeechErrorDetail, message?: RegExp): void {
  const before = events.length;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    assert.equal(err.detail, detail);
    assert.equal(err.code, { INVALID: 'INVALID_ARGUMENT', TOO_FREQUENT: 'LIMIT_EXCEEDED', WRONG_TIME: 'FAILED_PRECONDITION', COMMAND_NOT_ALLOWED: 'INVALID_ARGUMENT' }[detail]);
    if (message) assert.match(err.message, message);
    return true;
  });
  assert.equal(events.length, before, 'a refused command emits nothing');
}

/** `bytes` of silent PCM, base64. */
function pcm(bytes: number): string {
  return Buffer.alloc(bytes).toString('base64');
}

describe('SpeechDriver: SEND_TEXT', () => {
  it('emits TextStart at once and TextOver after the text is spoken (200 ms per character)', () => {
    const d = driver();
    assert.equal(d.speakStatus, 'Initial');
    d.handle('r1', 'SEND_TEXT', { Text: 'abc', ChatCommand: 'NotUseChat' });
    // Seq is in every downstream message (https://tencentcloud.com/document/product/1211/62116): 1 for a SEND_TEXT.
    assert.deepEqual(events, [{ Type: 3, SessionId: 'sess-1', ReqId: 'r1', Seq: 1, SpeakStatus: 'TextStart' }]);
    assert.equal(d.speakStatus, 'TextStart');
    assert.equal(d.activeReqId, 'r1');
    mock.timers.tick(599);
    assert.equal(events.length, 1);
    mock.timers.tick(1);
    assert.deepEqual(events[1], { Type: 3, SessionId: 'sess-1', ReqId: 'r1', Seq: 1, SpeakStatus: 'TextOver' });
    assert.equal(d.speakStatus, 'TextOver');
    assert.equal(d.activeReqId, null);
  });

  it('lasts at least 500 ms and ignores whitespace', () => {
    const { d, times } = timed();
    d.handle('r1', 'SEND_TEXT', { Text: ' a \n' });
    tickTo(10_000);
    assert.deepEqual(times, [
      ['r1:TextStart', 0],
      ['r1:TextOver', 500],
    ]);
  });

  it('times SSML by its spoken text: tags stripped, sub read as alias, break times added', () => {
    const { d, times } = timed();
    d.handle('r1', 'SEND_TEXT', { Text: '<speak>你好<break time="1s"/><sub alias="语音合成">TTS</sub></speak>' });
    tickTo(10_000);
    assert.deepEqual(times, [
      ['r1:TextStart', 0],
      ['r1:TextOver', 6 * 200 + 1000],
    ]);
  });

  // The <break strength> example of https://www.tencentcloud.com/zh/document/product/1211/65921, a fragment without
  // <speak>: accepted, and the weak break adds its pause (it used to be refused, and a strength alone added nothing).
  it('accepts and times the SSML page example "自定义停顿的 <break strength="weak"/>SSML 标签"', () => {
    const { d, times } = timed();
    d.handle('r1', 'SEND_TEXT', { Text: '自定义停顿的 <break strength="weak"/>SSML 标签' });
    tickTo(10_000);
    assert.deepEqual(times, [
      ['r1:TextStart', 0],
      ['r1:TextOver', 12 * 200 + 500],
    ]);
  });

  it('uses msPerChar', () => {
    const { d, times } = timed({ msPerChar: 100 });
    d.handle('r1', 'SEND_TEXT', { Text: '0123456789' });
    tickTo(10_000);
    assert.deepEqual(times[1], ['r1:TextOver', 1000]);
  });

  it('an empty text with Interrupt ends the current text at once, and its TextOver never comes again', () => {
    const d = driver();
    d.handle('r1', 'SEND_TEXT', { Text: 'abcdef' });
    mock.timers.tick(300);
    d.handle('r2', 'SEND_TEXT', { Interrupt: true });
    assert.deepEqual(seen(), ['r1:TextStart', 'r1:TextOver']);
    mock.timers.tick(10_000);
    assert.deepEqual(seen(), ['r1:TextStart', 'r1:TextOver']);
    assert.equal(d.speakStatus, 'TextOver');
  });

  it('an interrupt while silent does nothing; Text "" and whitespace count as empty', () => {
    const d = driver();
    d.handle('r1', 'SEND_TEXT', { Interrupt: true, Text: '' });
    d.handle('r2', 'SEND_TEXT', { Interrupt: true, Text: '  ' });
    assert.deepEqual(events, []);
    assert.equal(d.speakStatus, 'Initial');
  });

  it('a new text while text is playing interrupts it: TextOver for the old, then TextStart/TextOver for the new', () => {
    const { d, times } = timed();
    d.handle('r1', 'SEND_TEXT', { Text: 'a'.repeat(20) });
    tickTo(1500);
    d.handle('r2', 'SEND_TEXT', { Text: 'abc' });
    tickTo(20_000);
    assert.deepEqual(times, [
      ['r1:TextStart', 0],
      ['r1:TextOver', 1500],
      ['r2:TextStart', 1500],
      ['r2:TextOver', 2100],
    ]);
  });

  it('refuses a text sooner than 1 s after the previous one (100012); exactly 1 s is fine', () => {
    const d = driver();
    d.handle('r1', 'SEND_TEXT', { Text: 'a' });
    mock.timers.tick(999);
    refused(() => d.handle('r2', 'SEND_TEXT', { Text: 'b' }), 'TOO_FREQUENT', /1000 ms apart \(999 ms/);
    mock.timers.tick(1);
    d.handle('r3', 'SEND_TEXT', { Text: 'c' });
    assert.deepEqual(seen(), ['r1:TextStart', 'r1:TextOver', 'r3:TextStart']);
    assert.equal(SPEECH_ERROR_CODES.TOO_FREQUENT, 100012);
  });

  it('the 1 s rule counts accepted texts only; interrupts and stream text are exempt', () => {
    const d = driver();
    d.handle('r1', 'SEND_TEXT', { Text: 'abcdef' });
    mock.timers.tick(10);
    d.handle('r2', 'SEND_TEXT', { Interrupt: true });
    refused(() => d.handle('r3', 'SEND_TEXT', { Text: 'x' }), 'TOO_FREQUENT');
    d.handle('r4', 'SEND_STREAMTEXT', { Text: 'x', Seq: 1, IsFinal: true });
    tickTo(1000);
    d.handle('r5', 'SEND_TEXT', { Text: 'y' });
    assert.deepEqual(seen(), ['r1:TextStart', 'r1:TextOver', 'r4:TextStart', 'r4:TextOver', 'r5:TextStart']);
  });

  it('refuses bad data with INVALID naming the field (100001)', () => {
    const d = driver();
    refused(() => d.handle('r', 'SEND_TEXT', {}), 'INVALID', /Text must not be empty/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: '' }), 'INVALID', /Text must not be empty/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 12 }), 'INVALID', /Text must be a string/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 'a', Interrupt: 'yes' }), 'INVALID', /Interrupt must be a boolean/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 'a', ChatCommand: 1 }), 'INVALID', /ChatCommand must be a string/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 'a', CloudAiVisitorBizId: 'x'.repeat(65) }), 'INVALID', /CloudAiVisitorBizId/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 'a'.repeat(4001) }), 'INVALID', /Text is 4001 characters, more than 4000/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: '<speak>a<break time="10s"/></speak>' }), 'INVALID', /Text is not valid SSML: <break> time "10s" must be 1-9 s/);
    refused(() => d.handle('r', 'SEND_TEXT', { Text: 'a < b' }), 'INVALID', /Text is not valid SSML/);
    refused(() => d.handle('', 'SEND_TEXT', { Text: 'a' }), 'INVALID', /ReqId/);
    assert.equal(d.speakStatus, 'Initial');
    assert.equal(SPEECH_ERROR_CODES.INVALID, 100001);
  });

  it('accepts 4000 characters, counted as code points', () => {
    const d = driver();
    d.handle('r1', 'SEND_TEXT', { Text: 'a'.repeat(4000) });
    mock.timers.tick(1000);
    d.handle('r2', 'SEND_TEXT', { Text: '😀'.repeat(4000) });
    assert.deepEqual(seen(), ['r1:TextStart', 'r1:TextOver', 'r2:TextStart']);
  });
});

describe('SpeechDriver: SEND_STREAMTEXT', () => {
  it('TextStart on the first fragment, TextOver once the final fragment has been spoken', () => {
    const { d, times } = timed();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: '你好', Seq: 1 });
    tickTo(100);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: '世界', Seq: 2 });
    tickTo(200);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: '', Seq: 3, IsFinal: true });
    assert.equal(d.speakStatus, 'TextStart');
    tickTo(799);
    assert.equal(times.length, 1);
    tickTo(800);
    assert.deepEqual(times, [
      ['s1:TextStart', 0],
      ['s1:TextOver', 800],
    ]);
  });

  it('a fragment arriving after the previous one was spoken starts speaking on arrival', () => {
    const { d, times } = timed();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'ab', Seq: 1 });
    tickTo(1000);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'cde', Seq: 2, IsFinal: true });
    tickTo(5000);
    assert.deepEqual(times[1], ['s1:TextOver', 1600]);
  });

  it('a tag split across fragments is not spoken', () => {
    const { d, times } = timed();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: '<speak>你好<br', Seq: 1 });
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'eak/>世界</speak>', Seq: 2, IsFinal: true });
    tickTo(5000);
    // Four characters, and the rejoined <break/> is a medium pause (750 ms; the page's default strength).
    assert.deepEqual(times[1], ['s1:TextOver', 4 * 200 + 750]);
  });

  it('auto-finalizes when no fragment arrives within streamMaxIntervalMs; each fragment re-arms the wait', () => {
    const { d, times } = timed();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'ab', Seq: 1 });
    tickTo(2000);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'c', Seq: 2 });
    tickTo(2000 + IDLE - 1);
    assert.equal(times.length, 1);
    tickTo(2000 + IDLE);
    assert.deepEqual(times, [
      ['s1:TextStart', 0],
      ['s1:TextOver', 2000 + IDLE],
    ]);
    // A late fragment of the auto-finalized stream is dropped.
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'd', Seq: 3 });
    assert.equal(events.length, 2);
  });

  it('auto-final waits for what was received to be spoken', () => {
    const { d, times } = timed({ msPerChar: 1000 });
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abcde', Seq: 1 });
    tickTo(20_000);
    assert.deepEqual(times[1], ['s1:TextOver', 5000]);
  });

  it('lasts at least 500 ms', () => {
    const { d, times } = timed();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: 1, IsFinal: true });
    tickTo(5000);
    assert.deepEqual(times[1], ['s1:TextOver', 500]);
  });

  it('Interrupt with empty Text ends the stream at once and cancels its wait', () => {
    const d = driver();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abc', Seq: 1 });
    d.handle('s1', 'SEND_STREAMTEXT', { Interrupt: true });
    assert.deepEqual(seen(), ['s1:TextStart', 's1:TextOver']);
    mock.timers.tick(IDLE * 3);
    assert.equal(events.length, 2);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'late', Seq: 2 });
    assert.equal(events.length, 2, 'late fragments of an interrupted stream are dropped');
  });

  it('a new stream interrupts playing text, and a text interrupts a stream', () => {
    const d = driver();
    d.handle('t1', 'SEND_TEXT', { Text: 'abcdef' });
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abc', Seq: 1 });
    mock.timers.tick(1000);
    d.handle('t2', 'SEND_TEXT', { Text: 'abc' });
    assert.deepEqual(seen(), ['t1:TextStart', 't1:TextOver', 's1:TextStart', 's1:TextOver', 't2:TextStart']);
  });

  it('refuses bad fragments with INVALID', () => {
    const d = driver();
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a' }), 'INVALID', /Seq is required/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: 2 }), 'INVALID', /Seq must start at 1/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: 0 }), 'INVALID', /Seq must be an integer/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: '1' }), 'INVALID', /Seq must be an integer/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: 1, IsFinal: 1 }), 'INVALID', /IsFinal must be a boolean/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: '你'.repeat(334), Seq: 1 }), 'INVALID', /Text is 1002 bytes, more than 1000/);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a'.repeat(1000), Seq: 1 });
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'b', Seq: 3 }), 'INVALID', /Seq 3 does not follow 1/);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'b', Seq: 1 }), 'INVALID', /Seq 1 does not follow 1/);
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'b', Seq: 2, IsFinal: true });
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'c', Seq: 3 }), 'INVALID', /already received its final/);
    mock.timers.tick(1_000_000);
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'c', Seq: 3 }), 'INVALID', /already received its final/);
  });
});

describe('SpeechDriver: SEND_AUDIO', () => {
  it('AudioStart on the first packet, AudioOver FinalType 1 when the audio received has played (bytes / 32000 s)', () => {
    const { d, times } = timed();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1, IsFinal: false });
    assert.equal(d.speakStatus, 'AudioStart');
    tickTo(160);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 2, IsFinal: false });
    tickTo(320);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 3, IsFinal: false });
    d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 4, IsFinal: true });
    tickTo(479);
    assert.equal(times.length, 1);
    tickTo(480);
    assert.deepEqual(times, [
      ['a1:AudioStart', 0],
      ['a1:AudioOver/1', 480],
    ]);
    // https://tencentcloud.com/document/product/1211/62116: Seq is required downstream; the end carries the last packet's.
    assert.deepEqual(events[0], { Type: 3, SessionId: 'sess-1', ReqId: 'a1', Seq: 1, SpeakStatus: 'AudioStart' });
    assert.deepEqual(events[1], { Type: 3, SessionId: 'sess-1', ReqId: 'a1', Seq: 4, SpeakStatus: 'AudioOver', FinalType: 1 });
    assert.equal(d.speakStatus, 'AudioOver');
  });

  it('audio sent faster than real time plays for its full duration', () => {
    const { d, times } = timed();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(32000), Seq: 1 });
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(16000), Seq: 2, IsFinal: true });
    tickTo(5000);
    assert.deepEqual(times[1], ['a1:AudioOver/1', 1500]);
  });

  it('a gap between packets delays the end (playback resumes on arrival)', () => {
    const { d, times } = timed();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(3200), Seq: 1 });
    tickTo(500);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(3200), Seq: 2, IsFinal: true });
    tickTo(5000);
    assert.deepEqual(times[1], ['a1:AudioOver/1', 600]);
  });

  it('a single empty final packet starts and ends at once', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 1, IsFinal: true });
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/1']);
  });

  it('no packet within streamMaxIntervalMs: auto-final with FinalType 2', () => {
    const { d, times } = timed();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    tickTo(1000);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 2 });
    tickTo(1000 + IDLE - 1);
    assert.equal(times.length, 1);
    tickTo(1000 + IDLE);
    assert.deepEqual(times, [
      ['a1:AudioStart', 0],
      ['a1:AudioOver/2', 1000 + IDLE],
    ]);
    // The client's late packets for that ReqId are dropped.
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 3, IsFinal: true });
    assert.equal(events.length, 2);
  });

  it('auto-final lets the audio already received finish playing', () => {
    const { d, times } = timed();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(32000 * 5), Seq: 1 });
    tickTo(20_000);
    assert.deepEqual(times[1], ['a1:AudioOver/2', 5000]);
  });

  it('Interrupt ends the audio at once with FinalType 3 (SEND_AUDIO or SEND_TEXT) and cancels its timers', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(32000), Seq: 1, IsFinal: true });
    mock.timers.tick(200);
    d.handle('a1', 'SEND_AUDIO', { Interrupt: true });
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/3']);
    d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    d.handle('x', 'SEND_TEXT', { Interrupt: true });
    mock.timers.tick(IDLE * 3);
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/3', 'a2:AudioStart', 'a2:AudioOver/3']);
    d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 2 });
    assert.equal(events.length, 4, 'late packets of an interrupted ReqId are dropped');
  });

  it('Interrupt with a new ReqId and audio stops the current audio and starts the new one', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1, Interrupt: true, IsFinal: true });
    mock.timers.tick(160);
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/3', 'a2:AudioStart', 'a2:AudioOver/1']);
  });

  it('refuses bad packets with INVALID', () => {
    const d = driver();
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(3), Seq: 1 }), 'INVALID', /16-bit PCM: 3 bytes/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: '@@@@', Seq: 1 }), 'INVALID', /Audio must be base64/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: 'AAAAA', Seq: 1 }), 'INVALID', /Audio must be base64/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: 42, Seq: 1 }), 'INVALID', /Audio must be a string/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2) }), 'INVALID', /Seq is required/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2), Seq: 1.5 }), 'INVALID', /Seq must be an integer/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2), Seq: 2 }), 'INVALID', /Seq must start at 1/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2), Seq: 1, IsFinal: 'true' }), 'INVALID', /IsFinal must be a boolean/);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }), 'INVALID', /Seq 1 does not follow 1/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 3 }), 'INVALID', /Seq 3 does not follow 1/);
    d.handle('a1', 'SEND_AUDIO', { Audio: 'AAA', Seq: 2 }); // unpadded base64 of 2 bytes
    d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 3, IsFinal: true });
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 4, IsFinal: true }), 'INVALID', /already received its final/);
    mock.timers.tick(1000);
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/1']);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2), Seq: 4 }), 'INVALID', /already received its final/);
  });

  it('DriverType 1 refuses SEND_AUDIO (COMMAND_NOT_ALLOWED, 100001) but takes text and heartbeats', () => {
    const d = driver({ driverType: 1 });
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(2), Seq: 1 }), 'COMMAND_NOT_ALLOWED', /DriverType 3/);
    refused(() => d.handle('a1', 'SEND_AUDIO', { Interrupt: true }), 'COMMAND_NOT_ALLOWED');
    assert.equal(SPEECH_ERROR_CODES.COMMAND_NOT_ALLOWED, 100001);
    d.handle('h', 'SEND_HEARTBEAT', { Text: 'PING' });
    d.handle('t1', 'SEND_TEXT', { Text: 'a' });
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'a', Seq: 1 });
    assert.deepEqual(seen(), ['t1:TextStart', 't1:TextOver', 's1:TextStart']);
  });
});

describe('SpeechDriver: sequencing rules (110015)', () => {
  it('audio while text is playing is refused; after an interrupt and its TextOver it is accepted', () => {
    const d = driver();
    d.handle('t1', 'SEND_TEXT', { Text: 'abcdef' });
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }), 'WRONG_TIME', /text is playing/);
    d.handle('t2', 'SEND_TEXT', { Interrupt: true });
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    assert.deepEqual(seen(), ['t1:TextStart', 't1:TextOver', 'a1:AudioStart']);
    assert.equal(SPEECH_ERROR_CODES.WRONG_TIME, 110015);
  });

  it('audio after a text has finished by itself is accepted', () => {
    const d = driver();
    d.handle('t1', 'SEND_TEXT', { Text: 'abc' });
    mock.timers.tick(600);
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    assert.deepEqual(seen(), ['t1:TextStart', 't1:TextOver', 'a1:AudioStart']);
  });

  it('audio while stream text is streaming is refused', () => {
    const d = driver();
    d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abc', Seq: 1 });
    refused(() => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }), 'WRONG_TIME');
  });

  it('text while audio plays is refused until the final packet was sent and AudioOver emitted', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(32000), Seq: 1 });
    refused(() => d.handle('t1', 'SEND_TEXT', { Text: 'abc' }), 'WRONG_TIME', /send its final packet/);
    refused(() => d.handle('t1', 'SEND_TEXT', { Text: 'abc', Interrupt: true }), 'WRONG_TIME');
    refused(() => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abc', Seq: 1 }), 'WRONG_TIME');
    d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 2, IsFinal: true });
    refused(() => d.handle('t1', 'SEND_TEXT', { Text: 'abc' }), 'WRONG_TIME', /wait for AudioOver/);
    mock.timers.tick(1000);
    assert.equal(d.speakStatus, 'AudioOver');
    d.handle('t1', 'SEND_TEXT', { Text: 'abc' });
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/1', 't1:TextStart']);
  });

  it('a refused text does not count for the 1 s rule', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(3200), Seq: 1, IsFinal: true });
    refused(() => d.handle('t1', 'SEND_TEXT', { Text: 'abc' }), 'WRONG_TIME');
    mock.timers.tick(100);
    d.handle('t2', 'SEND_TEXT', { Text: 'abc' });
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/1', 't2:TextStart']);
  });

  it('new audio while another audio ReqId is streaming or playing is refused', () => {
    const d = driver();
    d.handle('a1', 'SEND_AUDIO', { Audio: pcm(32000), Seq: 1 });
    refused(() => d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }), 'WRONG_TIME', /audio a1 is still streaming/);
    d.handle('a1', 'SEND_AUDIO', { Audio: '', Seq: 2, IsFinal: true });
    refused(() => d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }), 'WRONG_TIME', /audio a1 is still playing/);
    mock.timers.tick(1000);
    d.handle('a2', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 });
    assert.deepEqual(seen(), ['a1:AudioStart', 'a1:AudioOver/1', 'a2:AudioStart']);
  });
});

describe('SpeechDriver: other commands, fail and stop', () => {
  it('SEND_HEARTBEAT is accepted and emits nothing', () => {
    const d = driver();
    d.handle('h1', 'SEND_HEARTBEAT', { Text: 'PING' });
    d.handle('t1', 'SEND_TEXT', { Text: 'abc' });
    d.handle('h2', 'SEND_HEARTBEAT', { Text: 'PING' });
    assert.deepEqual(seen(), ['t1:TextStart']);
    assert.equal(d.speakStatus, 'TextStart');
  });

  it('an unknown command is INVALID, naming Command', () => {
    const d = driver();
    refused(() => d.handle('r', 'SEND_VIDEO', {}), 'INVALID', /Command "SEND_VIDEO"/);
    refused(() => d.handle('r', 'send_text', { Text: 'a' }), 'INVALID', /Command/);
  });

  it('fail() emits Type 9, sets Error and silently ends that ReqId', () => {
    const d = driver();
    d.handle('t1', 'SEND_TEXT', { Text: 'abc' });
    d.fail('t1', -111005, 'drive failed');
    assert.deepEqual(events[1], { Type: 9, SessionId: 'sess-1', ReqId: 't1', Seq: 1, ErrorCode: -111005, ErrorMessage: 'drive failed' });
    assert.equal(d.speakStatus, 'Error');
    mock.timers.tick(10_000);
    assert.deepEqual(seen(), ['t1:TextStart', 't1:!-111005']);
    d.handle('t2', 'SEND_TEXT', { Text: 'abc' });
    assert.equal(d.speakStatus, 'TextStart');
  });

  it('fail() for another ReqId leaves the current utterance playing', () => {
    const d = driver();
    d.handle('t1', 'SEND_TEXT', { Text: 'abc' });
    d.fail('x', -111005, 'drive failed');
    assert.equal(d.speakStatus, 'Error');
    mock.timers.tick(600);
    assert.deepEqual(seen(), ['t1:TextStart', 'x:!-111005', 't1:TextOver']);
  });

  it('stop() cancels pending TextOver, AudioOver and stream waits; later commands are refused', () => {
    for (const start of [
      (d: SpeechDriver) => d.handle('t1', 'SEND_TEXT', { Text: 'abc' }),
      (d: SpeechDriver) => d.handle('s1', 'SEND_STREAMTEXT', { Text: 'abc', Seq: 1 }),
      (d: SpeechDriver) => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1 }),
      (d: SpeechDriver) => d.handle('a1', 'SEND_AUDIO', { Audio: pcm(5120), Seq: 1, IsFinal: true }),
    ]) {
      events = [];
      const d = driver();
      start(d);
      d.stop();
      mock.timers.tick(IDLE * 10);
      assert.equal(events.length, 1);
      assert.equal(d.activeReqId, null);
      refused(() => d.handle('h', 'SEND_HEARTBEAT', { Text: 'PING' }), 'WRONG_TIME');
    }
  });
});
