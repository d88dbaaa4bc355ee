import type { Insertable, Kysely, Selectable } from 'kysely';
import type { CallsTable, Database } from './schema.ts';

/** A `calls` row as read back from the store. */
export type CallRow = Selectable<CallsTable>;

/** Filter of ended calls (get_record_by_filter): start time window in ms, optional result and type. */
interface CallRecordFilter {
  sdkAppId: number;
  fromMs: number;
  toMs: number;
  result?: string;
  callType?: string;
  limit: number;
  offset: number;
}

/** Queries on the `calls` table. */
export class CallsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts or replaces a call's row. */
  async save(row: Insertable<CallsTable>): Promise<void> {
    const { call_id: _id, ...rest } = row;
    await this.db
      .insertInto('calls')
      .values(row)
      .onConflict((oc) => oc.column('call_id').doUpdateSet(rest))
      .execute();
  }

  /** One call by id within an app. */
  async get(sdkAppId: number, callId: string): Promise<CallRow | undefined> {
    return this.db.selectFrom('calls').selectAll().where('call_id', '=', callId).where('sdk_app_id', '=', sdkAppId).executeTakeFirst();
  }

  /** Calls that have not ended, for recovery at start-up. */
  async active(): Promise<CallRow[]> {
    return this.db.selectFrom('calls').selectAll().where('result', '=', '').execute();
  }

  /** A page of ended calls, newest first, and how many match in all. */
  async ended(f: CallRecordFilter): Promise<{ rows: CallRow[]; total: number }> {
    let q = this.db
      .selectFrom('calls')
      .where('sdk_app_id', '=', f.sdkAppId)
      .where('result', '!=', '')
      .where('start_time', '>=', f.fromMs)
      .where('start_time', '<=', f.toMs);
    if (f.result) q = q.where('result', '=', f.result);
    if (f.callType) q = q.where('call_type', '=', f.callType);
    const total = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    const rows = await q.selectAll().orderBy('start_time', 'desc').orderBy('call_id').limit(f.limit).offset(f.offset).execute();
    return { rows, total: Number(total?.n ?? 0) };
  }
}
