import type { Insertable, Kysely, Updateable } from 'kysely';
import { isUniqueViolation } from '../../../db/errors.js';
import type { Database, UserRow, UsersTable } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { emailTaken, normalizeEmail } from './rules.js';

export function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('medreport.users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export function findUserById(db: Kysely<Database>, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('medreport.users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts a user; a taken e-mail (in any case) is a 422 on `email`, never a 500. */
export async function createUser(db: Kysely<Database>, values: Omit<Insertable<UsersTable>, 'uuid'>): Promise<UserRow> {
  try {
    return await db
      .insertInto('medreport.users')
      .values({ ...values, uuid: uuidv7(), email: normalizeEmail(values.email) })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
    throw err;
  }
}

export async function updateUser(db: Kysely<Database>, id: number, values: Updateable<UsersTable>): Promise<UserRow> {
  try {
    return await db
      .updateTable('medreport.users')
      .set({ ...values, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
    throw err;
  }
}

/** Revokes every live session of the user, except `keep` (the caller's own) when given. */
export async function revokeSessions(db: Kysely<Database>, userId: number, keep?: string): Promise<void> {
  let query = db
    .updateTable('medreport.sessions')
    .set({ revoked_at: new Date() })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep) query = query.where('id', '!=', keep);
  await query.execute();
}
