import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { updateUser } from '../accounts/users.js';
import { createActiveUser } from '../users/create.js';
import { insertParents, setCoParent } from './co-parents.js';
import type { NewParent, ParentChanges } from './model.js';
import { getParent } from './queries.js';

/**
 * POST /parents: an active parent account and its parent row, linked to `id_co_parent` if given,
 * in one transaction. `passwordHash` null: the account gets a set-password link (`token`, for the
 * mail sent after the commit).
 */
export async function createParent(
  db: Kysely<Database>,
  { password: _password, id_co_parent: coParent, ...fields }: NewParent,
  passwordHash: string | null,
) {
  const { user, token } = await createActiveUser(db, fields, 'parent', passwordHash, async (trx, id) => {
    await insertParents(trx, [[id]]);
    if (coParent) await setCoParent(trx, id, coParent);
  });
  return { user, token, parent: await getParent(db, user.id) };
}

/** PATCH /parents/:id: the co-parent link and the account's contact fields, in one transaction. */
export async function updateParent(
  db: Kysely<Database>,
  id: string,
  { id_co_parent: coParent, ...changes }: ParentChanges,
) {
  await db.transaction().execute(async (trx) => {
    if (coParent !== undefined) await setCoParent(trx, id, coParent);
    if (Object.keys(changes).length > 0) await updateUser(trx, id, changes, 'parent');
  });
  return getParent(db, id);
}
