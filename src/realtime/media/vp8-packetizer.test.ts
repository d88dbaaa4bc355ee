import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VP8_MAX_PAYLOAD, isVp8Keyframe, packetizeVp8, startsVp8Keyframe } from './vp8-packetizer.ts';

const frameOf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i & 0xff));

describe('packetizeVp8', () => {
  it('sends a small frame in one payload behind a start-of-frame descriptor', () => {
    assert.deepEqual(packetizeVp8(Buffer.from([1, 2, 3])), [Buffer.from([0x10, 1, 2, 3])]);
  });

  it('splits a large frame into even payloads no larger than the limit, S bit on the first only', () => {
    const frame = frameOf(2500);
    const payloads = packetizeVp8(frame);
    assert.equal(payloads.length, 3);
    assert.ok(payloads.every((p) => p.length <= VP8_MAX_PAYLOAD));
    assert.deepEqual(payloads.map((p) => p.length), [835, 834, 834]);
    assert.deepEqual(payloads.map((p) => p[0]), [0x10, 0x00, 0x00]);
    assert.deepEqual(Buffer.concat(payloads.map((p) => p.subarray(1))), frame);
  });

  it('fills payloads exactly at the boundary', () => {
    assert.equal(packetizeVp8(frameOf(VP8_MAX_PAYLOAD - 1)).length, 1);
    assert.equal(packetizeVp8(frameOf(VP8_MAX_PAYLOAD)).length, 2);
    const small = packetizeVp8(frameOf(10), 4);
    assert.deepEqual(small.map((p) => p.length), [4, 4, 3, 3]);
    assert.deepEqual(Buffer.concat(small.map((p) => p.subarray(1))), frameOf(10));
  });

  it('refuses an empty frame or a limit with no room for data', () => {
    assert.throws(() => packetizeVp8(Buffer.alloc(0)), RangeError);
    assert.throws(() => packetizeVp8(frameOf(5), 1), RangeError);
  });
});

describe('isVp8Keyframe', () => {
  it('reads bit 0 of the frame tag', () => {
    assert.equal(isVp8Keyframe(Buffer.from([0x50, 0x2d, 0x00])), true);
    assert.equal(isVp8Keyframe(Buffer.from([0x51, 0x2d, 0x00])), false);
    assert.equal(isVp8Keyframe(Buffer.alloc(0)), false);
  });
});

describe('startsVp8Keyframe', () => {
  it('finds the first packet of a keyframe behind the payload descriptor, with or without its extensions', () => {
    assert.equal(startsVp8Keyframe(Buffer.from([0x10, 0x00])), true, 'S, PID 0, key frame tag');
    assert.equal(startsVp8Keyframe(Buffer.from([0x10, 0x01])), false, 'an interframe');
    assert.equal(startsVp8Keyframe(Buffer.from([0x00, 0x00])), false, 'not the start of a partition');
    assert.equal(startsVp8Keyframe(Buffer.from([0x11, 0x00])), false, 'a later partition');
    // X, then I (a 15-bit picture id), L (TL0PICIDX) and T/K (one byte).
    assert.equal(startsVp8Keyframe(Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x40, 0x00])), true);
    assert.equal(startsVp8Keyframe(Buffer.from([0x90, 0xe0, 0x80, 0x01, 0x05, 0x40, 0x01])), false);
    // X with a 7-bit picture id only.
    assert.equal(startsVp8Keyframe(Buffer.from([0x90, 0x80, 0x05, 0x00])), true);
    assert.equal(startsVp8Keyframe(Buffer.from([0x90, 0x80, 0x05])), false, 'truncated');
    assert.equal(startsVp8Keyframe(Buffer.alloc(0)), false);
  });

  it('agrees with the packetizer: the first payload of a keyframe starts one, the others do not', () => {
    const frame = Buffer.concat([Buffer.from([0x00]), frameOf(2000)]);
    const payloads = packetizeVp8(frame);
    assert.ok(payloads.length > 1);
    assert.deepEqual(payloads.map(startsVp8Keyframe), [true, ...payloads.slice(1).map(() => false)]);
    assert.equal(isVp8Keyframe(frame), true);
  });
});
