import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { PG_SKIP, PG_URL, pgSchema, type PgSchema } from '../../test/helpers/pg.ts';
import { GroupCommit } from './group-commit.ts';
import { openPostgres } from './postgres.ts';
import type { Database } from './schema.ts';

// Group commit on a real PostgreSQL: concurrent transactions share one commit, each rolls back alone, none is
// acknowledged before its group is durable.

describe('GroupCommit on PostgreSQL', { skip: PG_URL ? false : PG_SKIP }, () => {
  let schema: PgSchema;
  let db: Kysely<Database>;
  let group: GroupCommit<Kysely<Database>>;

  const txid = async (trx: Kysely<Database>) => Number((await sql<{ x: string }>`SELECT txid_current() AS x`.execute(trx)).rows[0]!.x);
  const insert = (trx: Kysely<Database>, v: number) => sql`INSERT INTO gc (v) VALUES (${v})`.execute(trx);
  /** What another connection sees: only committed rows. */
  const committed = async (): Promise<number[]> => {
    const c = new pg.Client({ connectionString: schema.url });
    await c.connect();
    try {
      return (await c.query<{ v: number }>('SELECT v FROM gc ORDER BY v')).rows.map((r) => r.v);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    schema = await pgSchema();
    db = openPostgres(schema.url);
    await sql`CREATE TABLE gc (v integer NOT NULL, CONSTRAINT gc_unique UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)`.execute(db);
    group = new GroupCommit(db, (trx) => trx);
  });
  after(async () => {
    await db?.destroy();
    await schema?.drop();
  });

  it('transactions started together commit as one database transaction; each caller gets its own result', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => group.run(async (trx) => ({ i, tx: await txid(trx) }))));
    assert.deepEqual(results.map((r) => r.i), Array.from({ length: 20 }, (_, i) => i));
    assert.equal(new Set(results.map((r) => r.tx)).size, 1, 'one commit for the 20');
  });

  it('those arriving while a group commits form the next group', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = group.run(async (trx) => {
      await gate;
      return txid(trx);
    });
    await new Promise((r) => setImmediate(r));
    const later = Array.from({ length: 10 }, () => group.run(txid));
    release();
    const [a, ...rest] = await Promise.all([first, ...later]);
    assert.equal(new Set(rest).size, 1, 'the ten waiting share one commit');
    assert.notEqual(rest[0], a);
  });

  it('a transaction that throws is rolled back alone; the others of its group commit', async () => {
    const outcomes = await Promise.allSettled([
      group.run((trx) => insert(trx, 1)),
      group.run(async (trx) => {
        await insert(trx, 2);
        throw new Error('refused');
      }),
      group.run((trx) => insert(trx, 3)),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /refused/);
    assert.deepEqual(await committed(), [1, 3]);
  });

  it('a caller resumes only once its write is visible to other connections', async () => {
    await Promise.all(
      [10, 11, 12].map((v) =>
        group.run((trx) => insert(trx, v)).then(async () => {
          assert.ok((await committed()).includes(v), `${v} committed before its caller resumed`);
        }),
      ),
    );
  });

  it('a commit that fails fails every transaction of its group, and none of their writes is kept', async () => {
    // Two inserts of the same value pass at statement time; the deferred unique constraint fails the commit.
    const outcomes = await Promise.allSettled([group.run((trx) => insert(trx, 20)), group.run((trx) => insert(trx, 21)), group.run((trx) => insert(trx, 20))]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
    for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /gc_unique/);
    assert.deepEqual((await committed()).filter((v) => v >= 20), []);
    // The next group is not affected.
    await group.run((trx) => insert(trx, 22));
    assert.deepEqual((await committed()).filter((v) => v >= 20), [22]);
  });

  it('a single transaction commits without savepoints and passes its error through', async () => {
    await assert.rejects(
      group.run(async () => {
        throw new Error('alone');
      }),
      /alone/,
    );
    assert.equal(await group.run(async (trx) => typeof (await txid(trx))), 'number');
  });
});

