import { type Kysely, sql } from 'kysely';

// PtitsPas v1.4: uploaded files, children's enrolment dossiers, and the notifications their steps
// write (read and delivered by the notifications work; written from now on, in the same
// transaction as their cause).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ptitspas.uploads (
      id uuid primary key,
      nom text not null,
      type_mime text not null check (type_mime in ('application/pdf', 'image/jpeg', 'image/png', 'image/webp')),
      taille bigint not null check (taille > 0),
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      categorie text not null check (categorie in
        ('carnet_vaccination', 'attestation_assurance', 'decision_justice', 'ordonnance', 'photo', 'autre')),
      -- A child's files go with the child; their bytes are then orphans that storage:check removes.
      id_enfant uuid references ptitspas.enfants (id) on delete cascade,
      id_auteur uuid references ptitspas.utilisateurs (id) on delete set null,
      -- Where the bytes are in storage: the server's business, never in an answer.
      cle text not null unique,
      cree_le timestamptz not null default now()
    )`.execute(db);
  await sql`create index uploads_enfant_idx on ptitspas.uploads (id_enfant) where id_enfant is not null`.execute(db);
  await sql`create index uploads_auteur_idx on ptitspas.uploads (id_auteur)`.execute(db);

  await sql`
    create table ptitspas.dossiers (
      id_enfant uuid primary key references ptitspas.enfants (id) on delete cascade,
      statut text not null default 'brouillon' check (statut in ('brouillon', 'soumis', 'valide', 'a_completer')),
      responsables jsonb not null,
      contacts_urgence jsonb not null,
      personnes_autorisees jsonb not null,
      sante jsonb not null,
      autorisations jsonb not null,
      historique jsonb not null default '[]',
      cree_le timestamptz not null default now(),
      modifie_le timestamptz not null default now()
    )`.execute(db);
  await sql`create index dossiers_cree_le_idx on ptitspas.dossiers (cree_le desc, id_enfant desc)`.execute(db);
  await sql`create index dossiers_statut_idx on ptitspas.dossiers (statut, cree_le desc)`.execute(db);

  // An upload listed as a piece cannot be deleted (the foreign key refuses: 409), race-free.
  await sql`
    create table ptitspas.dossiers_pieces (
      id_enfant uuid not null references ptitspas.dossiers (id_enfant) on delete cascade,
      id_upload uuid not null references ptitspas.uploads (id),
      position integer not null,
      primary key (id_enfant, id_upload)
    )`.execute(db);
  await sql`create index dossiers_pieces_upload_idx on ptitspas.dossiers_pieces (id_upload)`.execute(db);

  await sql`
    create table ptitspas.notifications (
      id uuid primary key,
      id_destinataire uuid not null references ptitspas.utilisateurs (id) on delete cascade,
      type text not null check (type in ('compte_valide', 'dossier_soumis', 'dossier_valide', 'dossier_a_completer',
        'contrat_propose', 'contrat_signe', 'evenement', 'message')),
      titre text not null,
      corps text not null,
      lien_type text not null check (lien_type in ('dossier', 'contrat', 'evenement', 'conversation', 'utilisateur')),
      lien_id uuid not null,
      cree_le timestamptz not null default now(),
      lue_le timestamptz
    )`.execute(db);
  await sql`create index notifications_destinataire_idx on ptitspas.notifications (id_destinataire, id desc)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ptitspas.notifications`.execute(db);
  await sql`drop table ptitspas.dossiers_pieces`.execute(db);
  await sql`drop table ptitspas.dossiers`.execute(db);
  await sql`drop table ptitspas.uploads`.execute(db);
}
