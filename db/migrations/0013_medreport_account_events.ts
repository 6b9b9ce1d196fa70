import { type Kysely, sql } from 'kysely';

// An event of an account itself (an OAuth sign-in taking over an unverified account), logged in
// the account's organization, or without one: written by a function, as the platform's actions
// are, because no tenant context exists on the paths that log it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function medreport.log_account_event(subject bigint, action text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
      select organization_id, id, name, action, 'user', uuid, name from medreport.users where id = subject
    $$`.execute(db);
  await sql`revoke all on function medreport.log_account_event(bigint, text) from public`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function medreport.log_account_event(bigint, text)`.execute(db);
}
