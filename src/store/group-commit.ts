import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Most transactions one group commit carries. */
export const MAX_GROUP = 64;

interface Pending<R> {
  fn: (tx: R) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Commits concurrent transactions together: each one PostgreSQL commit (and fsync) costs more than the work of a
 * REST write, so the transactions that arrive while one group commits wait and then commit as the next group, in
 * one database transaction with a savepoint each. A transaction that throws is rolled back to its savepoint alone;
 * every caller resumes only after the commit that holds its writes, and a failed commit fails every transaction of
 * its group, so nothing is acknowledged that is not on disk. One group is in flight at a time: the grouping is what
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

  /** Runs `fn` in the next group; resolves with its result once that group has committed. */
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
    const outcomes: Outcome[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        const repos = this.bind(trx);
        if (group.length === 1) {
          outcomes.push({ ok: true, value: await group[0]!.fn(repos) });
          return;
        }
        for (const p of group) {
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
      // The commit (or the database) failed: no transaction of the group is durable. One that had failed by itself
      // keeps its own error.
      group.forEach((p, i) => {
        const o = outcomes[i];
        p.reject(o && !o.ok ? o.err : err);
      });
      return;
    }
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.err);
    });
  }
}
