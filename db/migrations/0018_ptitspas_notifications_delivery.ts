import { type Kysely, sql } from 'kysely';

// PtitsPas v1.4 notifications, read and delivered (docs/ptitspas.md, Notifications): the unread
// count's index, and the single-use tickets a browser opens its WebSocket with.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index notifications_non_lues_idx on ptitspas.notifications (id_destinataire) where lue_le is null`.execute(
    db,
  );
  // A ticket stands for the login (refresh family) that asked for it: revoking the login revokes
  // it. Only its hash is stored; it is deleted when used.
  await sql`
    create table ptitspas.tickets_ws (
      ticket_hash bytea primary key,
      id_famille uuid not null references ptitspas.refresh_families (id) on delete cascade,
      expire_le timestamptz not null
    )`.execute(db);
  await sql`create index tickets_ws_expire_le_idx on ptitspas.tickets_ws (expire_le)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ptitspas.tickets_ws`.execute(db);
  await sql`drop index ptitspas.notifications_non_lues_idx`.execute(db);
}
