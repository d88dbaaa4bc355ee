// Opus packets out of an Ogg Opus file (RFC 7845): pages are checked (signature, CRC), their lacing joined into
// packets, and the OpusHead/OpusTags header packets skipped. One logical stream only (no chaining or multiplexing).
// werift's OggParser is not exported from the package and stops silently on bad input, hence this small parser.

/** The audio of an Ogg Opus file. */
interface OggOpus {
  channels: number;
  /** Samples (at 48 kHz) the decoder should drop at the start. */
  preSkip: number;
  /** The Opus packets in order, each `PACKET_SAMPLES` long. */
  packets: Buffer[];
}

/** Samples at 48 kHz in one 20 ms Opus packet: the only packet length the clip player paces. */
export const PACKET_SAMPLES = 960;

const PAGE_HEADER_BYTES = 27;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    table[i] = r >>> 0;
  }
  return table;
})();

/** The Ogg page checksum (CRC-32, polynomial 0x04c11db7, unreflected) of `page` with its CRC field taken as zero. */
function oggCrc(page: Buffer): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) {
    const byte = i >= 22 && i < 26 ? 0 : page[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  }
  return crc;
}

/** The packets of the one logical stream in an Ogg file, in order; throws on a malformed or truncated page. */
export function oggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let serial: number | undefined;
  let pageNo = 0;
  for (let at = 0; at < buf.length; pageNo++) {
    if (at + PAGE_HEADER_BYTES > buf.length) throw new Error(`Ogg: page ${pageNo} header truncated at byte ${at}`);
    if (buf.toString('latin1', at, at + 4) !== 'OggS') throw new Error(`Ogg: page ${pageNo} lacks the OggS capture pattern at byte ${at}`);
    if (buf[at + 4] !== 0) throw new Error(`Ogg: page ${pageNo} has unknown version ${buf[at + 4]}`);
    const flags = buf[at + 5]!;
    const pageSerial = buf.readUInt32LE(at + 14);
    if (serial === undefined) serial = pageSerial;
    else if (pageSerial !== serial) throw new Error(`Ogg: page ${pageNo} belongs to another stream (only one is supported)`);
    const segments = buf[at + 26]!;
    const tableAt = at + PAGE_HEADER_BYTES;
    if (tableAt + segments > buf.length) throw new Error(`Ogg: page ${pageNo} segment table truncated`);
    let bodyBytes = 0;
    for (let i = 0; i < segments; i++) bodyBytes += buf[tableAt + i]!;
    const end = tableAt + segments + bodyBytes;
    if (end > buf.length) throw new Error(`Ogg: page ${pageNo} body truncated (${bodyBytes} bytes claimed)`);
    if (oggCrc(buf.subarray(at, end)) !== buf.readUInt32LE(at + 22)) throw new Error(`Ogg: page ${pageNo} fails its CRC`);
    const continued = (flags & 0x01) !== 0;
    if (continued !== pending.length > 0) throw new Error(`Ogg: page ${pageNo} continuation flag does not match the previous page`);

    // Lacing: segments of 255 bytes continue a packet; a shorter one (even 0) ends it.
    let bodyAt = tableAt + segments;
    for (let i = 0; i < segments; i++) {
      const len = buf[tableAt + i]!;
      pending.push(buf.subarray(bodyAt, bodyAt + len));
      bodyAt += len;
      if (len < 255) {
        packets.push(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
        pending = [];
      }
    }
    at = end;
  }
  if (pending.length > 0) throw new Error('Ogg: the last packet is cut off');
  return packets;
}

/**
 * Samples at 48 kHz that an Opus packet decodes to, from its TOC byte and frame count (RFC 6716 section 3.1);
 * throws on a packet too short to say.
 */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) throw new Error('Opus: empty packet');
  const toc = packet[0]!;
  const config = toc >> 3;
  // Frame length in 48 kHz samples: SILK 10/20/40/60 ms, Hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
  const frameSamples =
    config < 12 ? [480, 960, 1920, 2880][config & 3]! : config < 16 ? [480, 960][config & 1]! : [120, 240, 480, 960][config & 3]!;
  const code = toc & 0x03;
  if (code === 0) return frameSamples;
  if (code === 1 || code === 2) return 2 * frameSamples;
  if (packet.length < 2) throw new Error('Opus: code 3 packet lacks its frame count byte');
  return (packet[1]! & 0x3f) * frameSamples;
}

/** Parses an Ogg Opus file into its audio packets; throws unless it is Opus in 20 ms packets. */
export function parseOggOpus(buf: Buffer): OggOpus {
  const all = oggPackets(buf);
  const head = all[0];
  if (!head || head.length < 19 || head.toString('latin1', 0, 8) !== 'OpusHead') throw new Error('Ogg Opus: the first packet is not OpusHead');
  if (head[8]! >> 4 !== 0) throw new Error(`Ogg Opus: unsupported OpusHead version ${head[8]}`);
  const tags = all[1];
  if (!tags || tags.toString('latin1', 0, 8) !== 'OpusTags') throw new Error('Ogg Opus: the second packet is not OpusTags');
  const packets = all.slice(2);
  packets.forEach((packet, i) => {
    const samples = opusPacketSamples(packet);
    if (samples !== PACKET_SAMPLES) throw new Error(`Ogg Opus: packet ${i} lasts ${samples / 48} ms, not 20 ms`);
  });
  return { channels: head[9]!, preSkip: head.readUInt16LE(10), packets };
}
