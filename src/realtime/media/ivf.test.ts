import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseIvf } from './ivf.ts';
import { isVp8Keyframe } from './vp8-packetizer.ts';

const asset = (name: string): Buffer => readFileSync(new URL(`../../../assets/avatar/${name}`, import.meta.url));

/** An IVF file of the given fourcc and frames, as libvpx writes it (timebase 1/15). */
function ivf(frames: Buffer[], fourcc = 'VP80'): Buffer {
  const header = Buffer.alloc(32);
  header.write('DKIF', 0, 'latin1');
  header.writeUInt16LE(0, 4);
  header.writeUInt16LE(32, 6);
  header.write(fourcc, 8, 'latin1');
  header.writeUInt16LE(320, 12);
  header.writeUInt16LE(240, 14);
  header.writeUInt32LE(15, 16);
  header.writeUInt32LE(1, 20);
  header.writeUInt32LE(frames.length, 24);
  const parts: Buffer[] = [header];
  frames.forEach((data, i) => {
    const fh = Buffer.alloc(12);
    fh.writeUInt32LE(data.length, 0);
    fh.writeBigUInt64LE(BigInt(i), 4);
    parts.push(fh, data);
  });
  return Buffer.concat(parts);
}

describe('parseIvf', () => {
  for (const name of ['idle.ivf', 'speaking.ivf']) {
    it(`reads ${name}: VP8 320x240 at 15 fps, 4 s, a keyframe first and at least every 30 frames`, () => {
      const { header, frames } = parseIvf(asset(name));
      assert.deepEqual(header, { fourcc: 'VP80', width: 320, height: 240, timebaseNum: 1, timebaseDen: 15, frameCount: 60 });
      assert.equal(frames.length, 60);
      assert.deepEqual(frames.map((f) => f.pts), [...Array(60).keys()]);
      assert.ok(isVp8Keyframe(frames[0]!.data));
      let sinceKey = 0;
      for (const frame of frames) {
        sinceKey = isVp8Keyframe(frame.data) ? 0 : sinceKey + 1;
        assert.ok(sinceKey < 30);
      }
    });
  }

  it('gives each frame its bytes and pts', () => {
    const { frames } = parseIvf(ivf([Buffer.from([0x10, 2, 3]), Buffer.from([0x11, 5, 6, 7])]));
    assert.deepEqual(frames, [
      { data: Buffer.from([0x10, 2, 3]), pts: 0 },
      { data: Buffer.from([0x11, 5, 6, 7]), pts: 1 },
    ]);
  });

  it('throws on malformed files', () => {
    const good = ivf([Buffer.from([0x10, 2, 3, 4])]);
    assert.throws(() => parseIvf(good.subarray(0, 20)), /shorter than the 32-byte file header/);
    assert.throws(() => parseIvf(Buffer.concat([Buffer.from('RIFF'), good.subarray(4)])), /DKIF/);
    assert.throws(() => parseIvf(ivf([Buffer.from([0x10, 2, 3])], 'VP90')), /"VP90" is not VP80/);
    assert.throws(() => parseIvf(good.subarray(0, good.length - 1)), /claims 4 bytes, 3 left/);
    assert.throws(() => parseIvf(good.subarray(0, 40)), /header truncated/);
    assert.throws(() => parseIvf(ivf([Buffer.from([0x10])])), /too short for VP8/);
    const zeroSize = Buffer.from(good);
    zeroSize.writeUInt16LE(0, 12);
    assert.throws(() => parseIvf(zeroSize), /bad frame size 0x240/);
    const zeroRate = Buffer.from(good);
    zeroRate.writeUInt32LE(0, 16);
    assert.throws(() => parseIvf(zeroRate), /bad timebase/);
  });
});
