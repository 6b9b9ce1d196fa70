import { type Kysely, sql } from 'kysely';
import { v7 } from 'uuid';
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

/** First key of the advisory locks that order each recipient's notifications (any constant of ours). */
const RECIPIENT_LOCK = 0x5054_4e31;

/**
 * The one way anything notifies anyone: one row per recipient, written with `trx`, the
 * transaction of what caused it, so a rolled-back cause notifies no one and a committed one
 * loses nothing. The row is the notification; live delivery follows from it (a trigger announces it).
 *
 * A recipient's notifications commit in the order of their ids: each recipient's advisory lock is
 * held until the cause commits, and the new id is above the last committed one. So a client that
 * has seen id X has seen everything of theirs below X, and `?depuis=X` misses nothing.
 */
export async function notify(
  db: Kysely<Database>,
  recipients: readonly string[],
  notification: NewNotification,
): Promise<void> {
  // Sorted: two causes locking the same recipients lock them in the same order (no deadlock).
  const unique = [...new Set(recipients)].sort();
  if (unique.length === 0) return;
  if (!db.isTransaction) return db.transaction().execute((trx) => notify(trx, unique, notification));
  await sql`select pg_advisory_xact_lock(${RECIPIENT_LOCK}, hashtext(r)) from unnest(${unique}::text[]) as r`.execute(
    db,
  );
  const { rows: last } = await sql<{ last: string | null }>`
    select (select n.id from ptitspas.notifications n where n.id_destinataire = r order by n.id desc limit 1)::text as last
      from unnest(${unique}::uuid[]) as r`.execute(db);
  await db
    .insertInto('ptitspas.notifications')
    .values(
      unique.map((id, i) => ({
        id: idAfter(last[i]?.last ?? null),
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

/** A new uuid v7 above `last` (another instance's clock may be a millisecond ahead of ours). */
function idAfter(last: string | null): string {
  const id = uuidv7();
  if (last === null || id > last) return id;
  return v7({ msecs: Number.parseInt(last.replaceAll('-', '').slice(0, 12), 16) + 1 });
}
