import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { secretDigest as digest, newSecret } from './secrets.js';

/**
 * Set-password links (v1.3): an account created without a password receives one when it is
 * validated (or created active by staff). Random, stored hashed, valid 7 days, single use; a new
 * link replaces the previous unused one.
 */
const SET_PASSWORD_LINK_DAYS = 7;

/** A new link token for the user; every earlier unused one stops working. */
export async function createSetPasswordToken(trx: Transaction<Database>, userId: string): Promise<string> {
  await trx
    .updateTable('ptitspas.liens_mot_de_passe')
    .set({ utilise_le: sql`now()` })
    .where('id_utilisateur', '=', userId)
    .where('utilise_le', 'is', null)
    .execute();
  const token = newSecret();
  await trx
    .insertInto('ptitspas.liens_mot_de_passe')
    .values({
      token_hash: digest(token),
      id_utilisateur: userId,
      expire_le: sql`now() + make_interval(days => ${SET_PASSWORD_LINK_DAYS})`,
    })
    .execute();
  return token;
}

/** The account a live (unused, unexpired) token belongs to; checked before any password is hashed. */
export async function liveTokenOwner(db: Kysely<Database>, token: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ptitspas.liens_mot_de_passe')
    .select('id_utilisateur')
    .where('token_hash', '=', digest(token))
    .where('utilise_le', 'is', null)
    .where('expire_le', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row?.id_utilisateur;
}

/** Set-password links past their expiry open nothing (used or not): they go. */
export async function pruneExpiredLinks(db: Kysely<Database>): Promise<number> {
  const result = await db
    .deleteFrom('ptitspas.liens_mot_de_passe')
    .where('expire_le', '<', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Uses the token up, if it is still live: of two requests racing with one token, one wins. */
export async function consumeSetPasswordToken(trx: Transaction<Database>, token: string): Promise<string | undefined> {
  const row = await trx
    .updateTable('ptitspas.liens_mot_de_passe')
    .set({ utilise_le: sql`now()` })
    .where('token_hash', '=', digest(token))
    .where('utilise_le', 'is', null)
    .where('expire_le', '>', sql<Date>`now()`)
    .returning('id_utilisateur')
    .executeTakeFirst();
  return row?.id_utilisateur;
}

/** The mail telling an account it is active, with its set-password link when it has no password yet. */
export function activationMail(
  user: { email: string; prenom: string },
  link: string | undefined,
): { to: string; subject: string; text: string } {
  const next = link
    ? 'Pour choisir votre mot de passe, ouvrez ce lien. Il est valable 7 jours et ne peut servir ' +
      `qu'une seule fois :\n${link}\n\nPassé ce délai, demandez un nouveau lien à votre gestionnaire.`
    : 'Vous pouvez dès maintenant vous connecter avec votre adresse e-mail et votre mot de passe.';
  return {
    to: user.email,
    subject: 'Votre compte PtitsPas est activé',
    text: `Bonjour ${user.prenom},\n\nVotre compte PtitsPas est activé.\n\n${next}\n\nL'équipe PtitsPas`,
  };
}
