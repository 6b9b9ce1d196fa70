import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database, PtitsPasRole, PtitsPasStatut } from '../../../db/schema.js';
import { Conflict, Forbidden, NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { refuseDeletingUnderContract } from '../contrats/rules.js';
import { notify } from '../notifications/notify.js';
import { createSetPasswordToken } from './links.js';
import { revokeUserFamilies } from './tokens.js';
import { USER_NOT_FOUND } from './users.js';

// Lower is higher in the document's hierarchy; families and childminders share the last rank.
const RANK: Record<PtitsPasRole, number> = {
  super_admin: 0,
  administrateur: 1,
  gestionnaire: 2,
  assistante_maternelle: 3,
  parent: 3,
};

/**
 * Who may validate, suspend or delete whom (docs/ptitspas.md): nobody acts on their own account;
 * a super admin acts on any other; the others only on accounts of a lower rank.
 */
function assertMayManage(actor: PtitsPasCaller, target: { id: string; role: PtitsPasRole }): void {
  if (actor.id === target.id) throw new Forbidden('Accès refusé : action impossible sur votre propre compte');
  if (actor.role !== 'super_admin' && RANK[actor.role] >= RANK[target.role]) {
    throw new Forbidden('Accès refusé : ce compte relève d’un rôle égal ou supérieur au vôtre');
  }
}

async function lockUser(trx: Transaction<Database>, id: string, only?: { role: PtitsPasRole; missing: string }) {
  let query = trx
    .selectFrom('ptitspas.utilisateurs')
    .select(['id', 'email', 'prenom', 'role', 'statut', 'password_hash'])
    .where('id', '=', id);
  if (only) query = query.where('role', '=', only.role);
  const user = await query.forUpdate().executeTakeFirst();
  if (!user) throw new NotFound(only?.missing ?? USER_NOT_FOUND);
  return user;
}

/** The new statut and its history entry (who, when, why), in the caller's transaction. */
async function changeStatut(
  trx: Transaction<Database>,
  user: { id: string; statut: PtitsPasStatut },
  statut: PtitsPasStatut,
  by: string | null,
  comment: string | undefined,
) {
  await trx
    .updateTable('ptitspas.utilisateurs')
    .set({ statut, modifie_le: sql`now()` })
    .where('id', '=', user.id)
    .execute();
  await trx
    .insertInto('ptitspas.historique_statuts')
    .values({
      id_utilisateur: user.id,
      ancien_statut: user.statut,
      nouveau_statut: statut,
      commentaire: comment?.trim() || null,
      par: by,
    })
    .execute();
}

/**
 * Validation (PATCH /users/:id/valider): the account becomes active. Without a password it gets a new
 * set-password link, so validating an active account that never chose one sends the link again.
 */
export async function validateUser(db: Kysely<Database>, actor: PtitsPasCaller, id: string, comment?: string) {
  return db.transaction().execute(async (trx) => {
    const user = await lockUser(trx, id);
    assertMayManage(actor, user);
    if (user.statut === 'actif' && user.password_hash) throw new Conflict('Ce compte est déjà actif.');
    if (user.statut !== 'actif') {
      await notify(trx, [user.id], {
        type: 'compte_valide',
        titre: 'Compte validé',
        corps: 'Votre compte PtitsPas est validé : bienvenue !',
        lien: { type: 'utilisateur', id: user.id },
      });
    }
    await changeStatut(trx, user, 'actif', actor.id, comment);
    const token = user.password_hash ? undefined : await createSetPasswordToken(trx, user.id);
    return { user, token };
  });
}

/** Suspension (PATCH /users/:id/suspendre): every login of the account ends at once, and its unused links. */
export async function suspendUser(db: Kysely<Database>, actor: PtitsPasCaller, id: string, comment?: string) {
  await db.transaction().execute(async (trx) => {
    const user = await lockUser(trx, id);
    assertMayManage(actor, user);
    if (user.statut === 'suspendu') throw new Conflict('Ce compte est déjà suspendu.');
    await changeStatut(trx, user, 'suspendu', actor.id, comment);
    await revokeUserFamilies(trx, user.id, 'suspension');
    await trx
      .updateTable('ptitspas.liens_mot_de_passe')
      .set({ utilise_le: sql`now()` })
      .where('id_utilisateur', '=', user.id)
      .where('utilise_le', 'is', null)
      .execute();
  });
}

/**
 * DELETE /users/:id (and /assistantes-maternelles/:id, `only` that role): the account and
 * everything that is only its own (profiles, logins, links).
 */
export async function deleteUser(
  db: Kysely<Database>,
  actor: PtitsPasCaller,
  id: string,
  only?: { role: PtitsPasRole; missing: string },
) {
  await db
    .transaction()
    .execute(async (trx) => {
      const user = await lockUser(trx, id, only);
      assertMayManage(actor, user);
      await trx.deleteFrom('ptitspas.utilisateurs').where('id', '=', user.id).execute();
    })
    .catch(refuseDeletingUnderContract);
}
