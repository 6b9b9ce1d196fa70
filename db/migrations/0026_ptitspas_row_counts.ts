import { type Kysely, sql } from 'kysely';

const COUNTED_TABLES = ['enfants', 'dossiers'] as const;

// The staff's lists of every child and every dossier counted the whole table on every page
// (X-Total-Count). The number of rows of each is kept here by statement-level triggers, as
// MedReport's record counts are (migration 0025); lists with a filter, a search, or a caller who
// sees only some children still count their matches. The triggers run as their owner: the server
// only reads.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create table ptitspas.row_counts (table_name text primary key, total bigint not null)`.execute(db);
  await sql`
    create function ptitspas.count_rows() returns trigger
    language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
    begin
      if tg_op = 'INSERT' then
        update ptitspas.row_counts set total = total + (select count(*) from new_rows) where table_name = tg_table_name;
      elsif tg_op = 'DELETE' then
        update ptitspas.row_counts set total = total - (select count(*) from old_rows) where table_name = tg_table_name;
      else
        update ptitspas.row_counts set total = 0 where table_name = tg_table_name;
      end if;
      return null;
    end $$`.execute(db);
  for (const table of COUNTED_TABLES) {
    const t = sql.table(`ptitspas.${table}`);
    // Transition tables allow one event per trigger.
    await sql`create trigger ${sql.id(`${table}_counted_insert`)} after insert on ${t}
      referencing new table as new_rows for each statement execute function ptitspas.count_rows()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_delete`)} after delete on ${t}
      referencing old table as old_rows for each statement execute function ptitspas.count_rows()`.execute(db);
    await sql`create trigger ${sql.id(`${table}_counted_truncate`)} after truncate on ${t}
      for each statement execute function ptitspas.count_rows()`.execute(db);
    await sql`insert into ptitspas.row_counts (table_name, total) select ${table}, count(*) from ${t}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of COUNTED_TABLES) {
    for (const event of ['insert', 'delete', 'truncate']) {
      await sql`drop trigger ${sql.id(`${table}_counted_${event}`)} on ${sql.table(`ptitspas.${table}`)}`.execute(db);
    }
  }
  await sql`drop function ptitspas.count_rows()`.execute(db);
  await sql`drop table ptitspas.row_counts`.execute(db);
}
