import { type Kysely, sql } from 'kysely';

// PtitsPas v1.4: childminding contracts (docs/ptitspas.md, Contrats). Money is integer cents and
// hours integer hundredths; the JSON shows them as euros and hours (domain/ptitspas/contrats).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ptitspas.contrats (
      id uuid primary key,
      statut text not null default 'brouillon' check (statut in ('brouillon', 'propose', 'signe', 'termine')),
      -- A contract is an employment record: the child and its parties cannot be deleted under it
      -- (the deletes answer 409, domain/ptitspas/contrats/rules.ts).
      id_enfant uuid not null constraint contrats_enfant_fkey references ptitspas.enfants (id),
      id_parent_employeur uuid not null constraint contrats_employeur_fkey references ptitspas.utilisateurs (id),
      id_assistante_maternelle uuid not null constraint contrats_assistante_fkey references ptitspas.utilisateurs (id),
      -- Who created it: with staff, who may change and propose it (staff alone once the account is gone).
      id_auteur uuid references ptitspas.utilisateurs (id) on delete set null,
      type_contrat text not null check (type_contrat in ('cdi', 'cdd')),
      date_debut date not null,
      date_fin date check (date_fin >= date_debut),
      periode_essai_jours integer check (periode_essai_jours between 0 and 92),
      annee_complete boolean not null,
      semaines_programmees integer not null check (semaines_programmees between 1 and 52),
      versement_conges_payes text check (versement_conges_payes in ('juin', 'prise_principale', 'au_fur_et_a_mesure')),
      planning jsonb not null,
      taux_horaire_centimes integer not null check (taux_horaire_centimes > 0),
      majoration_heures_majorees integer check (majoration_heures_majorees between 10 and 100),
      indemnite_entretien_centimes integer not null check (indemnite_entretien_centimes >= 0),
      indemnite_repas_centimes integer check (indemnite_repas_centimes >= 0),
      jour_paiement integer not null check (jour_paiement between 1 and 31),
      lieu_accueil text not null,
      -- Computed from the planning and the rate by domain/ptitspas/contrats/pay.ts, never sent.
      heures_hebdo_centiemes integer not null,
      heures_mensualisees_centiemes integer not null,
      heures_majorees_hebdo_centiemes integer not null,
      salaire_mensuel_centimes integer not null,
      signatures jsonb not null default '[]',
      code_verification text not null unique check (code_verification ~ '^[0-9A-HJKMNP-TV-Z]{20}$'),
      -- The signed document, rendered once at the last signature: where it is, and its digest.
      signe_le timestamptz,
      document_cle text unique,
      document_sha256 text check (document_sha256 ~ '^[0-9a-f]{64}$'),
      motif_fin text,
      cree_le timestamptz not null default now(),
      modifie_le timestamptz not null default now(),
      check ((statut in ('signe', 'termine')) = (signe_le is not null and document_cle is not null))
    )`.execute(db);
  await sql`create index contrats_enfant_idx on ptitspas.contrats (id_enfant)`.execute(db);
  await sql`create index contrats_employeur_idx on ptitspas.contrats (id_parent_employeur)`.execute(db);
  await sql`create index contrats_assistante_idx on ptitspas.contrats (id_assistante_maternelle, statut)`.execute(db);
  await sql`create index contrats_cree_le_idx on ptitspas.contrats (cree_le desc, id desc)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ptitspas.contrats`.execute(db);
}
