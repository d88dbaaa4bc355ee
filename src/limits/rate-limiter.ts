import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** A fixed-window counter per (bucket, key): the published limits are "N calls per S seconds". */
export interface RateLimiter {
  /** Takes one call from the window; false when the window is already full. */
  consume(bucket: string, key: string, points: number, seconds: number): Promise<boolean>;
}

/** Rate limits kept in this process's memory (one node). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterMemory>();

  /** Takes one call from the window; false when the window is already full. */
  async consume(bucket: string, key: string, points: number, seconds: number): Promise<boolean> {
    const id = `${bucket}:${points}/${seconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterMemory({ keyPrefix: id, points, duration: seconds });
      this.limiters.set(id, limiter);
    }
    try {
      await limiter.consume(key);
      return true;
    } catch (e) {
      if (e instanceof RateLimiterRes) return false;
      throw e;
    }
  }
}

/** Rate limits kept in Redis: the published limits hold across every node of a cluster. */
export class RedisRateLimiter implements RateLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly redis: Redis) {}

  /** Takes one call from the window shared by all nodes; false when the window is already full. */
  async consume(bucket: string, key: string, points: number, seconds: number): Promise<boolean> {
    const id = `trtcd:rl:${bucket}:${points}/${seconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({ storeClient: this.redis, keyPrefix: id, points, duration: seconds });
      this.limiters.set(id, limiter);
    }
    try {
      await limiter.consume(key);
      return true;
    } catch (e) {
      if (e instanceof RateLimiterRes) return false;
      throw e;
    }
  }
}
