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
