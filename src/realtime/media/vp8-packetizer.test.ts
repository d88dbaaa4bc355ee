import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VP8_MAX_PAYLOAD, isVp8Keyframe, packetizeVp8 } from './vp8-packetizer.ts';

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
