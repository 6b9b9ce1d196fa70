import { type Kysely, sql } from 'kysely';

const RECORD_TABLES = ['patients', 'prescriptions', 'invoices', 'files'] as const;
const SESSION_KEYS = [
  ['organization_id', 'medreport.organizations', 'id'],
  ['created_by', 'medreport.users', 'id'],
] as const;

// A record's `organization_id` and `created_by` are the organization and the actor of a verified
// session, written only by the mutation path (domain/medreport/records/mutation.ts); row-level
// security's WITH CHECK holds the organization to the connection's context. Their foreign keys
// checked that again for every row: two index probes and row locks per item, 1.5–1.8 ms of a
// 100-item sync push's 6 ms statement (docs/benchmarks.md), as the activity log's did (0008).
//
// What those keys guaranteed still holds by construction: organizations and accounts are never
// deleted (an account is anonymised and keeps its row, docs/admin.md), and the triggers below
// refuse a DELETE or TRUNCATE of either table from anyone, the owner included. The keys a client
// names (a prescription's patient and doctor, a file's owner) keep their foreign keys.
export async function up(db: Kysely<any>): Promise<void> {
  for (const table of RECORD_TABLES) {
    for (const [column] of SESSION_KEYS) {
      await sql`alter table ${sql.table(`medreport.${table}`)}
        drop constraint ${sql.id(`${table}_${column}_fkey`)}`.execute(db);
    }
  }
  await sql`
    create function medreport.refuse_removal() returns trigger language plpgsql as $$
    begin
      raise exception '% rows are never removed: records keep referring to them', tg_table_name
        using errcode = 'restrict_violation';
    end $$`.execute(db);
  for (const [, parent] of SESSION_KEYS) {
    const name = parent.split('.')[1]!;
    await sql`create trigger ${sql.id(`${name}_never_deleted`)} before delete on ${sql.table(parent)}
      for each row execute function medreport.refuse_removal()`.execute(db);
    await sql`create trigger ${sql.id(`${name}_never_truncated`)} before truncate on ${sql.table(parent)}
      for each statement execute function medreport.refuse_removal()`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [, parent] of SESSION_KEYS) {
    const name = parent.split('.')[1]!;
    await sql`drop trigger ${sql.id(`${name}_never_truncated`)} on ${sql.table(parent)}`.execute(db);
    await sql`drop trigger ${sql.id(`${name}_never_deleted`)} on ${sql.table(parent)}`.execute(db);
  }
  await sql`drop function medreport.refuse_removal()`.execute(db);
  for (const table of RECORD_TABLES) {
    for (const [column, parent, key] of SESSION_KEYS) {
      await sql`alter table ${sql.table(`medreport.${table}`)}
        add constraint ${sql.id(`${table}_${column}_fkey`)} foreign key (${sql.id(column)})
        references ${sql.table(parent)} (${sql.id(key)})`.execute(db);
    }
  }
}
