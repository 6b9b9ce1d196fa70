import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { Invalid } from '../../errors.js';
import { revokeSessions } from './sessions.js';
import { findUserByEmail, setPasswordHash } from './users.js';

const RESET_TTL_MS = 60 * 60 * 1000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * A fresh reset token for the user, valid 60 minutes. Only its SHA-256 is stored; earlier unused
 * tokens of the user stop working.
 */
async function createPasswordReset(db: Kysely<Database>, userId: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('medreport.password_resets')
      .set({ used_at: new Date() })
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
    await trx
      .insertInto('medreport.password_resets')
      .values({ user_id: userId, token_hash: sha256(token), expires_at: new Date(Date.now() + RESET_TTL_MS) })
      .execute();
  });
  return token;
}

/** Whether `token` is the user's live (unused, unexpired) reset token; reads, changes nothing. */
async function isLivePasswordReset(db: Kysely<Database>, userId: number, token: string): Promise<boolean> {
  const found = await db
    .selectFrom('medreport.password_resets')
    .select('id')
    .where('user_id', '=', userId)
    .where('token_hash', '=', sha256(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .executeTakeFirst();
  return found !== undefined;
}

/** Marks the user's live reset token `token` used; false when it is unknown, used or expired. */
async function consumePasswordReset(trx: Transaction<Database>, userId: number, token: string): Promise<boolean> {
  const consumed = await trx
    .updateTable('medreport.password_resets')
    .set({ used_at: new Date() })
    .where('user_id', '=', userId)
    .where('token_hash', '=', sha256(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning('id')
    .executeTakeFirst();
  return consumed !== undefined;
}

/** Reset tokens past their expiry open nothing (used or not): they go, whatever they were. */
export async function pruneExpiredPasswordResets(db: Kysely<Database>): Promise<number> {
  const result = await db
    .deleteFrom('medreport.password_resets')
    .where('expires_at', '<', new Date())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A mail to send; the domain does not know how. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Mails a reset link to the account of `email` when there is an active one; does nothing
 * otherwise (the caller answers the same either way, before this runs).
 */
export async function sendPasswordResetLink(
  db: Kysely<Database>,
  email: string,
  { resetUrl, send }: { resetUrl: string; send: (mail: OutgoingMail) => Promise<void> },
): Promise<void> {
  const user = await findUserByEmail(db, email);
  if (user?.status !== 'active') return;
  const token = await createPasswordReset(db, user.id);
  const link = `${resetUrl}?token=${encodeURIComponent(token)}&email=${encodeURIComponent(user.email)}`;
  await send({
    to: user.email,
    subject: 'Réinitialisation de votre mot de passe MedReport',
    text:
      `Bonjour ${user.name},\n\n` +
      `Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 60 minutes) :\n${link}\n\n` +
      "Si vous n'avez pas demandé cette réinitialisation, ignorez ce message.",
  });
}

const INVALID_RESET = 'Ce lien de réinitialisation est invalide ou a expiré.';
const invalidReset = () => new Invalid(INVALID_RESET, { token: [INVALID_RESET] });

/**
 * The account whose live reset token `token` is; invalid otherwise. Checked before any hashing:
 * a wrong token costs a lookup, not 19 MiB of argon2.
 */
export async function accountOfResetToken(db: Kysely<Database>, email: string, token: string): Promise<UserRow> {
  const user = await findUserByEmail(db, email);
  if (!user || !(await isLivePasswordReset(db, user.id, token))) throw invalidReset();
  return user;
}

/** Sets the new password with the token and revokes every session; invalid when the token is no longer live. */
export async function resetPassword(
  db: Kysely<Database>,
  userId: number,
  token: string,
  passwordHash: string,
): Promise<void> {
  const reset = await db.transaction().execute(async (trx) => {
    // Consumed conditionally: of two resets racing with one token, one wins.
    if (!(await consumePasswordReset(trx, userId, token))) return false;
    await setPasswordHash(trx, userId, passwordHash, { addressProved: true });
    await revokeSessions(trx, userId);
    return true;
  });
  if (!reset) throw invalidReset();
}
