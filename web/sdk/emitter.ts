// A small typed event emitter that runs in browsers and Node alike.

/** A listener of event K of map E. */
export type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/** Typed on/off/once/emit over an event map; a listener that throws does not stop the others. */
export class Emitter<E> {
  private readonly listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(name: K, fn: Listener<E, K>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<E, keyof E>);
    return () => this.off(name, fn);
  }

  /** Removes a listener added with on() or once(). */
  off<K extends keyof E>(name: K, fn: Listener<E, K>): void {
    const set = this.listeners.get(name);
    if (!set) return;
    set.delete(fn as Listener<E, keyof E>);
    for (const w of set) if ((w as { inner?: unknown }).inner === fn) set.delete(w);
  }

  /** Adds a listener that runs once; returns a function that removes it. */
  once<K extends keyof E>(name: K, fn: Listener<E, K>): () => void {
    const wrapper = Object.assign((payload: E[K]) => (this.off(name, wrapper), fn(payload)), { inner: fn });
    return this.on(name, wrapper);
  }

  /** Calls every listener of `name` in the order they were added. */
  protected emit<K extends keyof E>(name: K, payload: E[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(payload);
      } catch (err) {
        // A broken listener must not break the client's event stream; surface it asynchronously like the DOM does.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
