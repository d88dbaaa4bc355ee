// VP8 frames into RTP payloads (RFC 7741): each payload is a 1-byte payload descriptor followed by a slice of the frame.

/** Default largest RTP payload (descriptor included): room for RTP/SRTP headers and extensions under a 1200-byte MTU. */
export const VP8_MAX_PAYLOAD = 1100;

// Descriptor byte X|R|N|S|R|PID: S marks the start of a partition; PID 0 because frames are not split by partition.
const START_OF_FRAME = 0x10;
const CONTINUATION = 0x00;

/**
 * Splits one VP8 frame into RTP payloads of at most `maxPayload` bytes, in sizes that differ by at most one byte (no sliver at the end).
 * The first carries the S bit; the caller gives all of them the frame's timestamp and sets the marker on the last.
 */
export function packetizeVp8(frame: Buffer, maxPayload = VP8_MAX_PAYLOAD): Buffer[] {
  if (frame.length === 0) throw new RangeError('VP8: cannot packetize an empty frame');
  if (!Number.isInteger(maxPayload) || maxPayload < 2) throw new RangeError(`VP8: max payload ${maxPayload} leaves no room for data`);
  const room = maxPayload - 1;
  const count = Math.ceil(frame.length / room);
  const base = Math.floor(frame.length / count);
  const longer = frame.length % count;
  const payloads: Buffer[] = [];
  for (let i = 0, at = 0; i < count; i++) {
    const slice = frame.subarray(at, at + base + (i < longer ? 1 : 0));
    const payload = Buffer.allocUnsafe(1 + slice.length);
    payload[0] = at === 0 ? START_OF_FRAME : CONTINUATION;
    slice.copy(payload, 1);
    payloads.push(payload);
    at += slice.length;
  }
  return payloads;
}

/** Whether a VP8 frame is a keyframe: bit 0 of its frame tag is 0 for key frames (RFC 6386 section 9.1). */
export function isVp8Keyframe(frame: Buffer): boolean {
  return frame.length > 0 && (frame[0]! & 0x01) === 0;
}

/**
 * Whether an RTP packet's VP8 payload starts a keyframe: the payload descriptor (RFC 7741 §4.2) marks the start of
 * partition 0 (S set, PID 0), and the frame tag after it has bit 0 clear.
 */
export function startsVp8Keyframe(payload: Buffer): boolean {
  if (payload.length < 2) return false;
  const b0 = payload[0]!;
  if ((b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return false;
  let at = 1;
  if (b0 & 0x80) {
    const x = payload[at++];
    if (x === undefined) return false;
    if (x & 0x80) at += payload[at] !== undefined && payload[at]! & 0x80 ? 2 : 1;
    if (x & 0x40) at++;
    if (x & 0x30) at++;
  }
  return at < payload.length && (payload[at]! & 0x01) === 0;
}
