import { type Kysely, sql } from 'kysely';
import { allowCrossOrganizationRead } from '../rls.js';

// Platform administration (docs/admin.md).
//
// - The platform role gets its own column: `role` is the organization role only.
// - Deleted accounts stay as rows without personal data (`deleted_at`), so the records they
//   created and the activity log keep their references.
// - `search_text`: name, e-mail, speciality and order number folded (lower case, no accents) for
//   the administrators' search, indexed by trigrams.
// - Cross-organization reads: one more row-level security policy per tenant table, for SELECT
//   only, open while `app.cross_organization` is 'read' (db/cross-organization.ts sets it on its
//   own connections and nowhere else).
// - Administrators' own actions are logged without an organization.
const TENANT_TABLES = [
  'patients',
  'prescriptions',
  'invoices',
  'files',
  'activity_log',
  'changes',
  'sync_horizons',
  'sync_devices',
  'sync_errors',
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table medreport.users add column platform_role text check (platform_role in ('admin'))`.execute(db);
  await sql`update medreport.users set platform_role = 'admin', role = null where role = 'admin'`.execute(db);
  await sql`alter table medreport.users drop constraint users_role_check`.execute(db);
  await sql`alter table medreport.users add constraint users_role_check check (role in ('owner', 'doctor'))`.execute(
    db,
  );
  await sql`alter table medreport.users add column deleted_at timestamptz`.execute(db);

  // pg_trgm and unaccent ship with PostgreSQL (contrib) and are trusted: the database's owner
  // may create them. Their schema is wherever they are (or end up), looked up, never assumed.
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create extension if not exists unaccent`.execute(db);
  const schemaOf = async (extension: string) =>
    (
      await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
         where e.extname = ${extension}`.execute(db)
    ).rows[0]!.schema;
  const unaccent = await schemaOf('unaccent');
  const trgm = await schemaOf('pg_trgm');
  // unaccent() is only STABLE (its dictionary could change); naming the dictionary makes the
  // result depend on the argument alone, which an index and a generated column require.
  await sql`
    create function medreport.fold(text) returns text
    language sql immutable parallel safe strict
    return lower(${sql.id(unaccent, 'unaccent')}(${sql.lit(`${unaccent}.unaccent`)}::regdictionary, $1))`.execute(db);
  await sql`
    alter table medreport.users add column search_text text generated always as (
      medreport.fold(name || ' ' || email || ' ' || coalesce(speciality, '') || ' ' || coalesce(medical_order_number, ''))
    ) stored`.execute(db);
  await sql`create index users_search_idx on medreport.users using gin (search_text ${sql.id(trgm, 'gin_trgm_ops')})`.execute(
    db,
  );
  await sql`create index users_created_idx on medreport.users (created_at desc, id desc) where deleted_at is null`.execute(
    db,
  );

  for (const table of TENANT_TABLES) await allowCrossOrganizationRead(db, `medreport.${table}`);

  await sql`alter table medreport.activity_log drop constraint activity_log_pkey`.execute(db);
  await sql`alter table medreport.activity_log add primary key (id)`.execute(db);
  await sql`alter table medreport.activity_log alter column organization_id drop not null`.execute(db);
  await sql`create index activity_log_recent_idx on medreport.activity_log (created_at desc, id desc)`.execute(db);

  // The two writes of the activity log outside an organization, as the table's owner, named for
  // review and executable by the app role only (db/app-role.ts):
  // - an administrator's action, logged without an organization (tenants never see it);
  // - a deleted account's entries, kept with who it was removed (as actor and as subject).
  await sql`
    create function medreport.log_platform_action(
      actor bigint, actor_name text, action text, subject uuid, subject_name text
    ) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      insert into medreport.activity_log (organization_id, user_id, user_name, action, entity_type, entity_uuid, entity_name)
      values (null, actor, actor_name, action, 'user', subject, subject_name)
    $$`.execute(db);
  await sql`
    create function medreport.anonymise_user(gone bigint, gone_uuid uuid, shown_as text) returns void
    language sql security definer set search_path = pg_catalog, pg_temp as $$
      update medreport.activity_log set user_id = null, user_name = shown_as where user_id = gone;
      update medreport.activity_log set entity_name = shown_as where entity_type = 'user' and entity_uuid = gone_uuid;
    $$`.execute(db);
  for (const fn of ['log_platform_action(bigint, text, text, uuid, text)', 'anonymise_user(bigint, uuid, text)']) {
    await sql`revoke all on function ${sql.raw(`medreport.${fn}`)} from public`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function medreport.anonymise_user(bigint, uuid, text)`.execute(db);
  await sql`drop function medreport.log_platform_action(bigint, text, text, uuid, text)`.execute(db);
  await sql`drop index medreport.activity_log_recent_idx`.execute(db);
  await sql`delete from medreport.activity_log where organization_id is null`.execute(db);
  await sql`alter table medreport.activity_log alter column organization_id set not null`.execute(db);
  await sql`alter table medreport.activity_log drop constraint activity_log_pkey`.execute(db);
  await sql`alter table medreport.activity_log add primary key (organization_id, id)`.execute(db);
  for (const table of TENANT_TABLES) {
    await sql`drop policy cross_organization_read on ${sql.table(`medreport.${table}`)}`.execute(db);
  }
  await sql`drop index medreport.users_created_idx`.execute(db);
  await sql`drop index medreport.users_search_idx`.execute(db);
  await sql`alter table medreport.users drop column search_text`.execute(db);
  await sql`drop function medreport.fold(text)`.execute(db);
  await sql`alter table medreport.users drop column deleted_at`.execute(db);
  await sql`alter table medreport.users drop constraint users_role_check`.execute(db);
  await sql`alter table medreport.users add constraint users_role_check check (role in ('owner', 'doctor', 'admin'))`.execute(
    db,
  );
  await sql`update medreport.users set role = 'admin' where platform_role = 'admin' and role is null`.execute(db);
  await sql`alter table medreport.users drop column platform_role`.execute(db);
}
