import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { genUserSig } from '../../src/auth/usersig.ts';

/** A message as received. */
export type Msg = Record<string, unknown>;

/** A test client: every message it received, in order, and waiters for the next matching one. */
export class RtcTestClient {
  readonly ws: WebSocket;
  readonly inbox: Msg[] = [];
  private waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  private seq = 0;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.ws = new WebSocket(url.replace(/^http/, 'ws') + '/rtc');
    this.opened = new Promise((resolve, reject) => (this.ws.once('open', () => resolve()), this.ws.once('error', reject)));
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
    this.ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Msg;
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.inbox.push(m);
    });
  }

  /** The next message matching pred (already received or still to come). */
  next(pred: (m: Msg) => boolean, ms = 2000): Promise<Msg> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Msg) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching message in ${ms} ms; inbox ${JSON.stringify(this.inbox)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** The next event of a type, without its `seq` (checked to be a positive integer). */
  async event(type: string): Promise<Msg> {
    const { seq, ...rest } = await this.next((m) => m.type === type && m.re === undefined);
    assert.ok(Number.isSafeInteger(seq) && (seq as number) > 0, `event without seq: ${JSON.stringify(rest)}`);
    return rest;
  }

  /** Sends a request and resolves to its reply. */
  async request(type: string, body: Msg = {}): Promise<Msg> {
    await this.opened;
    const id = `r${++this.seq}`;
    this.ws.send(JSON.stringify({ v: 1, id, type, ...body }));
    return this.next((m) => m.re === id);
  }

  /** Closes and waits for the close handshake (a handshake still running while timers are mocked would leak a real timer). */
  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}


/** Opens a client and authenticates it with a fresh UserSig; fails the test unless auth succeeds. */
export async function rtcLogin(
  url: string,
  app: { sdkAppId: number; secretKey: string },
  userId: string,
  extra: Msg = {},
  opts: { expire?: number; sig?: string } = {},
): Promise<{ client: RtcTestClient; reply: Msg }> {
  const client = new RtcTestClient(url);
  const userSig = opts.sig ?? genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: opts.expire ?? 3600 });
  const reply = await client.request('auth', { sdkAppId: app.sdkAppId, userId, userSig, ...extra });
  assert.equal(reply.ok, true, JSON.stringify(reply));
  return { client, reply };
}

/** Resolves once `cond` holds, checking after each turn of the event loop (works while timers are mocked). */
export async function until(cond: () => boolean, turns = 10_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition not reached');
}
