import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { createUser, findUserByEmail } from '../accounts/users.js';

/**
 * Platform administrators exist only through the CLI (`admin:create`). Idempotent: an existing
 * account with the e-mail is promoted (its password left alone), an existing admin is left as is.
 * `password` is asked for only when an account has to be created.
 */
export async function createAdmin(
  db: Kysely<Database>,
  { email, password, name }: { email: string; password: () => Promise<string>; name: string },
  hashing: { hash(password: string): Promise<string> },
): Promise<'created' | 'promoted' | 'unchanged'> {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new Error(`not an e-mail address: ${email}`);
  const existing = await findUserByEmail(db, email);
  if (existing?.platform_role === 'admin') return 'unchanged';
  if (existing) {
    await db
      .updateTable('medreport.users')
      .set({ platform_role: 'admin', updated_at: new Date() })
      .where('id', '=', existing.id)
      .execute();
    return 'promoted';
  }
  const secret = await password();
  if (secret.length < 8) throw new Error('the password must have at least 8 characters');
  await createUser(db, { email, name }, { passwordHash: await hashing.hash(secret), platformRole: 'admin' });
  return 'created';
}
