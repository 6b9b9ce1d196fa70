import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../../db/schema.js';

const RESET_TTL_MS = 60 * 60 * 1000;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * A fresh reset token for the user, valid 60 minutes. Only its SHA-256 is stored; earlier unused
 * tokens of the user stop working.
 */
export async function createPasswordReset(db: Kysely<Database>, userId: number): Promise<string> {
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
export async function isLivePasswordReset(db: Kysely<Database>, userId: number, token: string): Promise<boolean> {
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
export async function consumePasswordReset(
  trx: Transaction<Database>,
  userId: number,
  token: string,
): Promise<boolean> {
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
