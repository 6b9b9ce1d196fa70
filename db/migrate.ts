import { type Kysely, type MigrationResultSet, Migrator, NO_MIGRATIONS, type QueryExecutorProvider, sql } from 'kysely';
import { migrations } from './migrations/index.js';

/**
 * The database at whatever version of its schema: what the Migrator and the migrations run against.
 */
// biome-ignore lint/suspicious/noExplicitAny: Kysely's Migrator and migrations take Kysely<any>, the schema of no one version
export type AnySchemaDb = Kysely<any>;

/**
 * Kysely's Postgres adapter holds a session-level advisory lock (pg_advisory_lock) while it
 * migrates, so instances starting together run each migration once, one after the other.
 */
function migrator(db: AnySchemaDb): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export type MigrateDirection = 'up' | 'down' | 'latest' | 'reset';

export async function migrate(db: AnySchemaDb, direction: MigrateDirection): Promise<MigrationResultSet> {
  const m = migrator(db);
  const result = await (direction === 'latest'
    ? m.migrateToLatest()
    : direction === 'up'
      ? m.migrateUp()
      : direction === 'down'
        ? m.migrateDown()
        : m.migrateTo(NO_MIGRATIONS));
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(failed ? `migration ${failed} failed: ${reason}` : `migrations failed: ${reason}`, {
      cause: result.error,
    });
  }
  return result;
}

/** The schemas the migrations create: everything of the app's lives in them. */
export const APP_SCHEMAS = ['medreport', 'ptitspas', 'ops'] as const;

/**
 * An empty database at the latest version: drops the app's schemas (with every table, function,
 * policy and grant in them) and Kysely's migration history, then applies every migration. It
 * needs only what migrating needs, owning the schemas, where dropping and creating the database
 * would need CREATEDB and a connection to another database. The extensions (pg_trgm, unaccent)
 * stay: the migrations create them only if missing.
 */
export async function resetDatabase(db: AnySchemaDb): Promise<MigrationResultSet> {
  await db.transaction().execute(async (trx) => {
    for (const schema of APP_SCHEMAS) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(trx);
    // Where the Migrator keeps them (no migrationTableSchema): the first schema of the search path.
    await sql`drop table if exists kysely_migration, kysely_migration_lock`.execute(trx);
  });
  return migrate(db, 'latest');
}

export async function migrationStatus(db: AnySchemaDb) {
  return (await migrator(db).getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}

/** What reverting a migration would destroy: tables with rows, columns with values. */
export interface Loss {
  table: string;
  column?: string;
  /** Rows of the table, or rows with a value in the column. */
  rows: number;
}

const SCHEMAS = ['medreport', 'ptitspas'];

async function catalog(db: QueryExecutorProvider): Promise<Set<string>> {
  const { rows } = await sql<{ name: string }>`
    select c.table_schema || '.' || c.table_name || coalesce('.' || c.column_name, '') as name
      from information_schema.columns c
      join information_schema.tables t using (table_schema, table_name)
     where c.table_schema in (${sql.join(SCHEMAS)}) and t.table_type = 'BASE TABLE'
       and c.is_generated = 'NEVER' -- a generated column's values are derived, not data
    union
    select table_schema || '.' || table_name from information_schema.tables
     where table_schema in (${sql.join(SCHEMAS)}) and table_type = 'BASE TABLE'`.execute(db);
  return new Set(rows.map((r) => r.name));
}

class DryRun extends Error {}

/**
 * Tables computed from others (the counts triggers keep, migrations 0025 and 0026): reverting
 * their migration loses nothing, and migrating up again counts them afresh.
 */
const DERIVED_TABLES: ReadonlySet<string> = new Set(['medreport.record_counts', 'ptitspas.row_counts']);

/**
 * Runs the down step of the most recent migration inside a transaction that is rolled back, and
 * reports the tables and columns it would drop that hold data. Nothing is changed.
 */
export async function lossesOfRevert(db: AnySchemaDb): Promise<{ name?: string; losses: Loss[] }> {
  const last = (await migrationStatus(db)).filter((m) => m.executedAt).at(-1);
  if (!last) return { losses: [] };
  const migration = migrations[last.name];
  if (!migration?.down) return { name: last.name, losses: [] };
  let losses: Loss[] = [];
  await db
    .transaction()
    .execute(async (trx) => {
      const before = await catalog(trx);
      await sql`savepoint dry_run`.execute(trx);
      await migration.down!(trx);
      const after = await catalog(trx);
      await sql`rollback to savepoint dry_run`.execute(trx);
      const dropped = [...before].filter((name) => !after.has(name));
      const tables = new Set(dropped.filter((n) => n.split('.').length === 2));
      for (const name of dropped) {
        const [schema, table, column] = name.split('.') as [string, string, string | undefined];
        if (column && tables.has(`${schema}.${table}`)) continue; // counted with its table
        if (DERIVED_TABLES.has(`${schema}.${table}`)) continue;
        const target = sql.table(`${schema}.${table}`);
        const { rows } = column
          ? await sql<{ n: number }>`select count(${sql.ref(column)})::int as n from ${target}`.execute(trx)
          : await sql<{ n: number }>`select count(*)::int as n from ${target}`.execute(trx);
        if (rows[0]!.n > 0)
          losses.push({ table: `${schema}.${table}`, ...(column ? { column } : {}), rows: rows[0]!.n });
      }
      throw new DryRun();
    })
    .catch((err: unknown) => {
      if (!(err instanceof DryRun)) throw err;
    });
  losses = losses.sort((a, b) => `${a.table}.${a.column ?? ''}`.localeCompare(`${b.table}.${b.column ?? ''}`));
  return { name: last.name, losses };
}
