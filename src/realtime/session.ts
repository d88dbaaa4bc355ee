import { randomBytes } from 'node:crypto';
import type { RtcConnection } from './connection.ts';
import { RESUME_BUFFER_EVENTS } from './protocol.ts';
import { userKey, type UserKey } from '../services/tenant-keys.ts';

/**
 * One login: who it is, the connection it is on now (none while it waits to be resumed), and its numbered events.
 * Events are numbered per session and the last RESUME_BUFFER_EVENTS are kept so a resumed connection gets what it
 * missed. Features keep their own per-session state (rooms, live rooms) keyed by the session.
 */
export class RtcSession {
  /** Public id of the session (presence entries), unlike the token. */
  readonly id = randomBytes(9).toString('base64url');
  /** Secret a new connection presents to resume this session. */
  readonly token = randomBytes(18).toString('base64url');
  conn: RtcConnection | null;
  /** Unix s when the session's UserSig expires. */
  expiresAt: number;
  ended = false;
  private seq = 0;
  /**
   * Ring of the last events sent, unnumbered as `event()` built them; `ring[(seq - 1) % size]` is event `seq`. Keeping
   * the shared text (not each session's numbered copy) makes a fan-out to N sessions keep one string, not N.
   */
  private readonly ring: string[] = [];

  constructor(
    readonly sdkAppId: number,
    readonly userId: string,
    readonly platform: string,
    readonly ip: string | undefined,
    conn: RtcConnection,
    expiresAt: number,
  ) {
    this.conn = conn;
    this.expiresAt = expiresAt;
  }

  /** The key of the session's user within the node: `${sdkAppId}\n${userId}`. */
  get userKey(): UserKey {
    return userKey(this.sdkAppId, this.userId);
  }

  /** Numbers an event (built by `event()`), keeps it for resumption and writes it to the connection, if any. */
  deliver(text: string): void {
    if (this.ended) return;
    const seq = ++this.seq;
    this.ring[(seq - 1) % RESUME_BUFFER_EVENTS] = text;
    this.conn?.send(numbered(seq, text));
  }

  /** The events after `lastSeq`, or null when some of them are no longer kept (or `lastSeq` is in the future). */
  since(lastSeq: number): string[] | null {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || lastSeq > this.seq) return null;
    if (this.seq - lastSeq > Math.min(this.seq, RESUME_BUFFER_EVENTS)) return null;
    const out: string[] = [];
    for (let s = lastSeq + 1; s <= this.seq; s++) out.push(numbered(s, this.ring[(s - 1) % RESUME_BUFFER_EVENTS]!));
    return out;
  }
}

/** An event numbered for one session: `event()` output starts with `{"v":`, so the shared JSON is serialised once per fan-out. */
function numbered(seq: number, text: string): string {
  return `{"seq":${seq},${text.slice(1)}`;
}
