import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

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
export const LOCK_TTL_MS = 5000;
/** How long a change waits for a lock before it fails, ms. */
export const LOCK_WAIT_MS = 10_000;

// Deletes the lock only if this holder still owns it.
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Locks in Redis (SET NX PX, released by a compare-and-delete script): several nodes on one store. */
export class RedisCoordination implements Coordination {
  readonly shared = true;

  constructor(private readonly redis: Redis) {}

  /** Runs `fn` while holding `trtcd:lock:<key>`, waiting up to LOCK_WAIT_MS for it. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const k = `trtcd:lock:${key}`;
    const token = randomBytes(12).toString('base64url');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if ((await this.redis.set(k, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') break;
      if (Date.now() > deadline) throw new Error(`lock ${key} not acquired in ${LOCK_WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
    try {
      return await fn();
    } finally {
      await this.redis.eval(RELEASE, 1, k, token).catch(() => undefined);
    }
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
