import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { NotificationsTable, NotificationType } from '../../../db/schema-ptitspas.js';
import { uuidv7 } from '../../../db/uuid.js';

export interface NewNotification {
  type: NotificationType;
  /** Short, and free of health or court details: it may show on a locked phone. */
  titre: string;
  corps: string;
  lien: { type: NotificationsTable['lien_type']; id: string };
}

/**
 * The one way anything notifies anyone: one row per recipient, written with `trx`, the
 * transaction of what caused it, so a rolled-back cause notifies no one and a committed one
 * loses nothing. The row is the notification; live delivery follows from it.
 */
export async function notify(trx: Kysely<Database>, recipients: readonly string[], notification: NewNotification) {
  const unique = [...new Set(recipients)];
  if (unique.length === 0) return;
  await trx
    .insertInto('ptitspas.notifications')
    .values(
      unique.map((id) => ({
        id: uuidv7(),
        id_destinataire: id,
        type: notification.type,
        titre: notification.titre,
        corps: notification.corps,
        lien_type: notification.lien.type,
        lien_id: notification.lien.id,
      })),
    )
    .execute();
}
