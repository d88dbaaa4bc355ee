import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { InProcessBus, type Bus, type BusHandler } from './bus.ts';
import { DEFAULT_REDIS_TIMEOUT_MS } from './coordination.ts';
import { redactedUrl } from '../redacted-url.ts';

/** Prefix of the Redis pub/sub channels of the bus: one channel per topic. */
const BUS_CHANNEL_PREFIX = 'trtcd:bus:';

interface Envelope {
  /** The publishing node: a node ignores its own messages (it delivered them locally already). */
  n: string;
  p: unknown;
}

/**
 * A bus across nodes over Redis pub/sub. A publish is delivered to this node's subscribers at once (synchronously,
 * as the in-process bus does) and sent to the other nodes, which deliver it in the order it was published.
 */
export class RedisBus implements Bus {
  /** This node's id on the bus. */
  readonly nodeId = randomUUID();
  private readonly local = new InProcessBus();

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly log: Logger,
  ) {
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => this.receive(channel, message));
  }

  /**
   * Connects to Redis and starts listening to the other nodes; fails (naming Redis) when Redis cannot be reached
   * within `timeoutMs`. Afterwards a command fails at once while Redis is unreachable, and after `timeoutMs` when it
   * does not answer: nothing waits in a queue to be applied after its request has been answered with an error.
   */
  static async connect(url: string, log: Logger, timeoutMs = DEFAULT_REDIS_TIMEOUT_MS): Promise<RedisBus> {
    const opts = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: timeoutMs, connectTimeout: timeoutMs };
    const pub = new Redis(url, opts);
    const sub = new Redis(url, opts);
    let down = false;
    let lastError: unknown;
    for (const r of [pub, sub]) {
      r.on('error', (err: unknown) => {
        lastError = err;
        if (!down) log.error({ err }, 'redis unreachable');
        down = true;
      });
      r.on('ready', () => {
        if (down) log.info('redis reachable again');
        down = false;
      });
    }
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      await sub.psubscribe(`${BUS_CHANNEL_PREFIX}*`);
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      const why = lastError ?? err;
      throw new Error(`cannot connect to Redis at ${redactedUrl(url)}: ${why instanceof Error ? why.message : String(why)}`, { cause: err });
    }
    return new RedisBus(pub, sub, log);
  }

  /** Whether Redis answers a PING within the command timeout. */
  async ping(): Promise<void> {
    await this.pub.ping();
  }

  /** Delivers `payload` here at once and to every other node. */
  publish(topic: string, payload: unknown): void {
    this.local.publish(topic, payload);
    const message = JSON.stringify({ n: this.nodeId, p: payload } satisfies Envelope);
    this.pub.publish(BUS_CHANNEL_PREFIX + topic, message).catch((err: unknown) => this.log.error({ err, topic }, 'redis bus publish failed'));
  }

  /** Subscribes to a topic (events of every node); returns the function that unsubscribes. */
  subscribe(topic: string, handler: BusHandler): () => void {
    return this.local.subscribe(topic, handler);
  }

  /** The Redis connection for commands (rate limits, leases, presence). */
  get redis(): Redis {
    return this.pub;
  }

  /** Stops listening and closes both connections. */
  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }

  private receive(channel: string, message: string): void {
    let e: Envelope;
    try {
      e = JSON.parse(message) as Envelope;
    } catch {
      return this.log.warn({ channel }, 'redis bus: unreadable message');
    }
    if (e.n === this.nodeId) return;
    try {
      this.local.deliverRemote(channel.slice(BUS_CHANNEL_PREFIX.length), e.p);
    } catch (err) {
      this.log.error({ err, channel }, 'redis bus subscriber failed');
    }
  }
}
