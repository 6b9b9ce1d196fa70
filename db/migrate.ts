import { Migrator, NO_MIGRATIONS, type Kysely, type MigrationResultSet } from 'kysely';
import { migrations } from './migrations/index.js';

/**
 * Kysely's Postgres adapter holds a session-level advisory lock (pg_advisory_lock) while it
 * migrates, so instances starting together run each migration once, one after the other.
 */
function migrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
}

export type MigrateDirection = 'up' | 'down' | 'latest' | 'reset';

export async function migrate(db: Kysely<any>, direction: MigrateDirection): Promise<MigrationResultSet> {
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

export async function migrationStatus(db: Kysely<any>) {
  return (await migrator(db).getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
