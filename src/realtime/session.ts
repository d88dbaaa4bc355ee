import { randomBytes } from 'node:crypto';
import type { RtcConnection } from './connection.ts';
import { RESUME_BUFFER_EVENTS } from './protocol.ts';

/**
 * One login: who it is, the connection it is on now (none while it waits to be resumed), and its numbered events.
 * Events are numbered per session and the last RESUME_BUFFER_EVENTS are kept so a resumed connection gets what it
 * missed. Features keep their own per-session state (rooms, live rooms) keyed by the session.
 */
export class RtcSession {
  /** Secret a new connection presents to resume this session. */
  readonly token = randomBytes(18).toString('base64url');
  conn: RtcConnection | null;
  /** Unix s when the session's UserSig expires. */
  expiresAt: number;
  ended = false;
  private seq = 0;
  /** Ring of the last events sent, as framed; `ring[(seq - 1) % size]` is event `seq`. */
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
  get userKey(): string {
    return `${this.sdkAppId}\n${this.userId}`;
  }

  /** Numbers an event (built by `event()`), keeps it for resumption and writes it to the connection, if any. */
  deliver(text: string): void {
    if (this.ended) return;
    const seq = ++this.seq;
    // `event()` output starts with `{"v":`; prefixing the number keeps the shared JSON serialised once per fan-out.
    const framed = `{"seq":${seq},${text.slice(1)}`;
    this.ring[(seq - 1) % RESUME_BUFFER_EVENTS] = framed;
    this.conn?.send(framed);
  }

  /** The events after `lastSeq`, or null when some of them are no longer kept (or `lastSeq` is in the future). */
  since(lastSeq: number): string[] | null {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0 || lastSeq > this.seq) return null;
    if (this.seq - lastSeq > Math.min(this.seq, RESUME_BUFFER_EVENTS)) return null;
    const out: string[] = [];
    for (let s = lastSeq + 1; s <= this.seq; s++) out.push(this.ring[(s - 1) % RESUME_BUFFER_EVENTS]!);
    return out;
  }
}
