import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { MessagesTable, PtitsPasRole } from '../../../db/schema-ptitspas.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Forbidden, Invalid, NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { visibleEnfants } from '../enfants/visibility.js';
import { notify } from '../notifications/notify.js';
import type { Conversation, ConversationBody, Message, MessageBody, MessagePage } from './model.js';

/**
 * Conversations (ptitspas-evolutions.md, Messages). Who may talk to whom: staff with anyone; a
 * parent with the childminders of their children's signed contracts and with staff; a childminder
 * with the parents of those children and with staff. Every pair of members of a conversation must
 * be allowed (otherwise one member would learn of, and write to, another they may not reach).
 * A conversation one is not in is 404.
 */

const CONVERSATION_NOT_FOUND = 'Conversation non trouvée';
const STAFF: readonly PtitsPasRole[] = ['super_admin', 'administrateur', 'gestionnaire'];

type Member = { id: string; role: PtitsPasRole };

/** Whether parent `parent` and childminder `assistante` share a child under a signed contract. */
async function shareSignedContract(db: Kysely<Database>, parent: string, assistante: string) {
  const asParent = { id: parent, role: 'parent' } as PtitsPasCaller;
  const row = await db
    .selectFrom('ptitspas.contrats as c')
    .select('c.id')
    .where('c.statut', '=', 'signe')
    .where('c.id_assistante_maternelle', '=', assistante)
    .where('c.id_enfant', 'in', visibleEnfants(db, asParent).select('e.id'))
    .executeTakeFirst();
  return row !== undefined;
}

async function mayTalk(db: Kysely<Database>, a: Member, b: Member) {
  if (STAFF.includes(a.role) || STAFF.includes(b.role)) return true;
  if (a.role === 'parent' && b.role === 'assistante_maternelle') return shareSignedContract(db, a.id, b.id);
  if (a.role === 'assistante_maternelle' && b.role === 'parent') return shareSignedContract(db, b.id, a.id);
  return false;
}

/** POST /messages/conversations: the creator and `participants`, every pair allowed (403 otherwise). */
export async function createConversation(db: Kysely<Database>, caller: PtitsPasCaller, body: ConversationBody) {
  const others = [...new Set(body.participants.map((id) => id.toLowerCase()))].filter((id) => id !== caller.id);
  if (others.length === 0) {
    throw new Invalid('Une conversation demande au moins un autre participant', {
      participants: ['Au moins un autre participant.'],
    });
  }
  const id = uuidv7();
  await db.transaction().execute(async (trx) => {
    const found = await trx
      .selectFrom('ptitspas.utilisateurs')
      .select(['id', 'role'])
      .where('id', 'in', others)
      .where('statut', '=', 'actif')
      .execute();
    if (found.length !== others.length) {
      throw new Invalid('Un participant n’est pas un compte actif', {
        participants: ['Chaque participant doit être un compte actif.'],
      });
    }
    const members: Member[] = [{ id: caller.id, role: caller.role }, ...found];
    for (const [i, a] of members.entries()) {
      for (const b of members.slice(i + 1)) {
        if (!(await mayTalk(trx, a, b))) {
          throw new Forbidden('Ces comptes ne peuvent pas échanger de messages ensemble');
        }
      }
    }
    if (body.id_enfant) {
      const enfant = await visibleEnfants(trx, caller)
        .select('e.id')
        .where('e.id', '=', body.id_enfant)
        .executeTakeFirst();
      if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
    }
    await trx
      .insertInto('ptitspas.conversations')
      .values({ id, sujet: body.sujet.trim(), id_enfant: body.id_enfant ?? null, id_createur: caller.id })
      .execute();
    await trx
      .insertInto('ptitspas.conversations_participants')
      .values(members.map((m) => ({ id_conversation: id, id_utilisateur: m.id })))
      .execute();
  });
  return getConversation(db, caller, id);
}

/** The conversations `caller` is in, with their members and `caller`'s unread count. */
function conversationsOf(db: Kysely<Database>, caller: PtitsPasCaller) {
  return db
    .selectFrom('ptitspas.conversations as c')
    .innerJoin('ptitspas.conversations_participants as me', (join) =>
      join.onRef('me.id_conversation', '=', 'c.id').on('me.id_utilisateur', '=', caller.id),
    )
    .selectAll('c')
    .select([
      sql<string[]>`array(select p.id_utilisateur from ptitspas.conversations_participants p
                           where p.id_conversation = c.id order by p.id_utilisateur)`.as('participants'),
      sql<number>`(select count(*)::int from ptitspas.messages m
                    where m.id_conversation = c.id and m.id_auteur is distinct from ${caller.id}
                      and (me.lu_jusqua is null or m.id > me.lu_jusqua))`.as('non_lus'),
    ]);
}

type ConversationRow = {
  id: string;
  sujet: string;
  id_enfant: string | null;
  participants: string[];
  non_lus: number;
  cree_le: Date;
  modifie_le: Date;
};

const shownConversation = (row: ConversationRow): Conversation => ({
  id: row.id,
  sujet: row.sujet,
  id_enfant: row.id_enfant,
  participants: row.participants,
  non_lus: row.non_lus,
  cree_le: row.cree_le.toISOString(),
  modifie_le: row.modifie_le.toISOString(),
});

async function getConversation(db: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  const row = await conversationsOf(db, caller).where('c.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(CONVERSATION_NOT_FOUND);
  return shownConversation(row);
}

/** GET /messages/conversations: latest activity first. */
export async function listConversations(db: Kysely<Database>, caller: PtitsPasCaller) {
  const rows = await conversationsOf(db, caller).orderBy('c.modifie_le', 'desc').orderBy('c.id', 'desc').execute();
  return rows.map(shownConversation);
}

/** NotFound unless `caller` is in conversation `id`; locks nothing. */
async function assertMember(db: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  const row = await db
    .selectFrom('ptitspas.conversations_participants')
    .select('id_conversation')
    .where('id_conversation', '=', id)
    .where('id_utilisateur', '=', caller.id)
    .executeTakeFirst();
  if (!row) throw new NotFound(CONVERSATION_NOT_FOUND);
}

const shownMessage = (row: Selectable<MessagesTable>): Message => ({
  id: row.id,
  id_conversation: row.id_conversation,
  id_auteur: row.id_auteur,
  contenu: row.contenu,
  id_upload: row.id_upload,
  cree_le: row.cree_le.toISOString(),
});

/** GET …/messages: newest first, `limit` at a time, those before message `avant` (keyset on the id). */
export async function listMessages(db: Kysely<Database>, caller: PtitsPasCaller, id: string, page: MessagePage) {
  await assertMember(db, caller, id);
  const rows = await db
    .selectFrom('ptitspas.messages')
    .selectAll()
    .where('id_conversation', '=', id)
    .$if(page.avant !== undefined, (q) => q.where('id', '<', page.avant!))
    .orderBy('id', 'desc')
    .limit(page.limit)
    .execute();
  return rows.map(shownMessage);
}

/**
 * POST …/messages: the message, the conversation's activity, a notification to every other
 * member (neither subject nor text in it), in one transaction. A file sent along is one of the author's uploads.
 */
export async function postMessage(db: Kysely<Database>, caller: PtitsPasCaller, id: string, body: MessageBody) {
  return db.transaction().execute(async (trx) => {
    await assertMember(trx, caller, id);
    if (body.id_upload) {
      const own = await trx
        .selectFrom('ptitspas.uploads')
        .select('id')
        .where('id', '=', body.id_upload)
        .where('id_auteur', '=', caller.id)
        .forKeyShare()
        .executeTakeFirst();
      if (!own) {
        throw new Invalid('id_upload doit désigner un de vos fichiers', {
          id_upload: ['Le champ id_upload doit désigner un de vos fichiers.'],
        });
      }
    }
    const row = await trx
      .insertInto('ptitspas.messages')
      .values({
        id: uuidv7(),
        id_conversation: id,
        id_auteur: caller.id,
        contenu: body.contenu,
        id_upload: body.id_upload ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.updateTable('ptitspas.conversations').set({ modifie_le: sql`now()` }).where('id', '=', id).execute();
    const others = await trx
      .selectFrom('ptitspas.conversations_participants')
      .select('id_utilisateur')
      .where('id_conversation', '=', id)
      .where('id_utilisateur', '<>', caller.id)
      .execute();
    await notify(
      trx,
      others.map((o) => o.id_utilisateur),
      {
        type: 'message',
        titre: `Message de ${caller.prenom} ${caller.nom}`,
        // Neither the subject nor the text: either may hold health details, and this may show on a locked phone.
        corps: 'Vous avez reçu un nouveau message.',
        lien: { type: 'conversation', id },
      },
    );
    return shownMessage(row);
  });
}

/** PATCH …/lu `{ jusqua }`: everything up to that message is read (a mark only moves forward). */
export async function markConversationRead(db: Kysely<Database>, caller: PtitsPasCaller, id: string, jusqua: string) {
  await assertMember(db, caller, id);
  const message = await db
    .selectFrom('ptitspas.messages')
    .select('id')
    .where('id', '=', jusqua)
    .where('id_conversation', '=', id)
    .executeTakeFirst();
  if (!message) {
    throw new Invalid('jusqua doit désigner un message de cette conversation', {
      jusqua: ['Le champ jusqua doit désigner un message de cette conversation.'],
    });
  }
  await db
    .updateTable('ptitspas.conversations_participants')
    .set({ lu_jusqua: sql`greatest(lu_jusqua, ${message.id}::uuid)` })
    .where('id_conversation', '=', id)
    .where('id_utilisateur', '=', caller.id)
    .execute();
  return getConversation(db, caller, id);
}
