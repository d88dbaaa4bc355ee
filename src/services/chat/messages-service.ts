import { randomInt } from 'node:crypto';
import type { Bus } from '../../bus/bus.ts';
import type { C2cRow } from '../../store/chat-repo.ts';
import type { Store } from '../../store/store.ts';
import type { AccountsService } from '../accounts/accounts-service.ts';
import { DomainError } from '../errors.ts';
import { bodyProblem, CHAT_TOPIC, MAX_MESSAGE_BYTES, messageTooLarge, type C2CMessage, type ChatEvent, type MsgElement } from './message.ts';

/** Messages one sync call returns when the caller names no limit. */
export const DEFAULT_SYNC_LIMIT = 20;
/** Most messages one sync call returns. */
export const MAX_SYNC_LIMIT = 100;
/** Senders whose default-MsgSeq counter is kept in memory (others are read again from the store). */
export const SEQ_COUNTERS = 100_000;

const UINT32_MAX = 0xffffffff;

/** What `sendC2C` needs. */
export interface SendC2C {
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
export interface SyncPage {
  messages: C2CMessage[];
  /** The id of the last message returned (decimal), or the starting cursor when none was. */
  cookie: string;
  more: boolean;
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

  /** The sender's next default MsgSeq: one above the highest it has sent, wrapping within uint32 (never 0). */
  private async nextSeq(sdkAppId: number, from: string): Promise<number> {
    const key = `${sdkAppId}\n${from}`;
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
