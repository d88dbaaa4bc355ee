import type { UserKey } from '../tenant-keys.ts';

/** Longest an answer is kept, ms: how long another node's change can go unseen here when its bus message is lost. */
export const KNOWN_FOR_MS = 30_000;

/**
 * Whether accounts exist, as last seen, each answer kept at most KNOWN_FOR_MS and at most `max` answers. Writes are
 * seen here at once (this node's) or by the bus (other nodes'); the age limit bounds how long an answer stays wrong
 * when a bus message never comes (a node killed before it told the others, Redis unreachable). Two generations: new
 * answers go to the current one, which becomes the previous one every half of KNOWN_FOR_MS (or when full), and
 * the previous one is dropped once its oldest answer could be KNOWN_FOR_MS old.
 */
export class KnownAccounts {
  private current = new Map<UserKey, boolean>();
  private previous = new Map<UserKey, boolean>();
  /** When the current generation began (its oldest answer is no older), and the previous one. */
  private currentSince = Date.now();
  private previousSince = this.currentSince;

  constructor(private readonly max: number) {}

  /** Whether the account exists, or undefined when not known. */
  get(key: UserKey): boolean | undefined {
    this.age();
    return this.current.get(key) ?? this.previous.get(key);
  }

  /** Records whether the account exists. */
  set(key: UserKey, imported: boolean): void {
    this.age();
    if (this.current.size >= this.max / 2) this.rotate(Date.now());
    this.current.set(key, imported);
    this.previous.delete(key);
  }

  /** Forgets what is known of the account. */
  delete(key: UserKey): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  private age(): void {
    const now = Date.now();
    if (now - this.currentSince >= KNOWN_FOR_MS / 2) this.rotate(now);
    if (now - this.previousSince >= KNOWN_FOR_MS) this.previous.clear();
  }

  private rotate(now: number): void {
    this.previous = this.current;
    this.previousSince = this.currentSince;
    this.current = new Map();
    this.currentSince = now;
  }
}
