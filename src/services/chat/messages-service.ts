import { randomInt } from 'node:crypto';
import type { Bus } from '../../bus/bus.ts';
import type { C2cBound, C2cRow } from '../../store/chat-repo.ts';
import type { Store } from '../../store/store.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import { DomainError } from '../errors.ts';
import { bodyProblem, CHAT_TOPIC, MAX_MESSAGE_BYTES, messageTooLarge, type C2CMessage, type ChatEvent, type MsgElement } from './message.ts';
import { userKey } from '../tenant-keys.ts';

/** Messages one sync call returns when the caller names no limit. */
const DEFAULT_SYNC_LIMIT = 20;
/** Most messages one sync call returns. */
const MAX_SYNC_LIMIT = 100;
/** Most conversations one `conversations` call returns. */
const MAX_CONVERSATIONS_LIMIT = 200;
/** Most messages one `history` call returns. */
const MAX_HISTORY_LIMIT = 100;
/** Senders whose default-MsgSeq counter is kept in memory (others are read again from the store). */
const SEQ_COUNTERS = 100_000;

const UINT32_MAX = 0xffffffff;

/** What `sendC2C` needs. */
interface SendC2C {
  sdkAppId: number;
  from: string;
  to: string;
  /** MsgSeq; the server's per-sender counter when absent. */
  seq?: number;
  /** MsgRandom; a random uint32 when absent. */
  random?: number;
  body: MsgElement[];
  cloudCustomData?: string;
  /** The sender's clock (MsgClientTime), unix s; the server time when absent. */
  clientTime?: number;
  /** Deliver to connected clients only: not stored, not synced. */
  onlineOnly?: boolean;
  /** Also deliver to the sender's other sessions (SyncOtherMachine 1). */
  syncSender?: boolean;
}

/** A page of a user's C2C messages and the cookie to continue from. */
interface SyncPage {
  messages: C2CMessage[];
  /** The id of the last message returned (decimal), or the starting cursor when none was. */
  cookie: string;
  more: boolean;
}

/** One of a user's C2C conversations. */
export interface C2CConversation {
  peer: string;
  /** The last message exchanged, either way. */
  last: C2CMessage;
  /** Messages from the peer after the user's read mark. */
  unread: number;
  /** Up to when (unix s) the peer has read the user's messages; 0 when never. */
  peerReadTime: number;
}

/** Which page of a conversation's history `history` returns; `before*` and `after*` do not mix. */
interface HistoryQuery {
  /** Unix s: messages at or before it (without `beforeKey`); absent or 0: from the newest. */
  beforeTime?: number;
  /** MsgKey (`<seq>_<random>_<time>`) of the oldest message of the previous page: the messages before it. */
  beforeKey?: string;
  /** Unix s: messages after it (without `afterKey`): a page towards newer messages. */
  afterTime?: number;
  /** MsgKey of the newest message of the previous newer page: the messages after it. */
  afterKey?: string;
  limit: number;
}

/** A page of history, oldest first; `complete`: nothing lies beyond it in the direction paged. */
interface HistoryPage {
  messages: C2CMessage[];
  complete: boolean;
}

function fromRow(r: C2cRow): C2CMessage {
  return {
    id: Number(r.id),
    sdkAppId: Number(r.sdk_app_id),
    from: r.from_user,
    to: r.to_user,
    seq: Number(r.msg_seq),
    random: Number(r.msg_random),
    time: Number(r.msg_time),
    clientTime: Number(r.client_time),
    body: JSON.parse(r.body) as MsgElement[],
    cloudCustomData: r.cloud_custom_data,
    onlineOnly: false,
  };
}

/** `n` as an integer in min..max; `fallback` when it is not a finite number. */
function clamp(n: number | undefined, min: number, max: number, fallback: number): number {
  if (n === undefined || !Number.isFinite(n)) return fallback;
  return Math.min(Math.max(Math.trunc(n), min), max);
}

/** A time bound in unix s: a non-negative integer (absent stays absent). */
function timeArg(name: string, t: number | undefined): number | undefined {
  if (t === undefined) return undefined;
  if (!Number.isSafeInteger(t) || t < 0) throw new DomainError('INVALID_ARGUMENT', `${name} must be a non-negative integer (unix seconds)`, 'BAD_TIME');
  return t;
}

/** The parts of a MsgKey `<seq>_<random>_<time>`. */
function parseKey(key: string): { seq: number; random: number; time: number } {
  const m = /^(\d{1,10})_(\d{1,10})_(\d{1,12})$/.exec(key);
  if (!m) throw new DomainError('INVALID_ARGUMENT', `${JSON.stringify(key.slice(0, 40))} is not a MsgKey`, 'BAD_KEY');
  return { seq: Number(m[1]), random: Number(m[2]), time: Number(m[3]) };
}

/** Whether `n` is an integer in 0..4294967295. */
function isUint32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= UINT32_MAX;
}

/**
 * One-to-one Chat messages: every accepted message is stored before it is acknowledged, then published on the bus
 * for the gateways that hold the recipient's connections. Each user reads what was sent to them with a cursor (the
 * store id), kept per user as the last id delivered.
 */
export class MessagesService {
  /** `${sdkAppId}\n${from}` → the last default MsgSeq handed out. */
  private readonly counters = new Map<string, number>();
  private readonly seeding = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly accounts: AccountsService,
    private readonly bus: Bus,
  ) {}

  /** Sends a C2C message between two imported accounts: stored (unless online-only), then published on CHAT_TOPIC. */
  async sendC2C(s: SendC2C): Promise<C2CMessage> {
    const problem = bodyProblem(s.body);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem, 'BAD_BODY');
    if (messageTooLarge(s.body, s.cloudCustomData)) throw new DomainError('INVALID_ARGUMENT', `the message is larger than ${MAX_MESSAGE_BYTES} bytes`, 'BODY_TOO_LARGE');
    if (s.seq !== undefined && !isUint32(s.seq)) throw new DomainError('INVALID_ARGUMENT', 'MsgSeq must be an unsigned 32-bit integer');
    if (s.random !== undefined && !isUint32(s.random)) throw new DomainError('INVALID_ARGUMENT', 'MsgRandom must be an unsigned 32-bit integer');
    const have = await this.accounts.existing(s.sdkAppId, [s.from, s.to]);
    const missing = [s.from, s.to].filter((u) => !have.has(u));
    if (missing.length) throw new DomainError('INVALID_ARGUMENT', `accounts not imported: ${[...new Set(missing)].join(', ')}`, 'UNKNOWN_ACCOUNT');
    const time = Math.floor(Date.now() / 1000);
    const message: C2CMessage = {
      id: 0,
      sdkAppId: s.sdkAppId,
      from: s.from,
      to: s.to,
      seq: s.seq ?? (await this.nextSeq(s.sdkAppId, s.from)),
      random: s.random ?? randomInt(0, UINT32_MAX + 1),
      time,
      clientTime: s.clientTime ?? time,
      body: s.body,
      cloudCustomData: s.cloudCustomData ?? '',
      onlineOnly: s.onlineOnly ?? false,
    };
    if (!message.onlineOnly) {
      message.id = await this.store.chat.insertC2c({
        sdk_app_id: message.sdkAppId,
        from_user: message.from,
        to_user: message.to,
        msg_seq: message.seq,
        msg_random: message.random,
        msg_time: message.time,
        client_time: message.clientTime,
        body: JSON.stringify(message.body),
        cloud_custom_data: message.cloudCustomData,
      });
    }
    this.bus.publish(CHAT_TOPIC, { kind: 'c2c', message, syncSender: s.syncSender ?? false } satisfies ChatEvent);
    return message;
  }

  /**
   * Messages sent to `userId` after the cursor in `cookie` (a decimal id; '' = the user's delivered cursor), oldest
   * first, at most `limit`. When nothing is left after them (`more` false), the delivered cursor moves to the returned
   * cookie, so a client that starts again with '' gets only what came later.
   */
  async sync(sdkAppId: number, userId: string, cookie: string, limit = DEFAULT_SYNC_LIMIT): Promise<SyncPage> {
    if (cookie !== '' && !/^\d{1,15}$/.test(cookie)) throw new DomainError('INVALID_ARGUMENT', `cookie ${JSON.stringify(cookie)} is not a message cursor`, 'BAD_COOKIE');
    const n = Math.min(Math.max(Math.trunc(limit) || DEFAULT_SYNC_LIMIT, 1), MAX_SYNC_LIMIT);
    const start = cookie === '' ? await this.store.chat.cursor(sdkAppId, userId) : Number(cookie);
    const rows = await this.store.chat.c2cAfter(sdkAppId, userId, start, n + 1);
    const more = rows.length > n;
    const messages = rows.slice(0, n).map(fromRow);
    const last = messages.at(-1)?.id ?? start;
    if (!more) await this.store.chat.advanceCursor(sdkAppId, userId, last);
    return { messages, cookie: String(last), more };
  }

  /** Records that messages up to `id` reached the user (the cursor never moves backwards). */
  async delivered(sdkAppId: number, userId: string, id: number): Promise<void> {
    if (!Number.isSafeInteger(id) || id < 0) throw new DomainError('INVALID_ARGUMENT', 'a message id is a non-negative integer', 'BAD_COOKIE');
    await this.store.chat.advanceCursor(sdkAppId, userId, id);
  }

  /**
   * A user's C2C conversations, newest last message first: the peers they sent to or received from, each with that
   * last message, the messages from the peer after the user's read mark, and the peer's own read mark. `since` (unix
   * s) keeps only conversations whose last message is at or after it (an incremental listing).
   */
  async conversations(sdkAppId: number, userId: string, o: { limit: number; offset?: number; since?: number }): Promise<C2CConversation[]> {
    const limit = clamp(o.limit, 1, MAX_CONVERSATIONS_LIMIT, MAX_CONVERSATIONS_LIMIT);
    const offset = clamp(o.offset, 0, Number.MAX_SAFE_INTEGER, 0);
    const since = timeArg('since', o.since) ?? 0;
    const rows = await this.store.chat.c2cConversations(sdkAppId, userId, { since, offset, limit });
    if (rows.length === 0) return [];
    const peers = rows.map((r) => r.peer);
    const mine = new Map(peers.map((p) => [p, 0]));
    for (const m of await this.store.chat.readMarks(sdkAppId, [userId], peers)) mine.set(m.peer, m.time);
    const theirs = new Map((await this.store.chat.readMarks(sdkAppId, peers, [userId])).map((m) => [m.userId, m.time]));
    const unread = await this.store.chat.c2cUnread(sdkAppId, userId, mine);
    return rows.map((r) => ({ peer: r.peer, last: fromRow(r), unread: unread.get(r.peer) ?? 0, peerReadTime: theirs.get(r.peer) ?? 0 }));
  }

  /**
   * A page of the messages between `userId` and `peer`, oldest first. Towards older messages by default (from the
   * newest, or from `beforeKey`/`beforeTime`); towards newer ones with `afterKey`/`afterTime`. A key names the message
   * the previous page ended at; one that names no message of the pair counts as its time alone.
   */
  async history(sdkAppId: number, userId: string, peer: string, q: HistoryQuery): Promise<HistoryPage> {
    const newer = q.afterKey !== undefined || q.afterTime !== undefined;
    if (newer && (q.beforeKey !== undefined || q.beforeTime !== undefined)) throw new DomainError('INVALID_ARGUMENT', 'a history page goes before or after, not both', 'BAD_BOUND');
    const limit = clamp(q.limit, 1, MAX_HISTORY_LIMIT, MAX_HISTORY_LIMIT);
    const keyText = newer ? q.afterKey : q.beforeKey;
    let time = timeArg(newer ? 'afterTime' : 'beforeTime', newer ? q.afterTime : q.beforeTime);
    const bound: C2cBound = { older: !newer };
    if (keyText) {
      const key = parseKey(keyText);
      const row = await this.store.chat.c2cByKey(sdkAppId, userId, peer, key);
      if (row) bound.past = { time: Number(row.msg_time), id: Number(row.id) };
      else time ??= key.time;
    }
    // Older pages from time 0 start at the newest message.
    if (!bound.past && time !== undefined && (newer || time > 0)) bound.time = time;
    const rows = await this.store.chat.c2cBetween(sdkAppId, userId, peer, bound, limit + 1);
    const complete = rows.length <= limit;
    const messages = rows.slice(0, limit).map(fromRow);
    if (!newer) messages.reverse();
    return { messages, complete };
  }

  /**
   * Records that `userId` read the messages `peer` sent them up to `upToTime` (unix s; now when absent, and never
   * later than now); the mark never moves back. A peer that is not an account of the app is ignored (false).
   */
  async markRead(sdkAppId: number, userId: string, peer: string, upToTime?: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    const time = Math.min(timeArg('upToTime', upToTime) ?? now, now);
    if (!(await this.accounts.exists(sdkAppId, peer))) return false;
    await this.store.chat.advanceReadMark(sdkAppId, userId, peer, time);
    return true;
  }

  /** Up to when (unix s) each of `peers` has read the messages `userId` sent them, in the order given; 0 when never. */
  async peerReadTimes(sdkAppId: number, userId: string, peers: string[]): Promise<number[]> {
    const marks = await this.store.chat.readMarks(sdkAppId, [...new Set(peers)], [userId]);
    const by = new Map(marks.map((m) => [m.userId, m.time]));
    return peers.map((p) => by.get(p) ?? 0);
  }

  /** The sender's next default MsgSeq: one above the highest it has sent, wrapping within uint32 (never 0). */
  private async nextSeq(sdkAppId: number, from: string): Promise<number> {
    const key = userKey(sdkAppId, from);
    if (!this.counters.has(key)) {
      let seed = this.seeding.get(key);
      if (!seed) {
        seed = this.store.chat
          .maxC2cSeq(sdkAppId, from)
          .then((max) => {
            if (this.counters.has(key)) return;
            if (this.counters.size >= SEQ_COUNTERS) this.counters.delete(this.counters.keys().next().value!);
            this.counters.set(key, max);
          })
          .finally(() => this.seeding.delete(key));
        this.seeding.set(key, seed);
      }
      await seed;
    }
    const next = ((this.counters.get(key) ?? 0) % UINT32_MAX) + 1;
    this.counters.set(key, next);
    return next;
  }
}
