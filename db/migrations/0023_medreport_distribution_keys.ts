import { type Kysely, sql } from 'kysely';
import { allowCrossOrganizationRead } from '../rls.js';

// Every MedReport tenant table keyed by organization, as distributing them by tenant requires
// (docs/scaling.md, tests/db/distribution.test.ts). The activity log was the exception: since
// 0009 it also held entries without an organization (administrators' actions, events of accounts
// that have none), so its key was `id` alone and `organization_id` nullable, which a table
// distributed by `organization_id` cannot hold. Those entries move to a log of their own,
// `platform_activity_log`, and the activity log gets `organization_id not null` and the key
// `(organization_id, id)` again.
//
// The platform log is what those entries were in the activity log: readable by the
// administrators' handle only (no tenant policy, the cross-organization read policy), written by
// the SECURITY DEFINER functions below. Its ids are drawn from the activity log's sequence, so
// that an id stays unique across both as the dashboard lists them together.
export async function up(db: Kysely<any>): Promise<void> {
  const sequence = await activityLogSequence(db);
  await sql`
    create table medreport.platform_activity_log (
      id bigint primary key default nextval(${sql.lit(sequence)}::regclass),
      user_id bigint,
      user_name text,
      action text not null,
      entity_type text not null,
      entity_uuid uuid,
      entity_name text,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index platform_activity_log_recent_idx on medreport.platform_activity_log (created_at desc, id desc)`.execute(
    db,
  );
  await sql`alter table medreport.platform_activity_log enable row level security`.execute(db);
  await allowCrossOrganizationRead(db, 'medreport.platform_activity_log');

  await sql`
    with moved as (delete from medreport.activity_log where organization_id is null returning *)
    insert into medreport.platform_activity_log (id, user_id, user_name, action, entity_type, entity_uuid, entity_name, created_at)
    select id, user_id, user_name, action, entity_type, entity_uuid, entity_name, created_at from moved`.execute(db);
  await sql`alter table medreport.activity_log alter column organization_id set not null`.execute(db);
  await sql`alter table medreport.activity_log drop constraint activity_log_pkey`.execute(db);
  await sql`alter table medreport.activity_log add primary key (organization_id, id)`.execute(db);

  // Replaced in place: the functions keep their owner and grants (executable by the app role only).
  await sql`
    create or replace function medreport.log_platform_action(
      actor bigint, actor_name text, action text, subject uuid, subject_name text
    ) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.platform_activity_log (user_id, user_name, action, entity_type, entity_uuid, entity_name)
      values (actor, actor_name, action, 'user', subject, subject_name)
    $$`.execute(db);
  await sql`
    create or replace function medreport.log_account_event(subject bigint, action text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
      select organization_id, id, name, action, 'user', uuid, name from medreport.users
       where id = subject and organization_id is not null;
      insert into medreport.platform_activity_log (user_id, user_name, action, entity_type, entity_uuid, entity_name)
      select id, name, action, 'user', uuid, name from medreport.users
       where id = subject and organization_id is null;
    $$`.execute(db);
  await sql`
    create or replace function medreport.anonymise_user(gone bigint, gone_uuid uuid, shown_as text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      update medreport.activity_log set user_id = null, user_name = shown_as where user_id = gone;
      update medreport.activity_log set entity_name = shown_as where entity_type = 'user' and entity_uuid = gone_uuid;
      update medreport.platform_activity_log set user_id = null, user_name = shown_as where user_id = gone;
      update medreport.platform_activity_log set entity_name = shown_as where entity_type = 'user' and entity_uuid = gone_uuid;
    $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    create or replace function medreport.anonymise_user(gone bigint, gone_uuid uuid, shown_as text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      update medreport.activity_log set user_id = null, user_name = shown_as where user_id = gone;
      update medreport.activity_log set entity_name = shown_as where entity_type = 'user' and entity_uuid = gone_uuid;
    $$`.execute(db);
  await sql`
    create or replace function medreport.log_account_event(subject bigint, action text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
      select organization_id, id, name, action, 'user', uuid, name from medreport.users where id = subject
    $$`.execute(db);
  await sql`
    create or replace function medreport.log_platform_action(
      actor bigint, actor_name text, action text, subject uuid, subject_name text
    ) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
      values (null, actor, actor_name, action, 'user', subject, subject_name)
    $$`.execute(db);

  await sql`alter table medreport.activity_log drop constraint activity_log_pkey`.execute(db);
  await sql`alter table medreport.activity_log add primary key (id)`.execute(db);
  await sql`alter table medreport.activity_log alter column organization_id drop not null`.execute(db);
  await sql`
    insert into medreport.activity_log (organization_id, id, user_id, user_name, action, entity_type, entity_uuid, entity_name, created_at)
    overriding system value
    select null, id, user_id, user_name, action, entity_type, entity_uuid, entity_name, created_at
      from medreport.platform_activity_log`.execute(db);
  await sql`drop table medreport.platform_activity_log`.execute(db);
}

/** The sequence of the activity log's identity column, by its real name. */
async function activityLogSequence(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ name: string }>`
    select pg_get_serial_sequence('medreport.activity_log', 'id') as name`.execute(db);
  return rows[0]!.name;
}
