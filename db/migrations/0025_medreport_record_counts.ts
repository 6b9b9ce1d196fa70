import { type Kysely, sql } from 'kysely';
import { allowCrossOrganizationRead, enableTenantRls } from '../rls.js';

const RECORD_TABLES = ['patients', 'prescriptions', 'invoices'] as const;

// A list's `total` counted every live row of the organization on every page (an index-only scan of
// 2,000 entries for a 2,000-patient practice, most of the page's cost). Each organization's number
// of live records is kept here instead, by statement-level triggers: a 100-item sync push updates
// it once per table, not once per row. Lists without a search or a filter read it
// (domain/medreport/records/records.ts); the others still count, within their filter.
//
// The triggers run as their owner (SECURITY DEFINER), so the app role only reads the counts, under
// the tenant policy like every tenant table (db/app-role.ts revokes its writes). An insert adds up
// to the organization's row, created at its first record; an update, a delete or a truncate
// changes existing rows only.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table medreport.record_counts (
      organization_id bigint not null references medreport.organizations (id) on delete cascade,
      entity text not null,
      live bigint not null,
      primary key (organization_id, entity)
    )`.execute(db);
  await enableTenantRls(db, 'medreport.record_counts');
  await allowCrossOrganizationRead(db, 'medreport.record_counts');

  await sql`
    create function medreport.count_live_records() returns trigger
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
    begin
      if tg_op = 'INSERT' then
        insert into medreport.record_counts as c (organization_id, entity, live)
        select organization_id, tg_table_name, count(*) from new_rows where deleted_at is null
         group by organization_id order by organization_id
        on conflict (organization_id, entity) do update set live = c.live + excluded.live;
      elsif tg_op = 'UPDATE' then
        update medreport.record_counts c set live = c.live + d.delta
          from (select organization_id, sum(n)::bigint as delta
                  from (select organization_id, 1 as n from new_rows where deleted_at is null
                        union all
                        select organization_id, -1 from old_rows where deleted_at is null) changed
                 group by organization_id having sum(n) <> 0) d
         where c.organization_id = d.organization_id and c.entity = tg_table_name;
      elsif tg_op = 'DELETE' then
        update medreport.record_counts c set live = c.live - d.gone
          from (select organization_id, count(*) as gone from old_rows where deleted_at is null group by organization_id) d
         where c.organization_id = d.organization_id and c.entity = tg_table_name;
      else
        update medreport.record_counts set live = 0 where entity = tg_table_name;
      end if;
      return null;
    end $$`.execute(db);
  // Transition tables allow one event per trigger.
  for (const table of RECORD_TABLES) {
    const t = sql.table(`medreport.${table}`);
    await sql`create trigger ${sql.id(`${table}_counted_insert`)} after insert on ${t}
      referencing new table as new_rows for each statement execute function medreport.count_live_records()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_update`)} after update on ${t}
      referencing old table as old_rows new table as new_rows
      for each statement execute function medreport.count_live_records()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_delete`)} after delete on ${t}
      referencing old table as old_rows for each statement execute function medreport.count_live_records()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_truncate`)} after truncate on ${t}
      for each statement execute function medreport.count_live_records()`.execute(db);
    await sql`
      insert into medreport.record_counts (organization_id, entity, live)
      select organization_id, ${table}, count(*) filter (where deleted_at is null) from ${t} group by organization_id`.execute(
      db,
    );
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of RECORD_TABLES) {
    for (const event of ['insert', 'update', 'delete', 'truncate']) {
      await sql`drop trigger ${sql.id(`${table}_counted_${event}`)} on ${sql.table(`medreport.${table}`)}`.execute(db);
    }
  }
  await sql`drop function medreport.count_live_records()`.execute(db);
  await sql`drop table medreport.record_counts`.execute(db);
}
