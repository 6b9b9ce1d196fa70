import { type Kysely, sql } from 'kysely';

// PtitsPas accounts (docs/ptitspas.md): one table of users with the five roles, the profile rows
// of parents and childminders that registration creates, the history of validations and
// suspensions, refresh-token families with their rotated tokens, and set-password links.
// Column names follow the API's French vocabulary; nothing here is shared with medreport.
export async function up(db: Kysely<any>): Promise<void> {
  // pg_trgm and unaccent were created by 0009; their schema is looked up, never assumed.
  const schemaOf = async (extension: string) =>
    (
      await sql<{ schema: string }>`
        select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
         where e.extname = ${extension}`.execute(db)
    ).rows[0]!.schema;
  const unaccent = await schemaOf('unaccent');
  const trgm = await schemaOf('pg_trgm');
  await sql`
    create function ptitspas.fold(text) returns text
    language sql immutable parallel safe strict
    return lower(${sql.id(unaccent, 'unaccent')}(${sql.lit(`${unaccent}.unaccent`)}::regdictionary, $1))`.execute(db);

  await sql`
    create table ptitspas.utilisateurs (
      id uuid primary key,
      email text not null,
      password_hash text,
      prenom text not null,
      nom text not null,
      telephone text,
      adresse text,
      role text not null
        check (role in ('super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle', 'parent')),
      statut text not null default 'en_attente' check (statut in ('en_attente', 'actif', 'suspendu')),
      cree_le timestamptz not null default now(),
      modifie_le timestamptz not null default now(),
      -- Lower case, no accents: what the lists' search matches.
      recherche text generated always as (ptitspas.fold(prenom || ' ' || nom || ' ' || email)) stored
    )`.execute(db);
  // E-mail addresses are unique whatever their case (they are also stored in lower case).
  await sql`create unique index utilisateurs_email_key on ptitspas.utilisateurs (lower(email))`.execute(db);
  await sql`create index utilisateurs_cree_le_idx on ptitspas.utilisateurs (cree_le desc, id desc)`.execute(db);
  await sql`create index utilisateurs_role_idx on ptitspas.utilisateurs (role, cree_le desc, id desc)`.execute(db);
  await sql`create index utilisateurs_recherche_idx on ptitspas.utilisateurs using gin (recherche ${sql.id(trgm, 'gin_trgm_ops')})`.execute(
    db,
  );

  await sql`
    create table ptitspas.parents (
      id_utilisateur uuid primary key references ptitspas.utilisateurs (id) on delete cascade,
      id_co_parent uuid references ptitspas.parents (id_utilisateur) on delete set null
        check (id_co_parent <> id_utilisateur)
    )`.execute(db);

  await sql`
    create table ptitspas.assistantes_maternelles (
      id_utilisateur uuid primary key references ptitspas.utilisateurs (id) on delete cascade,
      numero_agrement text not null,
      date_agrement date not null,
      nb_max_enfants integer not null check (nb_max_enfants >= 1),
      place_disponible integer not null check (place_disponible between 0 and nb_max_enfants),
      disponible boolean not null default true,
      biographie text,
      ville_residence text,
      annee_experience integer check (annee_experience >= 0),
      specialite text
    )`.execute(db);
  await sql`create unique index assistantes_maternelles_numero_agrement_key
              on ptitspas.assistantes_maternelles (upper(numero_agrement))`.execute(db);

  // Who validated or suspended an account, when, why: kept when the actor's account is deleted.
  await sql`
    create table ptitspas.historique_statuts (
      id bigint generated always as identity primary key,
      id_utilisateur uuid not null references ptitspas.utilisateurs (id) on delete cascade,
      ancien_statut text not null,
      nouveau_statut text not null,
      commentaire text,
      par uuid references ptitspas.utilisateurs (id) on delete set null,
      cree_le timestamptz not null default now()
    )`.execute(db);
  await sql`create index historique_statuts_utilisateur_idx on ptitspas.historique_statuts (id_utilisateur, cree_le)`.execute(
    db,
  );

  // One family per login: every refresh token rotated from it belongs to it, and revoking the
  // family (logout, reuse detected, suspension) ends them all and the access tokens naming it.
  await sql`
    create table ptitspas.refresh_families (
      id uuid primary key,
      id_utilisateur uuid not null references ptitspas.utilisateurs (id) on delete cascade,
      cree_le timestamptz not null default now(),
      revoque_le timestamptz,
      motif_revocation text check (motif_revocation in ('logout', 'reuse', 'suspension'))
    )`.execute(db);
  await sql`create index refresh_families_utilisateur_idx on ptitspas.refresh_families (id_utilisateur)
              where revoque_le is null`.execute(db);
  await sql`
    create table ptitspas.refresh_tokens (
      token_hash bytea primary key,
      id_famille uuid not null references ptitspas.refresh_families (id) on delete cascade,
      cree_le timestamptz not null default now(),
      expire_le timestamptz not null,
      -- Set when the token was exchanged: presenting it again is reuse (or a retry, within the grace).
      remplace_le timestamptz,
      successeur bytea
    )`.execute(db);
  await sql`create index refresh_tokens_famille_idx on ptitspas.refresh_tokens (id_famille)`.execute(db);

  await sql`
    create table ptitspas.liens_mot_de_passe (
      token_hash bytea primary key,
      id_utilisateur uuid not null references ptitspas.utilisateurs (id) on delete cascade,
      cree_le timestamptz not null default now(),
      expire_le timestamptz not null,
      utilise_le timestamptz
    )`.execute(db);
  await sql`create index liens_mot_de_passe_utilisateur_idx on ptitspas.liens_mot_de_passe (id_utilisateur)
              where utilise_le is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'liens_mot_de_passe',
    'refresh_tokens',
    'refresh_families',
    'historique_statuts',
    'assistantes_maternelles',
    'parents',
    'utilisateurs',
  ]) {
    await sql`drop table ${sql.id('ptitspas', table)}`.execute(db);
  }
  await sql`drop function ptitspas.fold(text)`.execute(db);
}
