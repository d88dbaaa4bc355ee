import type { Redis } from 'ioredis';

/** Where the accepted signature v1 Nonce + Timestamp pairs are remembered: this process, or Redis for several nodes. */
export interface Nonces {
  /** Records a pair at `nowSeconds`; false when it was already recorded and its timestamp is still in the window. */
  add(secretId: string, nonce: string, timestamp: number, nowSeconds: number): boolean | Promise<boolean>;
}

/**
 * The signature v1 Nonce + Timestamp pairs already accepted, per SecretId. Tencent's v1 signature page says the pair
 * "prevents replay" (https://cloud.tencent.com/document/api/1007/31325): a pair is remembered while its Timestamp is
 * still inside the signature window, and forgotten after, when the timestamp check refuses it anyway.
 */
export class NonceLog implements Nonces {
  /** `secretId \n timestamp \n nonce` → the last second (Unix) the pair can still be presented. */
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;

  constructor(private readonly windowSeconds: number) {}

  /** Pairs remembered now. */
  get size(): number {
    return this.seen.size;
  }

  /** Records a pair at `nowSeconds`; false when it was already recorded and its timestamp is still in the window. */
  add(secretId: string, nonce: string, timestamp: number, nowSeconds: number): boolean {
    this.sweep(nowSeconds);
    const key = `${secretId}\n${timestamp}\n${nonce}`;
    const until = this.seen.get(key);
    if (until !== undefined && until >= nowSeconds) return false;
    this.seen.set(key, timestamp + this.windowSeconds);
    return true;
  }

  /** Drops the pairs whose timestamp has left the window; at most once per tenth of a window, so the cost stays amortised. */
  private sweep(nowSeconds: number): void {
    if (nowSeconds < this.nextSweep) return;
    for (const [key, until] of this.seen) if (until < nowSeconds) this.seen.delete(key);
    this.nextSweep = nowSeconds + Math.max(1, Math.floor(this.windowSeconds / 10));
  }
}

/** The pairs in Redis (`trtcd:nonce:…`, SET NX expiring with the window), so a replay to another node is refused too. */
export class RedisNonceLog implements Nonces {
  constructor(
    private readonly redis: Redis,
    private readonly windowSeconds: number,
  ) {}

  /** Records a pair at `nowSeconds`; false when another request (on any node) recorded it while it is in the window. */
  async add(secretId: string, nonce: string, timestamp: number, nowSeconds: number): Promise<boolean> {
    const ttlMs = (timestamp + this.windowSeconds - nowSeconds + 1) * 1000;
    return (await this.redis.set(`trtcd:nonce:${secretId}:${timestamp}:${nonce}`, '1', 'PX', Math.max(1000, ttlMs), 'NX')) === 'OK';
  }
}
