import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { NotificationsTable } from '../../../db/schema-ptitspas.js';
import { NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import type { Notification, NotificationListOptions } from './model.js';

/**
 * Reading one's notifications: each account only its own (another's is 404, as if it did not
 * exist). Ids are uuid v7, so "newest first" is the id order, the index's
 * (`id_destinataire, id desc`).
 */

const NOTIFICATION_NOT_FOUND = 'Notification non trouvée';

function shown(row: Selectable<NotificationsTable>): Notification {
  return {
    id: row.id,
    type: row.type,
    titre: row.titre,
    corps: row.corps,
    lien: { type: row.lien_type, id: row.lien_id },
    cree_le: row.cree_le.toISOString(),
    lue_le: row.lue_le?.toISOString() ?? null,
  };
}

const own = (db: Kysely<Database>, recipient: string) =>
  db.selectFrom('ptitspas.notifications as n').where('n.id_destinataire', '=', recipient);

/** GET /notifications: a page of `recipient`'s, newest first, only the unread with `non_lues`. */
export async function listNotifications(db: Kysely<Database>, recipient: string, options: NotificationListOptions) {
  let query = own(db, recipient).selectAll('n');
  if (options.non_lues) query = query.where('n.lue_le', 'is', null);
  const { rows, total } = await paginate<Selectable<NotificationsTable>>(query.orderBy('n.id', 'desc'), options);
  return { rows: rows.map(shown), total };
}

/** GET /notifications/compteur: how many of `recipient`'s are unread (a partial index counts them). */
export async function countUnread(db: Kysely<Database>, recipient: string): Promise<{ non_lues: number }> {
  const { n } = await own(db, recipient)
    .where('n.lue_le', 'is', null)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return { non_lues: Number(n) };
}

/** PATCH /notifications/:id/lue: read now, or when it was first read; 404 for another's. */
export async function markRead(db: Kysely<Database>, recipient: string, id: string): Promise<Notification> {
  const row = await db
    .updateTable('ptitspas.notifications')
    .set({ lue_le: sql`coalesce(lue_le, now())` })
    .where('id', '=', id)
    .where('id_destinataire', '=', recipient)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new NotFound(NOTIFICATION_NOT_FOUND);
  return shown(row);
}

/** PATCH /notifications/lues: every unread one read now; how many were. */
export async function markAllRead(db: Kysely<Database>, recipient: string): Promise<{ modifiees: number }> {
  const result = await db
    .updateTable('ptitspas.notifications')
    .set({ lue_le: sql`now()` })
    .where('id_destinataire', '=', recipient)
    .where('lue_le', 'is', null)
    .executeTakeFirst();
  return { modifiees: Number(result.numUpdatedRows) };
}
