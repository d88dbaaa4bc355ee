import { EventEmitter } from 'node:events';

/** A bus subscriber: `remote` is true for events published by another node. */
export type BusHandler = (payload: unknown, remote: boolean) => void;

/** Events between services and nodes: call state changes, gifts, room membership. */
export interface Bus {
  /** Delivers `payload` to every subscriber of `topic` (on every node). */
  publish(topic: string, payload: unknown): void;
  /** Subscribes to a topic; returns the function that unsubscribes. */
  subscribe(topic: string, handler: BusHandler): () => void;
}

/** A bus within this process. */
export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  /** Delivers `payload` to every subscriber of `topic`, synchronously. */
  publish(topic: string, payload: unknown): void {
    this.emitter.emit(topic, payload, false);
  }

  /** Delivers an event that another node published. */
  deliverRemote(topic: string, payload: unknown): void {
    this.emitter.emit(topic, payload, true);
  }

  /** Subscribes to a topic; returns the function that unsubscribes. */
  subscribe(topic: string, handler: BusHandler): () => void {
    this.emitter.on(topic, handler);
    return () => this.emitter.off(topic, handler);
  }
}
