// The IVF container (libvpx's raw frame file): a 32-byte header, then frames each behind a 12-byte header.
// Only VP8 is accepted, the one video codec the SFU forwards.

/** One coded frame of an IVF file; `pts` is in the file's timebase. */
export interface IvfFrame {
  data: Buffer;
  pts: number;
}

/** The IVF file header. A frame lasts `timebaseNum / timebaseDen` seconds per pts unit. */
interface IvfHeader {
  fourcc: string;
  width: number;
  height: number;
  timebaseNum: number;
  timebaseDen: number;
  /** The count the header claims; writers that stream may leave it 0, so `frames.length` is what counts. */
  frameCount: number;
}

/** A parsed IVF file. */
export interface IvfFile {
  header: IvfHeader;
  frames: IvfFrame[];
}

const FILE_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 12;
// A VP8 frame starts with a 3-byte frame tag; anything shorter cannot be a frame.
const MIN_VP8_FRAME_BYTES = 3;

/** Parses an IVF file holding VP8; throws an Error naming what is wrong when the buffer is not one. */
export function parseIvf(buf: Buffer): IvfFile {
  if (buf.length < FILE_HEADER_BYTES) throw new Error(`IVF: ${buf.length} bytes is shorter than the 32-byte file header`);
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('IVF: missing DKIF signature');
  const headerBytes = buf.readUInt16LE(6);
  if (headerBytes < FILE_HEADER_BYTES || headerBytes > buf.length) throw new Error(`IVF: bad header length ${headerBytes}`);
  const fourcc = buf.toString('latin1', 8, 12);
  if (fourcc !== 'VP80') throw new Error(`IVF: codec ${JSON.stringify(fourcc)} is not VP80`);
  const header: IvfHeader = {
    fourcc,
    width: buf.readUInt16LE(12),
    height: buf.readUInt16LE(14),
    timebaseDen: buf.readUInt32LE(16),
    timebaseNum: buf.readUInt32LE(20),
    frameCount: buf.readUInt32LE(24),
  };
  if (header.width === 0 || header.height === 0) throw new Error(`IVF: bad frame size ${header.width}x${header.height}`);
  if (header.timebaseNum === 0 || header.timebaseDen === 0) throw new Error(`IVF: bad timebase ${header.timebaseNum}/${header.timebaseDen}`);

  const frames: IvfFrame[] = [];
  for (let at = headerBytes; at < buf.length; ) {
    if (at + FRAME_HEADER_BYTES > buf.length) throw new Error(`IVF: frame ${frames.length} header truncated at byte ${at}`);
    const size = buf.readUInt32LE(at);
    const pts = Number(buf.readBigUInt64LE(at + 4));
    const start = at + FRAME_HEADER_BYTES;
    if (start + size > buf.length) throw new Error(`IVF: frame ${frames.length} claims ${size} bytes, ${buf.length - start} left`);
    if (size < MIN_VP8_FRAME_BYTES) throw new Error(`IVF: frame ${frames.length} has ${size} bytes, too short for VP8`);
    frames.push({ data: buf.subarray(start, start + size), pts });
    at = start + size;
  }
  return { header, frames };
}
