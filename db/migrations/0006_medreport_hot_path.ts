import { type Kysely, sql } from 'kysely';

// Every change to a session or a user row is announced (at commit) on `medreport_auth`, so each
// server instance drops what it cached about it (plugins/auth-cache.ts): `k:<session id>` for a
// session, `p:<user id>` for a user and every session of theirs. Triggers, not application code,
// so no writer (another instance, the CLI, a psql session) can forget.
//
// List indexes end with the tie-breaker of the default order (created_at desc, uuid desc), so a
// page is read in index order without a sort.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function medreport.announce_auth_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('medreport_auth',
        case when tg_table_name = 'sessions' then 'k:' else 'p:' end || old.id::text);
      return null;
    end $$`.execute(db);
  for (const table of ['sessions', 'users']) {
    await sql`
      create trigger ${sql.id(`${table}_announce_change`)} after update or delete on ${sql.table(`medreport.${table}`)}
      for each row execute function medreport.announce_auth_change()`.execute(db);
  }
  for (const table of ['patients', 'prescriptions', 'invoices']) {
    await sql`drop index ${sql.table(`medreport.${table}_list_idx`)}`.execute(db);
    await sql`create index ${sql.id(`${table}_list_idx`)} on ${sql.table(`medreport.${table}`)}
      (organization_id, created_at desc, uuid desc) where deleted_at is null`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['patients', 'prescriptions', 'invoices']) {
    await sql`drop index ${sql.table(`medreport.${table}_list_idx`)}`.execute(db);
    await sql`create index ${sql.id(`${table}_list_idx`)} on ${sql.table(`medreport.${table}`)}
      (organization_id, created_at desc) where deleted_at is null`.execute(db);
  }
  for (const table of ['sessions', 'users']) {
    await sql`drop trigger ${sql.id(`${table}_announce_change`)} on ${sql.table(`medreport.${table}`)}`.execute(db);
  }
  await sql`drop function medreport.announce_auth_change()`.execute(db);
}
