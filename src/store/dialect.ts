import { PostgresAdapter, sql, type ColumnDefinitionBuilder, type Expression, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.ts';

/** Which SQL database a store runs on. */
export type DialectName = 'sqlite' | 'postgres';

/**
 * The few places where SQLite and PostgreSQL need different SQL. Every other query is written once with Kysely,
 * whose compiler already handles placeholders, identifier quoting, `ON CONFLICT` and `RETURNING` for both.
 */
export interface SqlDialect {
  readonly name: DialectName;
  /** Column type of text: compared and sorted by code point, as SQLite does, whatever the database's locale. */
  readonly text: 'text' | Expression<unknown>;
  /** Column type and constraints of an auto-numbered `id` primary key. */
  readonly idType: 'integer' | 'bigint';
  idColumn(col: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** True when `column`, a JSON array of strings stored as text, holds `value`. */
  jsonArrayHas(column: string, value: string): RawBuilder<boolean>;
  /** The schema that holds Kysely's migration tables (undefined: the database's only one). */
  migrationSchema(db: Kysely<Database>): Promise<string | undefined>;
}

const sqlite: SqlDialect = {
  name: 'sqlite',
  text: 'text',
  // INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT keeps ids of deleted rows from being reused.
  idType: 'integer',
  idColumn: (col) => col.primaryKey().autoIncrement(),
  jsonArrayHas: (column, value) => sql<boolean>`EXISTS (SELECT 1 FROM json_each(${sql.ref(column)}) WHERE json_each.value = ${value})`,
  migrationSchema: async () => undefined,
};

const postgres: SqlDialect = {
  name: 'postgres',
  text: sql`text collate "C"`,
  idType: 'bigint',
  idColumn: (col) => col.primaryKey().generatedByDefaultAsIdentity(),
  jsonArrayHas: (column, value) => sql<boolean>`(${sql.ref(column)}::jsonb @> jsonb_build_array(${value}::text))`,
  // Kysely's migrator looks for its tables in every schema of the database unless told one: name the schema the
  // connection works in (search_path), so several stores can share a database, one schema each.
  async migrationSchema(db) {
    const { rows } = await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(db);
    const schema = rows[0]?.schema;
    if (!schema) throw new Error('PostgreSQL: no schema of the search_path exists (create it, or fix options=-c search_path=…)');
    return schema;
  },
};

/** The dialect a Kysely instance (or transaction) talks to. */
export function dialectOf(db: { getExecutor(): { readonly adapter: unknown } }): SqlDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? postgres : sqlite;
}
