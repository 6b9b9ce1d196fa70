import { type Kysely, sql } from 'kysely';

// PtitsPas v1.4: the day of a child as its childminder records it (docs/ptitspas.md, Événements).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ptitspas.evenements (
      id uuid primary key,
      id_enfant uuid not null references ptitspas.enfants (id) on delete cascade,
      id_auteur uuid references ptitspas.utilisateurs (id) on delete set null,
      type text not null check (type in ('arrivee', 'depart', 'repas', 'biberon', 'sieste', 'change', 'activite',
        'humeur', 'temperature', 'medicament', 'incident', 'photo', 'note')),
      survenu_le timestamptz not null,
      -- Checked per type by domain/ptitspas/evenements/details.ts.
      details jsonb not null,
      note text,
      -- A photo's picture; the upload cannot be deleted while an event shows it (409).
      id_upload uuid references ptitspas.uploads (id),
      cree_le timestamptz not null default now()
    )`.execute(db);
  // A child's events in time order: the list, the day's journal, and their pages.
  await sql`create index evenements_enfant_idx on ptitspas.evenements (id_enfant, survenu_le, id)`.execute(db);
  await sql`create index evenements_upload_idx on ptitspas.evenements (id_upload) where id_upload is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ptitspas.evenements`.execute(db);
}
