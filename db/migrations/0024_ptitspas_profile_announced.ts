import { type Kysely, sql } from 'kysely';

// PtitsPas callers are kept in process on every instance (plugins/ptitspas/caller-cache.ts) and
// GET /auth/me answers from them: a change to the name or e-mail must be announced like a
// suspension or a new role, or another instance would show the old profile until the login's
// cache entry expires.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop trigger utilisateurs_announce on ptitspas.utilisateurs`.execute(db);
  await sql`
    create trigger utilisateurs_announce after update of statut, role, email, prenom, nom or delete
    on ptitspas.utilisateurs for each row execute function ptitspas.announce_auth_change()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop trigger utilisateurs_announce on ptitspas.utilisateurs`.execute(db);
  await sql`
    create trigger utilisateurs_announce after update of statut, role or delete
    on ptitspas.utilisateurs for each row execute function ptitspas.announce_auth_change()`.execute(db);
}
