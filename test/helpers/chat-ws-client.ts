// A raw Chat-protocol WebSocket client (the framing of @tencentcloud/chat: binary JSON {head, body}; "COMP" + zlib
// from the server) for gateway tests that need to send what the SDK would not.
import { inflateSync } from 'node:zlib';
import WebSocket from 'ws';

/** A server frame, decoded. */
export interface ChatFrame {
  head: { servcmd: string; seq: number; [k: string]: unknown };
  body: Record<string, unknown>;
  compressed: boolean;
}

/** One socket to `<base>/chat/binfo`. */
export class ChatWsClient {
  readonly frames: ChatFrame[] = [];
  private seq = 1000;
  private waiters: Array<() => void> = [];
  closed: { code: number } | null = null;
  a2 = '';
  tinyId = '';

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const compressed = data.subarray(0, 4).toString() === 'COMP';
      const json = compressed ? inflateSync(data.subarray(4)).toString() : data.toString();
      this.frames.push({ ...(JSON.parse(json) as Omit<ChatFrame, 'compressed'>), compressed });
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', (code) => {
      this.closed = { code };
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** Opens a socket as the SDK does for `sdkAppId` (`compress=gzip` unless told otherwise). */
  static async open(baseUrl: string, sdkAppId: number | string, opts: { compress?: boolean; path?: string } = {}): Promise<ChatWsClient> {
    const q = `sdkappid=${sdkAppId}&instanceid=${'a'.repeat(32)}&random=0.5&platform=7&host=unknown&version=-1&sdkversion=3.6.6${opts.compress === false ? '' : '&compress=gzip'}`;
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${opts.path ?? '/chat/binfo'}?${q}`);
    await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
    return new ChatWsClient(ws);
  }

  /** Sends a request and waits for its reply's body. */
  async request(servcmd: string, body: unknown, head: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const seq = ++this.seq;
    this.sendRaw(Buffer.from(JSON.stringify({ head: { ver: 'v4', platform: 7, a2: this.a2 || undefined, tinyid: this.tinyId || undefined, servcmd, seq, ...head }, body })));
    return (await this.waitFor((f) => f.head.servcmd === servcmd && f.head.seq === seq)).body;
  }

  /** Logs in with a UserSig; keeps the ticket for later requests. */
  async login(userId: string, userSig: string): Promise<Record<string, unknown>> {
    const r = await this.request('im_open_status.wslogin', { State: 'Online' }, { identifier: userId, usersig: userSig, a2: undefined, tinyid: undefined });
    if (r.ErrorCode === 0) ({ A2Key: this.a2, TinyId: this.tinyId } = r as { A2Key: string; TinyId: string });
    return r;
  }

  sendRaw(data: Buffer | string, binary = true): void {
    this.ws.send(data, { binary });
  }

  /** Waits (≤ 5 s) for a frame matching `pred`. */
  async waitFor(pred: (f: ChatFrame) => boolean, ms = 5000): Promise<ChatFrame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) throw new Error(`socket closed ${this.closed.code} before the frame came`);
      if (Date.now() > deadline) throw new Error('no such frame within the time');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Waits for the socket to close; its code. */
  async waitClosed(ms = 5000): Promise<number> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed.code;
  }

  close(): void {
    this.ws.close();
  }
}
