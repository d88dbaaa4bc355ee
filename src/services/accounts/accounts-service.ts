import type { Bus } from '../../bus/bus.ts';
import type { AccountInput } from '../../store/accounts-repo.ts';
import type { Store } from '../../store/store.ts';
import type { AppsService } from '../apps/apps-service.ts';
import { Batcher, type ItemOutcome } from '../batcher.ts';
import { DomainError } from '../errors.ts';
import { userKey } from '../tenant-keys.ts';
import { ChangeFeed, type AccountsChanged } from './change-feed.ts';
import { KnownAccounts } from './known-accounts.ts';

/** Most accounts one batch call may carry (multiaccount_import, account_delete, account_check). */
const MAX_BATCH = 100;
/** Longest UserID, in UTF-8 bytes. */
export const MAX_USER_ID_BYTES = 32;
/** Longest profile field (Nick, FaceUrl), in UTF-8 bytes. */
const MAX_PROFILE_FIELD_BYTES = 500;

// Control characters cannot appear in a UserID; everything else up to 32 bytes is accepted (see docs/compatibility.md).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x1f\x7f]/;

/** Why a UserID is unacceptable, or null if it is fine. */
export function userIdProblem(userId: string): string | null {
  if (userId.length === 0) return 'UserID is empty';
  if (Buffer.byteLength(userId) > MAX_USER_ID_BYTES) return `UserID "${userId}" is longer than ${MAX_USER_ID_BYTES} bytes`;
  if (CONTROL.test(userId)) return 'UserID contains a control character';
  return null;
}

/** Which profile field (Nick, FaceUrl) is over 500 bytes, or null. */
function profileProblem(a: AccountInput): string | null {
  for (const [name, v] of [['Nick', a.nick], ['FaceUrl', a.faceUrl]] as const) {
    if (v !== undefined && Buffer.byteLength(v) > MAX_PROFILE_FIELD_BYTES) return `${name} is longer than ${MAX_PROFILE_FIELD_BYTES} bytes`;
  }
  return null;
}

function checkProfile(a: AccountInput): void {
  const problem = profileProblem(a);
  if (problem) throw new DomainError('INVALID_ARGUMENT', problem, 'PROFILE_FIELD_TOO_LONG');
}

function checkBatch(n: number): void {
  if (n === 0) throw new DomainError('INVALID_ARGUMENT', 'the account list is empty');
  if (n > MAX_BATCH) throw new DomainError('INVALID_ARGUMENT', `at most ${MAX_BATCH} accounts per call, got ${n}`);
}

/** How many account existence answers are kept in memory. */
const KNOWN_ACCOUNTS_CACHE = 200_000;

/** Bus topic of account imports and deletes, for other nodes' existence caches. */
const ACCOUNTS_TOPIC = 'accounts.changed';

/**
 * Imported accounts (UserIDs) of each app: import, delete, check. Existence is cached in memory, written through on
 * every import and delete made by this process, and updated from the bus for those of other nodes: stale there for
 * the bus's delay and up to CHANGES_EVERY_MS more, or up to KNOWN_FOR_MS when a bus message is lost.
 */
export class AccountsService {
  private readonly known = new KnownAccounts(KNOWN_ACCOUNTS_CACHE);
  private readonly changes: ChangeFeed | undefined;
  /** Single imports, batched; batches without an account limit are independent upserts, as many in flight as the store gains from. */
  private readonly imports: Batcher<{ sdkAppId: number; account: AccountInput }, void>;
  /** Bumped by every write, so a read that raced with a write does not cache what it saw. */
  private writes = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Store,
    private readonly apps: AppsService,
    private readonly bus?: Bus,
  ) {
    this.imports = new Batcher((items) => this.importBatch(items), undefined, store.parallelWrites);
    this.changes = bus && new ChangeFeed(bus, ACCOUNTS_TOPIC);
  }

  /** Follows the imports and deletes made on other nodes. */
  start(): void {
    this.unsubscribe ??= this.bus?.subscribe(ACCOUNTS_TOPIC, (p, remote) => {
      if (!remote) return;
      const e = p as AccountsChanged;
      this.writes++;
      this.remember(e.sdkAppId, e.userIds, e.imported);
    });
  }

  /** Stops following other nodes. */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.changes?.flush();
  }

  /** Records what this node wrote and tells the other nodes. */
  private wrote(sdkAppId: number, userIds: string[], imported: boolean): void {
    this.remember(sdkAppId, userIds, imported);
    this.changes?.push(sdkAppId, userIds, imported);
  }

  /**
   * Imports one account; importing it again updates the profile fields given. Imports made while others are being
   * written are written together, in one transaction and one statement per app (see `importBatch`).
   */
  async importOne(sdkAppId: number, account: AccountInput): Promise<void> {
    const problem = userIdProblem(account.userId);
    if (problem) throw new DomainError('INVALID_ARGUMENT', problem);
    checkProfile(account);
    this.writes++;
    await this.imports.run({ sdkAppId, account });
  }

  /**
   * Writes a batch of single imports: each app's account limit is checked in order, the accepted ones written at once.
   * Without a limit no transaction is needed (on PostgreSQL that saves BEGIN and COMMIT, two of three round trips):
   * an upsert is idempotent and each statement commits by itself, and every reply still waits for that commit.
   */
  private async importBatch(items: Array<{ sdkAppId: number; account: AccountInput }>): Promise<Array<ItemOutcome<void>>> {
    const outcomes: Array<ItemOutcome<void>> = items.map(() => ({ ok: true, value: undefined }));
    const write = async (tx: Pick<Store, 'accounts'>) => {
      for (const sdkAppId of new Set(items.map((i) => i.sdkAppId))) {
        const mine = items.flatMap((item, i) => (item.sdkAppId === sdkAppId ? [i] : []));
        const room = await this.room(tx, sdkAppId, mine.map((i) => items[i]!.account.userId));
        const accepted = mine.filter((i) => room.has(items[i]!.account.userId));
        for (const i of mine) if (!room.has(items[i]!.account.userId)) outcomes[i] = { ok: false, err: new DomainError('LIMIT_EXCEEDED', 'the app has reached its account limit', 'ACCOUNT_LIMIT') };
        if (accepted.length) await tx.accounts.upsert(sdkAppId, accepted.map((i) => items[i]!.account));
      }
    };
    if (!items.every((i) => this.limitOf(i.sdkAppId) === 0)) await this.store.transaction(write);
    else {
      await write(this.store).catch((err: unknown) => {
        // Some of the batch may be written: what the cache knows of these accounts is no longer sure.
        for (const i of items) this.known.delete(userKey(i.sdkAppId, i.account.userId));
        throw err;
      });
    }
    // One cache update and one change for the other nodes per app for the whole batch, once it is durable.
    for (const sdkAppId of new Set(items.map((i) => i.sdkAppId))) {
      const done = items.filter((item, i) => item.sdkAppId === sdkAppId && outcomes[i]!.ok).map((item) => item.account.userId);
      if (done.length) this.wrote(sdkAppId, done, true);
    }
    return outcomes;
  }

  /**
   * Imports up to 100 accounts; returns the UserIDs that could not be imported: a bad UserID, a profile field over
   * 500 bytes (multiaccount_import's error table has no 40601, https://trtc.io/document/34954), no room left.
   */
  async importMany(sdkAppId: number, accounts: AccountInput[]): Promise<{ failed: string[] }> {
    checkBatch(accounts.length);
    const failed: string[] = [];
    const valid = accounts.filter((a) => (userIdProblem(a.userId) || profileProblem(a) ? (failed.push(a.userId), false) : true));
    this.writes++;
    await this.store.transaction(async (tx) => {
      const room = await this.room(tx, sdkAppId, valid.map((a) => a.userId));
      const accepted = valid.filter((a) => (room.has(a.userId) ? true : (failed.push(a.userId), false)));
      await tx.accounts.upsert(sdkAppId, accepted);
      return accepted;
    }).then((accepted) => this.wrote(sdkAppId, accepted.map((a) => a.userId), true));
    return { failed };
  }

  /** Deletes up to 100 accounts; each result says whether that account existed. */
  async delete(sdkAppId: number, userIds: string[]): Promise<Array<{ userId: string; deleted: boolean }>> {
    checkBatch(userIds.length);
    this.writes++;
    const gone = await this.store.accounts.delete(sdkAppId, userIds);
    this.wrote(sdkAppId, userIds, false);
    return userIds.map((userId) => ({ userId, deleted: gone.has(userId) }));
  }

  /** Checks up to 100 accounts; each result says whether that account is imported. */
  async check(sdkAppId: number, userIds: string[]): Promise<Array<{ userId: string; imported: boolean }>> {
    checkBatch(userIds.length);
    const have = await this.existing(sdkAppId, userIds);
    return userIds.map((userId) => ({ userId, imported: have.has(userId) }));
  }

  /** Whether one account is imported. */
  async exists(sdkAppId: number, userId: string): Promise<boolean> {
    return (await this.existing(sdkAppId, [userId])).has(userId);
  }

  /** The subset of `userIds` that are imported, from memory where known. */
  async existing(sdkAppId: number, userIds: string[]): Promise<Set<string>> {
    const have = new Set<string>();
    const unknown: string[] = [];
    for (const id of userIds) {
      const k = this.known.get(userKey(sdkAppId, id));
      if (k === undefined) unknown.push(id);
      else if (k) have.add(id);
    }
    if (unknown.length === 0) return have;
    const before = this.writes;
    const found = await this.store.accounts.existing(sdkAppId, unknown);
    for (const id of found) have.add(id);
    if (this.writes === before) {
      for (const id of unknown) this.remember(sdkAppId, [id], found.has(id));
    }
    return have;
  }

  private remember(sdkAppId: number, userIds: string[], imported: boolean): void {
    for (const id of userIds) this.known.set(userKey(sdkAppId, id), imported);
  }

  private limitOf(sdkAppId: number): number {
    return this.apps.get(sdkAppId)?.settings.accountLimit ?? 0;
  }

  /** Which of `userIds` fit under the app's account limit (existing accounts always fit). */
  private async room(tx: Pick<Store, 'accounts'>, sdkAppId: number, userIds: string[]): Promise<Set<string>> {
    const limit = this.limitOf(sdkAppId);
    if (limit === 0) return new Set(userIds);
    const existing = await tx.accounts.existing(sdkAppId, userIds);
    let free = limit - (await tx.accounts.count(sdkAppId));
    const fit = new Set<string>();
    for (const id of userIds) {
      if (existing.has(id) || fit.has(id)) fit.add(id);
      else if (free > 0) {
        fit.add(id);
        free--;
      }
    }
    return fit;
  }
}
