import { type Kysely, sql } from 'kysely';

// Avatars are looked up by their stored name to check who may see them; names are unique.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create unique index users_avatar_key on medreport.users (avatar) where avatar is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index medreport.users_avatar_key`.execute(db);
}
