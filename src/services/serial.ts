/**
 * Runs async tasks one at a time in the order they were queued: a service's read-check-write steps (busy checks,
 * unique ids, in-memory state written through to the store) never interleave. A failed task does not stop the next.
 */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `fn` after every task queued before it; resolves or rejects with its result. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A Serial per app: one app's tasks run one at a time in order, and no app waits for another's. */
export class SerialPerApp {
  private readonly queues = new Map<number, { serial: Serial; queued: number }>();

  /** Queues `fn` after every task of `sdkAppId` queued before it; resolves or rejects with its result. */
  run<T>(sdkAppId: number, fn: () => Promise<T>): Promise<T> {
    let q = this.queues.get(sdkAppId);
    if (!q) this.queues.set(sdkAppId, (q = { serial: new Serial(), queued: 0 }));
    const queue = q;
    queue.queued++;
    return queue.serial.run(fn).finally(() => {
      // An app with nothing queued keeps no queue.
      if (--queue.queued === 0) this.queues.delete(sdkAppId);
    });
  }

  /** Apps with a task queued or running. */
  get size(): number {
    return this.queues.size;
  }
}
