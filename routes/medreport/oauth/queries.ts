import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../../../db/schema.js';
import { createUser, findUserByEmail } from '../users/queries.js';
import type { OAuthProfile } from './providers.js';

/**
 * The account behind a provider identity: the one already linked, else the one with the same
 * verified e-mail (and the identity gets linked to it), else a new passwordless account.
 */
export async function findOrCreateOAuthUser(
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

    let user = await findUserByEmail(trx, profile.email);
    if (user && !user.email_verified_at) {
      user = await trx
        .updateTable('medreport.users')
        .set({ email_verified_at: new Date(), updated_at: new Date() })
        .where('id', '=', user.id)
        .returningAll()
        .executeTakeFirstOrThrow();
    }
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
