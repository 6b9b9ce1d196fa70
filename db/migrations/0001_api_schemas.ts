import { type Kysely, sql } from 'kysely';

// Migrations use Kysely<any>: they describe the schema at their point in history, not today's types.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create schema if not exists medreport`.execute(db);
  await sql`create schema if not exists ptitspas`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop schema if exists ptitspas`.execute(db);
  await sql`drop schema if exists medreport`.execute(db);
}
