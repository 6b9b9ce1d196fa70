import { type Kysely, sql } from 'kysely';
import { enableTenantRls } from '../rls.js';

// Offline sync (docs/sync.md).
//
// `changes` is the feed clients pull. Every tenant mutation appends its entries last, under a
// per-organization transaction lock held until commit (routes/medreport/mutation.ts), so within an
// organization `seq` follows commit order: a reader never sees a change before an earlier one.
// `data` is the resource as the REST API answered it at that commit (null for a delete).
// Like the activity log (migration 0008), the feed has no foreign key: only the mutation path
// writes it, with the organization of a verified session, and a key check per entry was a third
// of a 100-item push's database time.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table medreport.changes (
      organization_id bigint not null,
      seq bigint generated always as identity,
      entity text not null check (entity in ('patients', 'prescriptions', 'invoices', 'files')),
      uuid uuid not null,
      action text not null check (action in ('upsert', 'delete')),
      data jsonb,
      user_id bigint,
      device_id text,
      changed_at timestamptz not null default clock_timestamp(),
      primary key (organization_id, seq)
    )`.execute(db);
  await sql`create index changes_time_idx on medreport.changes (organization_id, changed_at)`.execute(db);

  // Below `seq`, changes of the organization were pruned: an older cursor must resync (410).
  await sql`
    create table medreport.sync_horizons (
      organization_id bigint primary key references medreport.organizations (id),
      seq bigint not null,
      pruned_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table medreport.sync_devices (
      organization_id bigint not null references medreport.organizations (id),
      user_id bigint not null references medreport.users (id) on delete cascade,
      device_id text not null,
      last_pulled_seq bigint,
      last_pull_at timestamptz,
      last_push_at timestamptz,
      primary key (organization_id, user_id, device_id)
    )`.execute(db);

  await sql`
    create table medreport.sync_errors (
      organization_id bigint not null references medreport.organizations (id),
      id bigint generated always as identity,
      user_id bigint references medreport.users (id) on delete set null,
      device_id text not null,
      occurred_at timestamptz not null default now(),
      message text not null,
      metadata jsonb not null default '{}',
      primary key (organization_id, id)
    )`.execute(db);
  await sql`create index sync_errors_device_idx on medreport.sync_errors (organization_id, user_id, device_id, occurred_at desc)`.execute(
    db,
  );

  for (const table of ['changes', 'sync_horizons', 'sync_devices', 'sync_errors']) {
    await enableTenantRls(db, `medreport.${table}`);
  }

  // A push checks whether its new uuids belong to another organization: by uuid alone.
  for (const table of ['patients', 'prescriptions', 'invoices', 'files']) {
    await sql`create index ${sql.id(`${table}_uuid_idx`)} on ${sql.table(`medreport.${table}`)} (uuid)`.execute(db);
  }

  // The only two places that look across organizations, both as the tables' owner (SECURITY
  // DEFINER), both named for review, both executable by the app role only (db/app-role.ts).

  // Which of `ids` belong to another organization: a push may not touch them, and learns no more.
  await sql`
    create function medreport.uuids_of_other_organizations(entity text, organization bigint, ids uuid[])
    returns setof uuid language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
    begin
      if entity not in ('patients', 'prescriptions', 'invoices', 'files') then
        raise exception 'unknown entity %', entity;
      end if;
      return query execute format(
        'select distinct uuid from medreport.%I where uuid = any($1) and organization_id <> $2', entity)
        using ids, organization;
    end $$`.execute(db);

  // Drops changes older than `before` in every organization and records each one's horizon.
  await sql`
    create function medreport.prune_sync_changes(before timestamptz)
    returns bigint language sql security definer set search_path = pg_catalog, pg_temp as $$
      with gone as (
        delete from medreport.changes where changed_at < before returning organization_id, seq
      ), horizons as (
        insert into medreport.sync_horizons (organization_id, seq)
        select organization_id, max(seq) from gone group by organization_id
        on conflict (organization_id) do update
          set seq = greatest(medreport.sync_horizons.seq, excluded.seq), pruned_at = now()
        returning 1
      )
      select count(*) from gone
    $$`.execute(db);
  for (const fn of [
    'medreport.uuids_of_other_organizations(text, bigint, uuid[])',
    'medreport.prune_sync_changes(timestamptz)',
  ]) {
    await sql`revoke all on function ${sql.raw(fn)} from public`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['patients', 'prescriptions', 'invoices', 'files']) {
    await sql`drop index ${sql.table(`medreport.${table}_uuid_idx`)}`.execute(db);
  }
  await sql`drop function medreport.prune_sync_changes(timestamptz)`.execute(db);
  await sql`drop function medreport.uuids_of_other_organizations(text, bigint, uuid[])`.execute(db);
  for (const table of ['sync_errors', 'sync_devices', 'sync_horizons', 'changes']) {
    await sql`drop table ${sql.table(`medreport.${table}`)}`.execute(db);
  }
}
