import { EventEmitter } from 'node:events';

/** Events between services (and, later, nodes): call state changes, gifts, room membership. */
export interface Bus {
  /** Delivers `payload` to every subscriber of `topic`. */
  publish(topic: string, payload: unknown): void;
  /** Subscribes to a topic; returns the function that unsubscribes. */
  subscribe(topic: string, handler: (payload: unknown) => void): () => void;
}

/** A bus within this process. */
export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /** Delivers `payload` to every subscriber of `topic`, synchronously. */
  publish(topic: string, payload: unknown): void {
    this.emitter.emit(topic, payload);
  }

  /** Subscribes to a topic; returns the function that unsubscribes. */
  subscribe(topic: string, handler: (payload: unknown) => void): () => void {
    this.emitter.on(topic, handler);
    return () => this.emitter.off(topic, handler);
  }
}
