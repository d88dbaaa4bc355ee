import { WebSocket } from 'ws';
import { genUserSig } from '../../src/auth/usersig.ts';

/** A server frame as received. */
export type SdkFrame = { cmd: number; code: number; message: string; seq: number; tinyId?: string; data: Record<string, unknown> };

/** A client of /v2/ws that speaks like trtc-sdk-v5: `{cmd, data, userId, tinyId?, seq}` with seq counting from 1. */
export class SdkWsClient {
  readonly ws: WebSocket;
  /** Every frame received and not yet taken by `next`, in order. */
  readonly inbox: SdkFrame[] = [];
  /** Every frame received, in order (never emptied). */
  readonly all: SdkFrame[] = [];
  /** Frames that were not JSON objects with a numeric cmd (the SDK would throw on them). */
  readonly bad: string[] = [];
  tinyId: string | undefined;
  private waiters: Array<{ pred: (m: SdkFrame) => boolean; resolve: (m: SdkFrame) => void }> = [];
  private seq = 0;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;

  constructor(
    base: string,
    readonly sdkAppId: number,
    readonly userId: string,
    readonly userSig: string,
  ) {
    const q = new URLSearchParams({ sdkAppId: String(sdkAppId), userId, userSig, keepAlive: '0', race: '1' });
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/v2/ws?${q.toString()}`);
    this.opened = new Promise((resolve, reject) => (this.ws.once('open', () => resolve()), this.ws.once('error', reject)));
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => resolve(code)));
    this.ws.on('message', (data, isBinary) => {
      let m: unknown;
      try {
        m = isBinary ? undefined : JSON.parse(String(data));
      } catch {
        m = undefined;
      }
      if (m === null || typeof m !== 'object' || Array.isArray(m) || typeof (m as SdkFrame).cmd !== 'number') {
        this.bad.push(String(data));
        return;
      }
      const f = m as SdkFrame;
      this.all.push(f);
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(f);
      else this.inbox.push(f);
    });
  }

  /** The next frame matching pred (already received or still to come). */
  next(pred: (m: SdkFrame) => boolean, ms = 3000): Promise<SdkFrame> {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: SdkFrame) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.userId}: no matching frame in ${ms} ms; inbox ${JSON.stringify(this.inbox).slice(0, 2000)}`));
      }, ms);
      this.waiters.push(w);
    });
  }

  /** The next push (seq 0) of a command number. */
  push(cmd: number, pred: (m: SdkFrame) => boolean = () => true, ms?: number): Promise<SdkFrame> {
    return this.next((m) => m.cmd === cmd && m.seq === 0 && pred(m), ms);
  }

  /** Whether no frame matching pred arrives within ms (and none is in the inbox). */
  async none(pred: (m: SdkFrame) => boolean, ms = 200): Promise<boolean> {
    return this.next(pred, ms).then(
      () => false,
      () => true,
    );
  }

  /** Sends a command as the SDK does; returns its seq. */
  async send(cmd: string, data: unknown = {}): Promise<number> {
    await this.opened;
    const seq = ++this.seq;
    this.ws.send(JSON.stringify({ cmd, data, userId: this.userId, tinyId: this.tinyId, seq }));
    return seq;
  }

  /** Sends a command and resolves to its reply, matched by (reply command number, seq). */
  async request(cmd: string, reply: number, data: unknown = {}, ms?: number): Promise<SdkFrame> {
    const seq = await this.send(cmd, data);
    return this.next((m) => m.cmd === reply && m.seq === seq, ms);
  }

  /** MPC `join` (no ability, so no media): resolves to cmd 20 and keeps the tinyId of a success. */
  async join(roomId: number | string, extra: Record<string, unknown> = {}): Promise<SdkFrame> {
    const r = await this.request('join', 20, { roomId: String(roomId), useStringRoomId: typeof roomId === 'string' && !/^\d+$/.test(roomId), trtcRole: 20, trtcScene: 1, version: '5.15.1.1701', terminalType: 13, netType: 0, userSig: this.userSig, ...extra });
    if (r.code === 0) this.tinyId = r.tinyId;
    return r;
  }

  /** Closes and waits for the close handshake. */
  close(): Promise<number> {
    this.ws.close(1000);
    return this.closed;
  }
}

/** Opens an SDK client with a fresh UserSig for the app (or the given one). */
export function sdkClient(base: string, app: { sdkAppId: number; secretKey: string }, userId: string, sig?: string): SdkWsClient {
  return new SdkWsClient(base, app.sdkAppId, userId, sig ?? genUserSig({ sdkAppId: app.sdkAppId, secretKey: app.secretKey, userId, expire: 3600 }));
}
