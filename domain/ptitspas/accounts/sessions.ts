import { type Kysely, sql } from 'kysely';
import type { Pool } from 'pg';
import type { Database } from '../../../db/schema.js';
import { Forbidden, Invalid, Unauthenticated } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { consumeSetPasswordToken, liveTokenOwner } from './links.js';
import { openFamily } from './tokens.js';
import { findUserByEmail } from './users.js';

const BAD_CREDENTIALS = 'Email ou mot de passe incorrect';
const BAD_LINK = 'Ce lien est invalide, a expiré ou a déjà servi. Demandez-en un nouveau à votre gestionnaire.';

/**
 * A login: the account of `email` if `verify` accepts its password hash, and a new refresh family.
 * `verify` is called whether or not the account exists (it hashes a decoy for `undefined`), so an
 * unknown e-mail costs what a wrong password costs and the answers cannot be told apart. The
 * account's state is told only once the password is verified.
 */
export async function logIn(
  db: Kysely<Database>,
  email: string,
  verify: (passwordHash: string | null | undefined) => Promise<boolean>,
) {
  const user = await findUserByEmail(db, email);
  if (!(await verify(user?.password_hash)) || !user) throw new Unauthenticated(BAD_CREDENTIALS);
  if (user.statut === 'suspendu') throw new Forbidden('Compte suspendu');
  if (user.statut === 'en_attente') throw new Forbidden('Compte en attente de validation');
  const { familyId, refreshToken } = await openFamily(db, user.id);
  return { user, familyId, refreshToken };
}

/**
 * Sets the password of the account a live set-password link belongs to, and uses the link up. The
 * token is checked before `hash` is called: a wrong one costs a lookup, not an argon2 hash.
 */
export async function setPasswordWithLink(db: Kysely<Database>, token: string, hash: () => Promise<string>) {
  if (!(await liveTokenOwner(db, token))) throw new Invalid(BAD_LINK);
  const passwordHash = await hash();
  const done = await db.transaction().execute(async (trx) => {
    const userId = await consumeSetPasswordToken(trx, token);
    if (!userId) return false;
    await trx
      .updateTable('ptitspas.utilisateurs')
      .set({ password_hash: passwordHash, modifie_le: sql`now()` })
      .where('id', '=', userId)
      .execute();
    return true;
  });
  if (!done) throw new Invalid(BAD_LINK);
}

// The caller and their login in one round trip, on the pool (prepared once per connection, as
// db/connection.ts names statements): a revoked family (logout, suspension, reuse) ends its
// access tokens at once, not when they expire.
const CALLER = `
    select u.id, u.email, u.role, u.prenom, u.nom, u.statut
      from ptitspas.refresh_families f
      join ptitspas.utilisateurs u on u.id = f.id_utilisateur
     where f.id = $1 and u.id = $2 and f.revoque_le is null`;

/** The caller an access token names (`userId`, login `familyId`), if that login is live and the account active. */
export async function callerOfLogin(pool: Pool, familyId: string, userId: string): Promise<PtitsPasCaller> {
  const { rows } = await pool.query<Omit<PtitsPasCaller, 'familyId'>>(CALLER, [familyId, userId]);
  const row = rows[0];
  if (!row) throw new Unauthenticated('Session expirée ou révoquée.');
  if (row.statut !== 'actif') throw new Forbidden('Ce compte est suspendu ou en attente de validation.');
  return { ...row, familyId };
}
