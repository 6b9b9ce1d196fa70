import { type Kysely, sql } from 'kysely';

// PtitsPas children and their parents, and the childminder's social security number (NIR),
// stored encrypted (AES-256-GCM, routes/ptitspas/assistantes-maternelles/nir.ts): the column holds
// ciphertext only, `nir_cle` names the key that encrypted it (key rotation, docs/ptitspas.md).
export async function up(db: Kysely<any>): Promise<void> {
  const trgm = (
    await sql<{ schema: string }>`
      select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace
       where e.extname = 'pg_trgm'`.execute(db)
  ).rows[0]!.schema;

  // Names sort as people expect (Éloïse before Hugo), whatever the database's own collation (C
  // in the embedded cluster). ICU ships with PostgreSQL's packages and images.
  await sql`create collation ptitspas.alphabetique (provider = icu, locale = 'und')`.execute(db);

  await sql`
    create table ptitspas.enfants (
      id uuid primary key,
      prenom text not null,
      nom text not null,
      genre text not null check (genre in ('H', 'F')),
      date_naissance date not null,
      statut text not null default 'actif' check (statut in ('actif', 'scolarise', 'inactif')),
      consentement_photo boolean not null default false,
      cree_le timestamptz not null default now(),
      modifie_le timestamptz not null default now(),
      recherche text generated always as (ptitspas.fold(prenom || ' ' || nom)) stored
    )`.execute(db);
  await sql`create index enfants_cree_le_idx on ptitspas.enfants (cree_le desc, id desc)`.execute(db);
  await sql`create index enfants_recherche_idx on ptitspas.enfants using gin (recherche ${sql.id(trgm, 'gin_trgm_ops')})`.execute(
    db,
  );

  // Who a child's parents are. A parent's co-parent sees the child too (through parents.id_co_parent).
  await sql`
    create table ptitspas.enfants_parents (
      id_enfant uuid not null references ptitspas.enfants (id) on delete cascade,
      id_parent uuid not null references ptitspas.parents (id_utilisateur) on delete cascade,
      primary key (id_enfant, id_parent)
    )`.execute(db);
  await sql`create index enfants_parents_parent_idx on ptitspas.enfants_parents (id_parent)`.execute(db);

  await sql`alter table ptitspas.assistantes_maternelles add column nir_chiffre bytea, add column nir_cle text`.execute(
    db,
  );
  await sql`alter table ptitspas.assistantes_maternelles add constraint assistantes_maternelles_nir_cle_check
              check ((nir_chiffre is null) = (nir_cle is null))`.execute(db);
  await sql`create index assistantes_maternelles_nir_cle_idx on ptitspas.assistantes_maternelles (nir_cle)
              where nir_cle is not null`.execute(db);
  // Lists filter on these.
  await sql`create index assistantes_maternelles_ville_idx on ptitspas.assistantes_maternelles (lower(ville_residence))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index ptitspas.assistantes_maternelles_ville_idx`.execute(db);
  await sql`alter table ptitspas.assistantes_maternelles drop column nir_cle, drop column nir_chiffre`.execute(db);
  await sql`drop table ptitspas.enfants_parents`.execute(db);
  await sql`drop table ptitspas.enfants`.execute(db);
  await sql`drop collation ptitspas.alphabetique`.execute(db);
}
