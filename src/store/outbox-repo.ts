import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CallbackAttemptsTable, CallbackOutboxTable, Database } from './schema.ts';

/** A `callback_outbox` row. */
export type OutboxRow = Selectable<CallbackOutboxTable>;

/** A `callback_attempts` row. */
export type AttemptRow = Selectable<CallbackAttemptsTable>;

/** Delivery state of a callback. */
export type OutboxStatus = 'pending' | 'delivered' | 'failed' | 'dropped';

/** Queries on the callback outbox: written with the state change, read by the dispatcher and the CLI. */
export class OutboxRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Queues callbacks for delivery. */
  async enqueue(rows: Array<Omit<Insertable<CallbackOutboxTable>, 'id'>>): Promise<void> {
    if (rows.length > 0) await this.db.insertInto('callback_outbox').values(rows).execute();
  }

  /** The oldest pending callback of each order key, if it is due at `now` (ms). */
  async due(now: number, limit: number): Promise<OutboxRow[]> {
    const heads = this.db
      .selectFrom('callback_outbox')
      .select((eb) => eb.fn.min('id').as('id'))
      .where('status', '=', 'pending')
      .groupBy('order_key');
    return this.db
      .selectFrom('callback_outbox')
      .selectAll()
      .where('id', 'in', heads)
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /** One callback, or undefined. */
  async get(id: number): Promise<OutboxRow | undefined> {
    return this.db.selectFrom('callback_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** When the next pending callback falls due (ms), or null when none is pending. */
  async nextDue(): Promise<number | null> {
    const r = await this.db
      .selectFrom('callback_outbox')
      .select((eb) => eb.fn.min('next_attempt_at').as('t'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return r?.t === null || r?.t === undefined ? null : Number(r.t);
  }

  /** Records the outcome of one delivery attempt. */
  async update(id: number, change: Partial<Pick<OutboxRow, 'status' | 'attempts' | 'next_attempt_at' | 'delivered_at' | 'last_status' | 'last_error'>>): Promise<void> {
    await this.db.updateTable('callback_outbox').set(change).where('id', '=', id).execute();
  }

  /** The delivery log, newest first. */
  async list(f: { sdkAppId?: number; status?: OutboxStatus; limit: number }): Promise<OutboxRow[]> {
    let q = this.db.selectFrom('callback_outbox').selectAll();
    if (f.sdkAppId !== undefined) q = q.where('sdk_app_id', '=', f.sdkAppId);
    if (f.status) q = q.where('status', '=', f.status);
    return q.orderBy('id', 'desc').limit(f.limit).execute();
  }

  /** Records one delivery attempt and its outcome on the callback, together. */
  async attempted(attempt: AttemptRow, change: Parameters<OutboxRepo['update']>[1]): Promise<void> {
    // Two nodes that both attempted it (a lease that ran out) keep the first record.
    await this.db.insertInto('callback_attempts').values(attempt).onConflict((oc) => oc.columns(['outbox_id', 'attempt']).doNothing()).execute();
    await this.update(attempt.outbox_id, change);
  }

  /** The attempts of some callbacks, oldest first. */
  async attemptsOf(ids: number[]): Promise<AttemptRow[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('callback_attempts').selectAll().where('outbox_id', 'in', ids).orderBy('outbox_id').orderBy('attempt').execute();
  }
}
