import { type Kysely, sql } from 'kysely';

// PtitsPas v1.4: conversations between accounts (docs/ptitspas.md, Messages).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table ptitspas.conversations (
      id uuid primary key,
      sujet text not null,
      id_enfant uuid references ptitspas.enfants (id) on delete set null,
      id_createur uuid references ptitspas.utilisateurs (id) on delete set null,
      cree_le timestamptz not null default now(),
      -- The last activity (its last message): the lists' order.
      modifie_le timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table ptitspas.conversations_participants (
      id_conversation uuid not null references ptitspas.conversations (id) on delete cascade,
      id_utilisateur uuid not null references ptitspas.utilisateurs (id) on delete cascade,
      -- The last message this participant has read (uuid v7: every message up to it).
      lu_jusqua uuid,
      primary key (id_conversation, id_utilisateur)
    )`.execute(db);
  await sql`create index conversations_participants_utilisateur_idx on ptitspas.conversations_participants (id_utilisateur)`.execute(
    db,
  );
  await sql`
    create table ptitspas.messages (
      id uuid primary key,
      id_conversation uuid not null references ptitspas.conversations (id) on delete cascade,
      id_auteur uuid references ptitspas.utilisateurs (id) on delete set null,
      contenu text not null check (length(contenu) between 1 and 5000),
      id_upload uuid references ptitspas.uploads (id),
      cree_le timestamptz not null default now()
    )`.execute(db);
  // A conversation's messages newest first, by pages (`avant`), and the unread counts.
  await sql`create index messages_conversation_idx on ptitspas.messages (id_conversation, id desc)`.execute(db);
  await sql`create index messages_upload_idx on ptitspas.messages (id_upload) where id_upload is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop table ptitspas.messages`.execute(db);
  await sql`drop table ptitspas.conversations_participants`.execute(db);
  await sql`drop table ptitspas.conversations`.execute(db);
}
