import type { Kysely, Transaction } from 'kysely';
import type { Database, PtitsPasRole } from '../../../db/schema.js';
import { createSetPasswordToken } from '../accounts/links.js';
import type { NewUserFields } from '../accounts/model.js';
import { insertUser } from '../accounts/users.js';

/**
 * An account created by staff: active at once. Without a password (`passwordHash` null) it gets a
 * set-password link (returned for the mail sent after the commit), as a validated registration
 * does. `profile` writes the role's own rows (parent, childminder) in the same transaction.
 */
export async function createActiveUser(
  db: Kysely<Database>,
  fields: NewUserFields,
  role: PtitsPasRole,
  passwordHash: string | null,
  profile?: (trx: Transaction<Database>, userId: string) => Promise<void>,
) {
  return db.transaction().execute(async (trx) => {
    const user = await insertUser(trx, fields, { role, statut: 'actif', passwordHash });
    await profile?.(trx, user.id);
    const token = passwordHash ? undefined : await createSetPasswordToken(trx, user.id);
    return { user, token };
  });
}
