import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { Invalid } from '../../errors.js';
import type { PasswordVerifier } from './login.js';
import { normalizeEmail } from './rules.js';
import { revokeSessions } from './sessions.js';
import { setEmail, setPasswordHash, updateProfile } from './users.js';

const WRONG_PASSWORD = 'Le mot de passe actuel est incorrect.';

/** Invalid (on `current_password`) unless `password` is the user's current one. */
export async function assertCurrentPassword(
  db: Kysely<Database>,
  userId: number,
  password: string,
  passwords: PasswordVerifier,
): Promise<void> {
  const row = await db
    .selectFrom('medreport.users')
    .select('password_hash')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  if (!(await passwords.verify(row.password_hash, password))) {
    throw new Invalid(WRONG_PASSWORD, { current_password: [WRONG_PASSWORD] });
  }
}

/** A new address is an unverified one; the same address (in any case) changes nothing but `updated_at`. */
export function changeEmail(
  db: Kysely<Database>,
  user: Pick<UserRow, 'id' | 'email'>,
  newEmail: string,
): Promise<UserRow> {
  const email = normalizeEmail(newEmail);
  return email === user.email ? updateProfile(db, user.id, {}) : setEmail(db, user.id, email);
}

/** Sets the new password and revokes every session of the user but `keepSessionId` (the caller's). */
export async function changePassword(
  db: Kysely<Database>,
  userId: number,
  keepSessionId: string,
  passwordHash: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await setPasswordHash(trx, userId, passwordHash);
    await revokeSessions(trx, userId, keepSessionId);
  });
}
