// The one shape of the long-lived parts of a running server (the services, the callback dispatcher, the console's
// event list): a part subscribes to the bus, loads its state and starts its timers in start(), never in its
// constructor, and undoes that in stop(). The composition root (server.ts) starts them in order and stops them in
// reverse.

/**
 * A long-lived part: start() after the parts it uses, stop() before them; both safe to repeat. A part with nothing to
 * start up front (media workers start with the first packet that needs one) has only stop().
 */
interface Lifecycle {
  start?(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** The started parts of a server, stopped last first. */
export class Lifecycles {
  private readonly started: Lifecycle[] = [];

  /** Starts a part (the ones started before it are running) and returns it. */
  async start<T extends Lifecycle>(part: T): Promise<T> {
    await part.start?.();
    this.started.push(part);
    return part;
  }

  /** Stops every started part in reverse order; safe to repeat. */
  async stop(): Promise<void> {
    for (let part = this.started.pop(); part; part = this.started.pop()) await part.stop();
  }
}
