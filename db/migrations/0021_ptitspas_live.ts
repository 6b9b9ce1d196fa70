import { type Kysely, sql } from 'kysely';

// PtitsPas live delivery (docs/ptitspas.md, Notifications): triggers announce at commit, so no
// writer (another instance, the CLI, psql) can forget and a rolled-back cause announces nothing.
// - `ptitspas_notifications`: `<recipient id>:<notification id>` for each new notification; the
//   recipient is the routing key (an instance reads only the rows of its own sockets' accounts),
//   the row itself is read by the instance that delivers it.
// - `ptitspas_auth`: `f:<login id>` when a login changes (revocation) or goes, `u:<account id>`
//   when an account changes (suspension, role) or goes: sockets of that login or account are checked again.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function ptitspas.announce_notification() returns trigger language plpgsql as $$
    begin
      perform pg_notify('ptitspas_notifications', new.id_destinataire::text || ':' || new.id::text);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger notifications_announce after insert on ptitspas.notifications
    for each row execute function ptitspas.announce_notification()`.execute(db);
  await sql`
    create function ptitspas.announce_auth_change() returns trigger language plpgsql as $$
    begin
      perform pg_notify('ptitspas_auth',
        case when tg_table_name = 'refresh_families' then 'f:' else 'u:' end || old.id::text);
      return null;
    end $$`.execute(db);
  await sql`
    create trigger refresh_families_announce after update or delete on ptitspas.refresh_families
    for each row execute function ptitspas.announce_auth_change()`.execute(db);
  await sql`
    create trigger utilisateurs_announce after update of statut, role or delete on ptitspas.utilisateurs
    for each row execute function ptitspas.announce_auth_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger utilisateurs_announce on ptitspas.utilisateurs`.execute(db);
  await sql`drop trigger refresh_families_announce on ptitspas.refresh_families`.execute(db);
  await sql`drop function ptitspas.announce_auth_change()`.execute(db);
  await sql`drop trigger notifications_announce on ptitspas.notifications`.execute(db);
  await sql`drop function ptitspas.announce_notification()`.execute(db);
}
