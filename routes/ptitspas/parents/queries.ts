import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';

/** The parent profile of a new parent account (no co-parent yet). */
export async function insertParent(db: Kysely<Database>, userId: string): Promise<void> {
  await db.insertInto('ptitspas.parents').values({ id_utilisateur: userId, id_co_parent: null }).execute();
}
