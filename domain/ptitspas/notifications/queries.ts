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

/** A replay: `recipient`'s notifications after id `depuis` (read or not), oldest first, at most `limit`. */
export async function notificationsAfter(db: Kysely<Database>, recipient: string, depuis: string, limit: number) {
  const rows = await own(db, recipient)
    .selectAll('n')
    .where('n.id', '>', depuis)
    .orderBy('n.id')
    .limit(limit)
    .execute();
  return rows.map(shown);
}

/** Live delivery: the announced notifications `ids`, with their recipient, in id order. */
export async function notificationsByIds(db: Kysely<Database>, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('ptitspas.notifications')
    .selectAll()
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({ recipient: row.id_destinataire, notification: shown(row) }));
}

/** Of the logins `familyIds`, those still live for an active account (sockets of the others close). */
export async function liveLogins(db: Kysely<Database>, familyIds: readonly string[]): Promise<Set<string>> {
  if (familyIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('ptitspas.refresh_families as f')
    .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'f.id_utilisateur')
    .select('f.id')
    .where('f.id', '=', sql<string>`any(${familyIds}::uuid[])`)
    .where('f.revoque_le', 'is', null)
    .where('u.statut', '=', 'actif')
    .execute();
  return new Set(rows.map((r) => r.id));
}

/** The id of `recipient`'s latest notification: where a socket opened without `depuis` starts. */
export async function latestNotificationId(db: Kysely<Database>, recipient: string): Promise<string | undefined> {
  const row = await own(db, recipient).select('n.id').orderBy('n.id', 'desc').limit(1).executeTakeFirst();
  return row?.id;
}
