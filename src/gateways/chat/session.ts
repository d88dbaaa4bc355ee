import type { WebSocket } from 'ws';
import { encodeFrame } from './frames.ts';

/** One Chat SDK instance: a WebSocket and, once `im_open_status.wslogin` succeeded, its user. */
export class ChatSession {
  userId = '';
  tinyId = '';
  /** InstId of the login reply; 0 until logged in. */
  instId = 0;
  a2 = '';
  /** Unix seconds when the login's UserSig expires. */
  expiresAt = 0;
  loggedInAt = 0;
  /** The app's package as announced at login (fetch_imsdk_purchase_bitsv2 answers the same). */
  purchaseBits = '';

  constructor(
    readonly ws: WebSocket,
    /** SDKAppID from the URL (`sdkappid=`); the login may not change it. */
    readonly sdkAppId: number,
    readonly compress: boolean,
    readonly ip: string | undefined,
    private readonly nextPushSeq: () => number,
  ) {}

  get loggedIn(): boolean {
    return this.instId !== 0;
  }

  /** Sends the reply to a request. */
  reply(servcmd: string, seq: number, body: unknown): void {
    this.write(encodeFrame({ servcmd, seq, sdkappid: this.sdkAppId }, body, this.compress));
  }

  /** Sends a push (a frame no request waits for). */
  push(servcmd: string, body: unknown): void {
    this.write(encodeFrame({ servcmd, seq: this.nextPushSeq(), sdkappid: this.sdkAppId }, body, this.compress));
  }

  private write(bytes: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(bytes, { binary: true });
  }
}
