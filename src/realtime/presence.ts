import type { Redis } from 'ioredis';
import type { RtcSession } from './session.ts';

/** A session's presence entry lives this long in Redis unless its node refreshes it, ms. */
const PRESENCE_TTL_MS = 60_000;
/** How often a node refreshes the presence of its sessions, ms. */
const PRESENCE_REFRESH_MS = 20_000;

/** Who is logged in across the nodes: each node adds and removes its own sessions. */
export interface Presence {
  add(s: RtcSession): void;
  remove(s: RtcSession): void;
  /** Whether the user has a session on any node. */
  online(sdkAppId: number, userId: string): Promise<boolean>;
  /** Starts refreshing this node's entries. */
  start(): void;
  close(): void;
}

/**
 * Presence in Redis with expiry: one sorted set per user (`trtcd:presence:<sdkAppId>:<userId>`) of sessions
 * (session ids) scored by when they expire. A node refreshes its sessions every PRESENCE_REFRESH_MS, so the sessions of a node that
 * died drop out after PRESENCE_TTL_MS.
 */
export class RedisPresence implements Presence {
  private readonly mine = new Set<RtcSession>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis) {}

  start(): void {
    this.timer ??= setInterval(() => this.refresh(), PRESENCE_REFRESH_MS);
    this.timer.unref?.();
  }

  add(s: RtcSession): void {
    this.mine.add(s);
    void this.redis.zadd(key(s.sdkAppId, s.userId), Date.now() + PRESENCE_TTL_MS, s.id).catch(() => undefined);
  }

  remove(s: RtcSession): void {
    this.mine.delete(s);
    void this.redis.zrem(key(s.sdkAppId, s.userId), s.id).catch(() => undefined);
  }

  async online(sdkAppId: number, userId: string): Promise<boolean> {
    return (await this.redis.zcount(key(sdkAppId, userId), Date.now(), '+inf')) > 0;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private refresh(): void {
    if (this.mine.size === 0) return;
    const p = this.redis.pipeline();
    const until = Date.now() + PRESENCE_TTL_MS;
    for (const s of this.mine) {
      const k = key(s.sdkAppId, s.userId);
      p.zadd(k, until, s.id);
      p.zremrangebyscore(k, '-inf', Date.now());
      p.pexpire(k, PRESENCE_TTL_MS);
    }
    void p.exec().catch(() => undefined);
  }
}

function key(sdkAppId: number, userId: string): string {
  return `trtcd:presence:${sdkAppId}:${userId}`;
}
