import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { Invalid } from '../../errors.js';
import { assertNotSuspended } from './login.js';
import { normalizeEmail } from './rules.js';
import { createUser } from './users.js';

/** What every provider must tell us about the person, whatever its own field names. */
export interface OAuthProfile {
  providerUserId: string;
  email: string | null;
  emailVerified: boolean;
  name: string;
}

/**
 * The account a provider's sign-in opens: invalid without an address the provider verified
 * (`providerTitle` names it in the message), forbidden when the account is suspended.
 */
export async function oauthSignIn(
  db: Kysely<Database>,
  provider: string,
  providerTitle: string,
  profile: OAuthProfile,
): Promise<UserRow> {
  if (!profile.email || !profile.emailVerified) {
    throw new Invalid(`${providerTitle} n'a pas fourni d'adresse e-mail vérifiée.`);
  }
  const user = await findOrCreateOAuthUser(db, provider, { ...profile, email: profile.email });
  assertNotSuspended(user);
  return user;
}

/**
 * The account behind a provider identity: the one already linked, else the one with the same
 * e-mail (the identity gets linked to it), else a new passwordless account. The provider has
 * verified the address; an account that never proved it may have been registered by anyone, so it
 * is taken over first (docs/auth.md, "OAuth and unverified accounts").
 */
async function findOrCreateOAuthUser(
  db: Kysely<Database>,
  provider: string,
  profile: OAuthProfile & { email: string },
): Promise<UserRow> {
  return db.transaction().execute(async (trx) => {
    const linked = await trx
      .selectFrom('medreport.oauth_identities as i')
      .innerJoin('medreport.users as u', 'u.id', 'i.user_id')
      .selectAll('u')
      .where('i.provider', '=', provider)
      .where('i.provider_user_id', '=', profile.providerUserId)
      .executeTakeFirst();
    if (linked) return linked;

    let user = await trx
      .selectFrom('medreport.users')
      .selectAll()
      .where('email', '=', normalizeEmail(profile.email))
      .forUpdate()
      .executeTakeFirst();
    if (user && !user.email_verified_at) user = await takeOver(trx, user);
    user ??= await createUser(
      trx,
      { name: profile.name, email: profile.email },
      { passwordHash: null, emailVerifiedAt: new Date() },
    );
    await trx
      .insertInto('medreport.oauth_identities')
      .values({ user_id: user.id, provider, provider_user_id: profile.providerUserId, email: profile.email })
      .execute();
    return user;
  });
}

/**
 * Hands an unverified account to the owner of its address: whatever someone else set up to get
 * back in (its password, live sessions, reset links, identities linked before the address changed)
 * stops working, in the same transaction, and the account's activity log says so.
 */
async function takeOver(trx: Transaction<Database>, user: UserRow): Promise<UserRow> {
  const now = new Date();
  await trx
    .updateTable('medreport.sessions')
    .set({ revoked_at: now })
    .where('user_id', '=', user.id)
    .where('revoked_at', 'is', null)
    .execute();
  await trx
    .updateTable('medreport.password_resets')
    .set({ used_at: now })
    .where('user_id', '=', user.id)
    .where('used_at', 'is', null)
    .execute();
  await trx.deleteFrom('medreport.oauth_identities').where('user_id', '=', user.id).execute();
  const taken = await trx
    .updateTable('medreport.users')
    .set({ password_hash: null, email_verified_at: now, updated_at: now })
    .where('id', '=', user.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await sql`select medreport.log_account_event(${user.id}, 'user.oauth_takeover')`.execute(trx);
  return taken;
}
