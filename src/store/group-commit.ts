import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Most transactions one group commit carries. */
const MAX_GROUP = 64;

interface Pending<R> {
  fn: (tx: R) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Commits concurrent transactions together: each one PostgreSQL commit (and fsync) costs more than the work of a
 * REST write, so the transactions that arrive while one group commits wait and then commit as the next group, in
 * one database transaction. A transaction that throws is rolled back alone (the group runs again with a savepoint
 * around each); every caller resumes only after the commit that holds its writes, and a failed commit fails every
 * transaction of its group, so nothing is acknowledged that is not on disk. One group is in flight at a time: the grouping is what
 * makes the throughput, and a database that hangs holds up one group, not the pool.
 */
export class GroupCommit<R> {
  private pending: Array<Pending<R>> = [];
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bind: (trx: Kysely<Database>) => R,
    private readonly maxGroup = MAX_GROUP,
  ) {}

  /**
   * Runs `fn` in the next group; resolves with its result once that group has committed. `fn` may run twice (again
   * when another transaction of its group failed), so it must touch nothing but the transaction it is given.
   */
  run<T>(fn: (tx: R) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      // The requests parsed in the same turn of the event loop join the first group.
      await new Promise<void>((r) => setImmediate(r));
      while (this.pending.length > 0) await this.commit(this.pending.splice(0, this.maxGroup));
    } finally {
      this.running = false;
    }
  }

  private async commit(group: Array<Pending<R>>): Promise<void> {
    // Most groups have no failing transaction: run them back to back, one statement each, no savepoints. When one
    // fails, the whole attempt is rolled back and the group runs again with a savepoint around each transaction.
    const first = await this.attempt(group, false);
    const outcomes = first === SOME_FAILED ? await this.attempt(group, true) : first;
    if (outcomes instanceof CommitFailed) {
      // The commit (or the database) failed: no transaction of the group is durable. One that had failed by itself
      // keeps its own error.
      group.forEach((p, i) => {
        const o = outcomes.outcomes[i];
        p.reject(o && !o.ok ? o.err : outcomes.err);
      });
      return;
    }
    group.forEach((p, i) => {
      const o = (outcomes as Outcome[])[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.err);
    });
  }

  /** Runs the group in one transaction; SOME_FAILED when `savepoints` is off and a transaction threw. */
  private async attempt(group: Array<Pending<R>>, savepoints: boolean): Promise<Outcome[] | CommitFailed | typeof SOME_FAILED> {
    const outcomes: Outcome[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        const repos = this.bind(trx);
        for (const p of group) {
          if (!savepoints) {
            try {
              outcomes.push({ ok: true, value: await p.fn(repos) });
            } catch (err) {
              outcomes.push({ ok: false, err });
              if (group.length > 1) throw SOME_FAILED;
              throw err;
            }
            continue;
          }
          await sql`SAVEPOINT g`.execute(trx);
          try {
            const value = await p.fn(repos);
            await sql`RELEASE SAVEPOINT g`.execute(trx);
            outcomes.push({ ok: true, value });
          } catch (err) {
            await sql`ROLLBACK TO SAVEPOINT g`.execute(trx);
            outcomes.push({ ok: false, err });
          }
        }
      });
    } catch (err) {
      if (err === SOME_FAILED) return SOME_FAILED;
      return new CommitFailed(err, outcomes);
    }
    return outcomes;
  }
}

/** Thrown inside a group run without savepoints to roll it back when one of its transactions failed. */
const SOME_FAILED = Symbol('some transaction of the group failed');

class CommitFailed {
  constructor(
    readonly err: unknown,
    readonly outcomes: Outcome[],
  ) {}
}
