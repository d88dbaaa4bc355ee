import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PACKET_SAMPLES, oggPackets, opusPacketSamples, parseOggOpus } from './ogg-opus.ts';

const speech = (): Buffer => readFileSync(new URL('../../../assets/avatar/speech.ogg', import.meta.url));

/** The Ogg CRC, bit by bit (independent of the parser's table). */
function crc(page: Buffer): number {
  let r = 0;
  for (const byte of page) {
    r ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  }
  return r >>> 0;
}

/** One Ogg page of the given lacing values and body. */
function page(lacing: number[], body: Buffer, opts: { continued?: boolean; seq?: number; serial?: number } = {}): Buffer {
  const head = Buffer.alloc(27 + lacing.length);
  head.write('OggS', 0, 'latin1');
  head[5] = opts.continued ? 0x01 : 0;
  head.writeUInt32LE(opts.serial ?? 7, 14);
  head.writeUInt32LE(opts.seq ?? 0, 18);
  head[26] = lacing.length;
  lacing.forEach((l, i) => (head[27 + i] = l));
  const out = Buffer.concat([head, body]);
  out.writeUInt32LE(crc(out), 22);
  return out;
}

/** Lacing values for one whole packet of `n` bytes. */
const lace = (n: number): number[] => [...Array<number>(Math.floor(n / 255)).fill(255), n % 255];

const opusHead = (): Buffer => {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1;
  b[9] = 2;
  b.writeUInt16LE(312, 10);
  b.writeUInt32LE(48000, 12);
  return b;
};
const opusTags = (): Buffer => Buffer.concat([Buffer.from('OpusTags'), Buffer.alloc(8)]);
const packet = (n: number, fill: number): Buffer => Buffer.concat([Buffer.from([0xfc]), Buffer.alloc(n - 1, fill)]);

/** A stream of OpusHead, OpusTags, a 600-byte packet split over two pages, a 255-byte packet and a 3-byte one. */
function stream(): { file: Buffer; packets: Buffer[] } {
  const big = packet(600, 1);
  const exact = packet(255, 2);
  const small = packet(3, 3);
  const file = Buffer.concat([
    page(lace(19), opusHead(), { seq: 0 }),
    page(lace(16), opusTags(), { seq: 1 }),
    page([255, 255], big.subarray(0, 510), { seq: 2 }),
    page([90, ...lace(255), 3], Buffer.concat([big.subarray(510), exact, small]), { seq: 3, continued: true }),
  ]);
  return { file, packets: [big, exact, small] };
}

describe('parseOggOpus', () => {
  it('reads the speech asset: mono, 20 ms packets for about 4 s', () => {
    const { channels, preSkip, packets } = parseOggOpus(speech());
    assert.equal(channels, 1);
    assert.equal(preSkip, 312);
    assert.ok(packets.length >= 199 && packets.length <= 202, `${packets.length} packets`);
    assert.ok(packets.every((p) => opusPacketSamples(p) === PACKET_SAMPLES && p.length > 3));
  });

  it('joins lacing across segments and pages, and skips the headers', () => {
    const { file, packets } = stream();
    const parsed = parseOggOpus(file);
    assert.equal(parsed.channels, 2);
    assert.deepEqual(parsed.packets, packets);
  });

  it('throws on malformed streams', () => {
    const { file } = stream();
    assert.throws(() => parseOggOpus(Buffer.from('not an ogg file at all, no sir')), /OggS/);
    assert.throws(() => parseOggOpus(file.subarray(0, 20)), /header truncated/);
    assert.throws(() => parseOggOpus(file.subarray(0, file.length - 1)), /body truncated/);
    const flipped = Buffer.from(file);
    flipped[file.length - 1]! ^= 0xff;
    assert.throws(() => parseOggOpus(flipped), /fails its CRC/);
    const twoStreams = Buffer.concat([file, page([3], packet(3, 4), { serial: 8 })]);
    assert.throws(() => parseOggOpus(twoStreams), /another stream/);
    const cut = Buffer.concat([page(lace(19), opusHead()), page([255], Buffer.alloc(255, 1))]);
    assert.throws(() => oggPackets(cut), /cut off/);
    const orphan = Buffer.concat([page(lace(19), opusHead()), page([3], packet(3, 1), { continued: true })]);
    assert.throws(() => oggPackets(orphan), /continuation flag/);
    assert.throws(() => parseOggOpus(page(lace(16), opusTags())), /not OpusHead/);
    assert.throws(() => parseOggOpus(page([...lace(19), 3], Buffer.concat([opusHead(), packet(3, 0)]))), /not OpusTags/);
  });

  it('refuses packets that are not 20 ms', () => {
    const tenMs = Buffer.from([0xf0, 0xff, 0xfe]); // CELT config 30: 10 ms, one frame
    const file = Buffer.concat([page(lace(19), opusHead()), page(lace(16), opusTags()), page([3], tenMs)]);
    assert.throws(() => parseOggOpus(file), /packet 0 lasts 10 ms, not 20 ms/);
  });
});

describe('opusPacketSamples', () => {
  it('reads frame length and count from the TOC byte', () => {
    assert.equal(opusPacketSamples(Buffer.from([0xf8, 0xff, 0xfe])), 960); // CELT FB 20 ms, one frame
    assert.equal(opusPacketSamples(Buffer.from([0x08])), 960); // SILK NB 20 ms
    assert.equal(opusPacketSamples(Buffer.from([0x00])), 480); // SILK NB 10 ms
    assert.equal(opusPacketSamples(Buffer.from([0x18])), 2880); // SILK NB 60 ms
    assert.equal(opusPacketSamples(Buffer.from([0x68])), 960); // Hybrid SWB 20 ms
    assert.equal(opusPacketSamples(Buffer.from([0x01])), 960); // two 10 ms frames, equal size
    assert.equal(opusPacketSamples(Buffer.from([0x92, 0x00])), 960); // CELT 10 ms, two frames of different sizes
    assert.equal(opusPacketSamples(Buffer.from([0x83, 0x08])), 960); // CELT 2.5 ms, code 3 with eight frames
    assert.throws(() => opusPacketSamples(Buffer.alloc(0)), /empty/);
    assert.throws(() => opusPacketSamples(Buffer.from([0x83])), /frame count/);
  });
});
