import type { Bus } from '../../bus/bus.ts';

/** Imports or deletes of some accounts of one app, as the other nodes hear of them. */
export interface AccountsChanged {
  sdkAppId: number;
  userIds: string[];
  imported: boolean;
}

/** How long changes wait after a message was sent, at most, before the next one carries them, ms. */
export const CHANGES_EVERY_MS = 5;
/** Most UserIDs one message carries. */
const MAX_IDS_PER_MESSAGE = 1000;

/**
 * Tells the other nodes of account changes, in order, at most one round of messages every CHANGES_EVERY_MS: the first
 * change after a quiet spell goes out at once, those of the next few ms together after it. Under an import load that
 * is one bus message for many write batches instead of one each (each a Redis round trip and a wake of every node).
 * Consecutive changes of one app and kind are merged into one message.
 */
export class ChangeFeed {
  private queue: AccountsChanged[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly everyMs = CHANGES_EVERY_MS,
  ) {}

  /** Queues a change; sends it at once when nothing was sent in the last CHANGES_EVERY_MS. */
  push(sdkAppId: number, userIds: readonly string[], imported: boolean): void {
    const last = this.queue[this.queue.length - 1];
    if (last && last.sdkAppId === sdkAppId && last.imported === imported && last.userIds.length + userIds.length <= MAX_IDS_PER_MESSAGE) last.userIds.push(...userIds);
    else this.queue.push({ sdkAppId, userIds: [...userIds], imported });
    if (this.timer === undefined) this.send();
  }

  /** Sends what is queued now and stops waiting (when the node stops). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    this.queue = [];
    for (const c of queue) this.bus.publish(this.topic, c);
  }

  private send(): void {
    if (this.queue.length === 0) {
      this.timer = undefined;
      return;
    }
    this.flush();
    this.timer = setTimeout(() => this.send(), this.everyMs);
    this.timer.unref();
  }
}
