import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // The tenants. Not itself row-level secured: it is the registry the tenant context comes from.
  await sql`
    create table medreport.organizations (
      id bigint generated always as identity primary key,
      uuid uuid not null unique,
      name text not null,
      code text not null unique,
      owner_user_id bigint not null references medreport.users (id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    alter table medreport.users
      add constraint users_organization_id_fkey
      foreign key (organization_id) references medreport.organizations (id)`.execute(db);
  await sql`create index users_organization_id_idx on medreport.users (organization_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index medreport.users_organization_id_idx`.execute(db);
  await sql`alter table medreport.users drop constraint users_organization_id_fkey`.execute(db);
  await sql`drop table medreport.organizations`.execute(db);
}
