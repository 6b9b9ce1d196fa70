import { type Kysely, sql } from 'kysely';

// The activity log is an audit trail written only by the mutation path
// (routes/medreport/mutation.ts), with the organization and the actor of a verified session. Its
// foreign keys checked that again for every entry (a third of a 100-item sync push's database
// time) and the one to users would block deleting a user whose entries must stay, anonymised.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table medreport.activity_log drop constraint activity_log_organization_id_fkey`.execute(db);
  await sql`alter table medreport.activity_log drop constraint activity_log_user_id_fkey`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table medreport.activity_log add constraint activity_log_organization_id_fkey
    foreign key (organization_id) references medreport.organizations (id)`.execute(db);
  await sql`alter table medreport.activity_log add constraint activity_log_user_id_fkey
    foreign key (user_id) references medreport.users (id)`.execute(db);
}
