import type { Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { findUserByEmail, insertUser } from '../accounts/users.js';

/**
 * The first PtitsPas super admin, through the CLI (`ptitspas:create-admin`). Idempotent: an
 * existing super admin with the e-mail is left as it is; an account of another role is not
 * promoted behind its owner's back (an error says so, nothing changes). `password` is asked for
 * only when the account has to be created, and hashed by `hashing` (the CLI's
 * password hashing, passed in).
 */
export async function createSuperAdmin(
  db: Kysely<Database>,
  fields: { email: string; prenom: string; nom: string; password: () => Promise<string> },
  hashing: { hash(secret: string): Promise<string> },
): Promise<'created' | 'unchanged'> {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(fields.email)) throw new Error(`not an e-mail address: ${fields.email}`);
  if (!fields.prenom.trim() || !fields.nom.trim()) throw new Error('--prenom and --nom must not be blank');
  const existing = await findUserByEmail(db, fields.email);
  if (existing?.role === 'super_admin') return 'unchanged';
  if (existing) {
    throw new Error(`${fields.email} is already a PtitsPas account with the role ${existing.role}; nothing changed`);
  }
  const secret = await fields.password();
  if (secret.length < 8 || secret.length > 128) throw new Error('the password must have 8 to 128 characters');
  await insertUser(
    db,
    { email: fields.email, prenom: fields.prenom, nom: fields.nom },
    { role: 'super_admin', statut: 'actif', passwordHash: await hashing.hash(secret) },
  );
  return 'created';
}
