import type { Kysely, Transaction } from 'kysely';
import type { Database, PtitsPasRole } from '../../../db/schema.js';
import type { Passwords } from '../../../plugins/passwords.js';
import { createSetPasswordToken } from '../auth/links.js';
import { insertUser } from './queries.js';
import type { NewUserFields } from './schemas.js';

/**
 * An account created by staff: active at once. Without a password it gets a set-password link
 * (returned for the mail sent after the commit), as a validated registration does. `profile`
 * writes the role's own rows (parent, childminder) in the same transaction.
 */
export async function createActiveUser(
  db: Kysely<Database>,
  passwords: Passwords,
  fields: NewUserFields,
  role: PtitsPasRole,
  password: string | undefined,
  profile?: (trx: Transaction<Database>, userId: string) => Promise<void>,
) {
  const passwordHash = password === undefined ? null : await passwords.hash(password);
  return db.transaction().execute(async (trx) => {
    const user = await insertUser(trx, fields, { role, statut: 'actif', passwordHash });
    await profile?.(trx, user.id);
    const token = passwordHash ? undefined : await createSetPasswordToken(trx, user.id);
    return { user, token };
  });
}
