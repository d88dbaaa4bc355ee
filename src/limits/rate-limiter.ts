import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A fixed-window counter per (bucket, key): the published limits are "N calls per S seconds". */
export interface RateLimiter {
  /** Takes one call from the window; false when the window is already full. */
  consume(bucket: string, key: string, points: number, seconds: number): Promise<boolean>;
}

/** Fixed windows from rate-limiter-flexible, one limiter per (bucket, limit), made by `make`. */
class WindowLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(
    private readonly prefix: string,
    private readonly make: (o: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract,
  ) {}

  /** Takes one call from the window; false when the window is already full. */
  async consume(bucket: string, key: string, points: number, seconds: number): Promise<boolean> {
    const id = `${this.prefix}${bucket}:${points}/${seconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) this.limiters.set(id, (limiter = this.make({ keyPrefix: id, points, duration: seconds })));
    try {
      await limiter.consume(key);
      return true;
    } catch (e) {
      if (e instanceof RateLimiterRes) return false;
      throw e;
    }
  }
}

/** Rate limits kept in this process's memory (one node). */
export class MemoryRateLimiter extends WindowLimiter {
  constructor() {
    super('', (o) => new RateLimiterMemory(o));
  }
}

/** Rate limits kept in Redis: the published limits hold across every node of a cluster. */
export class RedisRateLimiter extends WindowLimiter {
  constructor(redis: Redis) {
    super('trtcd:rl:', (o) => new RateLimiterRedis({ storeClient: redis, ...o }));
  }
}
