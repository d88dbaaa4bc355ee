import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TIMED_OUT, within } from '../deadline.ts';

/** How a service makes one change at a time when other nodes may change the same thing. */
export interface Coordination {
  /** Whether other nodes share the store: state must be read again from the store under the lock before a change. */
  readonly shared: boolean;
  /** Runs `fn` while holding the cluster-wide lock `key`. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` holding the lease `key` for up to `ttlMs` if no other node holds it; false when one does. */
  tryLease(key: string, ttlMs: number, fn: () => Promise<void>): Promise<boolean>;
}

/** One node: the services' own in-process queues are enough. */
export const SINGLE_NODE: Coordination = {
  shared: false,
  withLock: (_key, fn) => fn(),
  tryLease: async (_key, _ttl, fn) => (await fn(), true),
};

/** How long a lock is held at most if its holder dies, ms. */
const LOCK_TTL_MS = 5000;
/** How long a change waits for its lock (Redis unreachable, or another node holding it) before it fails, ms. */
export const DEFAULT_REDIS_TIMEOUT_MS = 2000;

// Deletes the lock only if this holder still owns it.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** A change could not be coordinated with the other nodes in time (Redis unreachable or slow, or the lock held). */
class CoordinationTimeout extends Error {
  override name = 'CoordinationTimeout';
}

/** Locks in Redis (SET NX PX, released by a compare-and-delete script): several nodes on one store. */
export class RedisCoordination implements Coordination {
  readonly shared = true;

  constructor(
    private readonly redis: Redis,
    private readonly timeoutMs = DEFAULT_REDIS_TIMEOUT_MS,
  ) {}

  /**
   * Runs `fn` while holding `trtcd:lock:<key>`, waiting up to the timeout for it. A change whose lock was not had in
   * time fails and is never applied later: a lock granted after the wait gave up is released, not used.
   */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const k = `trtcd:lock:${key}`;
    const token = randomBytes(12).toString('base64url');
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      let got: string | null | typeof TIMED_OUT;
      try {
        got = await within(this.redis.set(k, token, 'PX', LOCK_TTL_MS, 'NX'), deadline - Date.now());
      } catch (err) {
        this.abandon(k, token);
        throw err;
      }
      if (got === 'OK') break;
      if (got === TIMED_OUT) this.abandon(k, token);
      if (got === TIMED_OUT || Date.now() + delay > deadline) throw new CoordinationTimeout(`lock ${key} not acquired within ${this.timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, k, token).catch(() => undefined);
    }
  }

  /**
   * Gives up a lock request that got no answer: Redis may still grant it (a stalled server works through what waits
   * on the connection), and this release, sent after it on the same connection, frees it then instead of after the TTL.
   */
  private abandon(k: string, token: string): void {
    this.redis.eval(RELEASE, 1, k, token).catch(() => undefined);
  }

  /** Runs `fn` holding `trtcd:lease:<key>` (SET NX PX ttlMs) unless another node holds it. */
  async tryLease(key: string, ttlMs: number, fn: () => Promise<void>): Promise<boolean> {
    const k = `trtcd:lease:${key}`;
    const token = randomBytes(12).toString('base64url');
    if ((await this.redis.set(k, token, 'PX', ttlMs, 'NX')) !== 'OK') return false;
    try {
      await fn();
      return true;
    } finally {
      await this.redis.eval(RELEASE, 1, k, token).catch(() => undefined);
    }
  }
}
