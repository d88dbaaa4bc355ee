// What an SDP offer asks for, read before it reaches werift: the media sections, their kinds and directions.
import type { MediaKind } from './source.ts';

/** Longest SDP accepted, characters (a browser's offer is a few KiB). */
export const MAX_SDP_CHARS = 32 * 1024;

/** One m= section of an offer. */
export interface OfferedMedia {
  kind: MediaKind | 'application' | 'other';
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Port 0: the section is rejected or stopped. */
  disabled: boolean;
}

/** The m= sections of an SDP, in order; throws on text that is not an SDP. */
export function offeredMedia(sdp: string): OfferedMedia[] {
  if (!sdp.startsWith('v=0')) throw new Error('not an SDP (it must start with v=0)');
  const out: OfferedMedia[] = [];
  let session: OfferedMedia['direction'] = 'sendrecv';
  for (const raw of sdp.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('m=')) {
      const [kind, port] = line.slice(2).split(' ');
      out.push({ kind: kind === 'audio' || kind === 'video' || kind === 'application' ? kind : 'other', direction: session, disabled: port === '0' });
    } else if (line === 'a=sendrecv' || line === 'a=sendonly' || line === 'a=recvonly' || line === 'a=inactive') {
      const dir = line.slice(2) as OfferedMedia['direction'];
      // Before the first m= line a direction is the session default.
      if (out.length === 0) session = dir;
      else out[out.length - 1]!.direction = dir;
    }
  }
  return out;
}

/** Whether the offerer sends on this section. */
export function sends(m: OfferedMedia): boolean {
  return !m.disabled && (m.direction === 'sendrecv' || m.direction === 'sendonly');
}

/** Whether the offerer receives on this section. */
export function receives(m: OfferedMedia): boolean {
  return !m.disabled && (m.direction === 'sendrecv' || m.direction === 'recvonly');
}
