import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { DossierStatut } from '../../../db/schema-ptitspas.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { isStaff, parentsOf, visibleEnfants } from '../enfants/visibility.js';
import { type NewNotification, notify } from '../notifications/notify.js';
import type { Dossier, DossierBody, Etape } from './model.js';
import { DOSSIER_NOT_FOUND, getDossier } from './queries.js';
import { missingItems } from './rules.js';

/**
 * The child `idEnfant` as `caller` may act on it, locked until the commit (it cannot be deleted
 * under the write): NotFound when they do not see it; Forbidden when they see it but may not
 * write its dossier (a childminder).
 */
async function lockEnfant(trx: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string) {
  const enfant = await visibleEnfants(trx, caller)
    .select(['e.id', 'e.prenom'])
    .where('e.id', '=', idEnfant)
    .forKeyShare()
    .executeTakeFirst();
  if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
  if (caller.role !== 'parent' && !isStaff(caller)) {
    throw new Forbidden("Seuls les parents de l'enfant et le personnel écrivent son dossier");
  }
  return enfant;
}

/** The dossier's row locked for this transaction, or undefined before its first PUT. */
function lockDossier(trx: Kysely<Database>, idEnfant: string) {
  return trx
    .selectFrom('ptitspas.dossiers')
    .select('statut')
    .where('id_enfant', '=', idEnfant)
    .forUpdate()
    .executeTakeFirst();
}

const step = (statut: DossierStatut, caller: PtitsPasCaller, commentaire: string | null = null): Etape => ({
  statut,
  par: caller.id,
  le: new Date().toISOString(),
  commentaire,
});

/** `historique || [step]`, as a jsonb append. */
const appended = (etape: Etape) => sql`historique || ${JSON.stringify([etape])}::jsonb`;

/**
 * PUT /dossiers/:id_enfant, by the child's parents or staff: writes every part (creating the
 * dossier the first time, as `brouillon`). A parent's change to a dossier already decided
 * (`valide`, `a_completer`) puts it back to `brouillon` until submitted again; one under review
 * (`soumis`) waits for the decision (409). Pieces must be uploads of this child.
 */
export async function saveDossier(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  idEnfant: string,
  body: DossierBody,
): Promise<Dossier> {
  // Ids are case-insensitive: `uniqueItems` let "A…" and "a…" through, they are one piece.
  const pieces = [...new Set(body.pieces.map((id) => id.toLowerCase()))];
  await db.transaction().execute(async (trx) => {
    await lockEnfant(trx, caller, idEnfant);
    await checkPieces(trx, idEnfant, pieces);
    const parts = {
      responsables: JSON.stringify(body.responsables.map((r) => ({ ...r, email: r.email ?? null }))),
      contacts_urgence: JSON.stringify(body.contacts_urgence),
      personnes_autorisees: JSON.stringify(body.personnes_autorisees),
      sante: JSON.stringify(body.sante),
      autorisations: JSON.stringify(body.autorisations),
    };
    // The first PUT creates it; of two at once, the second waits for the first, then updates.
    const created = await trx
      .insertInto('ptitspas.dossiers')
      .values({ id_enfant: idEnfant, ...parts, historique: JSON.stringify([step('brouillon', caller)]) })
      .onConflict((oc) => oc.column('id_enfant').doNothing())
      .returning('id_enfant')
      .executeTakeFirst();
    if (!created) {
      const { statut } = (await lockDossier(trx, idEnfant))!;
      if (caller.role === 'parent' && statut === 'soumis') {
        throw new Conflict('Dossier en cours de validation : attendez la décision avant de le modifier');
      }
      const reopened = caller.role === 'parent' && (statut === 'valide' || statut === 'a_completer');
      await trx
        .updateTable('ptitspas.dossiers')
        .set({
          ...parts,
          ...(reopened ? { statut: 'brouillon' as const, historique: appended(step('brouillon', caller)) } : {}),
          modifie_le: sql`now()`,
        })
        .where('id_enfant', '=', idEnfant)
        .execute();
    }
    await trx.deleteFrom('ptitspas.dossiers_pieces').where('id_enfant', '=', idEnfant).execute();
    if (pieces.length > 0) {
      await trx
        .insertInto('ptitspas.dossiers_pieces')
        .values(pieces.map((id, position) => ({ id_enfant: idEnfant, id_upload: id, position })))
        .execute();
    }
  });
  return getDossier(db, caller, idEnfant);
}

/** Pieces (lower-case ids) are uploads of this child (400 naming the first that is not). */
async function checkPieces(trx: Kysely<Database>, idEnfant: string, pieces: readonly string[]) {
  if (pieces.length === 0) return;
  const found = await trx
    .selectFrom('ptitspas.uploads')
    .select('id')
    .where('id', 'in', pieces)
    .where('id_enfant', '=', idEnfant)
    .forKeyShare()
    .execute();
  const ofThisChild = new Set(found.map((r) => r.id));
  const other = pieces.find((id) => !ofThisChild.has(id));
  if (other) {
    throw new Invalid(`La pièce ${other} n'est pas un fichier de cet enfant`, {
      pieces: [`${other} n'est pas un fichier de cet enfant.`],
    });
  }
}

/** Moves the dossier from one of `from` to `to` (409 otherwise), with its step in the history. */
async function advance(
  trx: Kysely<Database>,
  caller: PtitsPasCaller,
  idEnfant: string,
  from: readonly DossierStatut[],
  to: DossierStatut,
  commentaire: string | null = null,
) {
  const current = await lockDossier(trx, idEnfant);
  if (!current) throw new NotFound(DOSSIER_NOT_FOUND);
  if (!from.includes(current.statut)) {
    throw new Conflict(`Dossier au statut « ${current.statut} » : cette étape demande ${from.join(' ou ')}`);
  }
  await trx
    .updateTable('ptitspas.dossiers')
    .set({ statut: to, historique: appended(step(to, caller, commentaire)), modifie_le: sql`now()` })
    .where('id_enfant', '=', idEnfant)
    .execute();
}

/**
 * PATCH /dossiers/:id_enfant/soumettre, by the child's parents: a complete dossier (rules.ts)
 * goes to `soumis` and every gestionnaire is notified; an incomplete one is refused (400) with
 * each missing item named.
 */
export async function submitDossier(db: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string) {
  await db.transaction().execute(async (trx) => {
    const enfant = await lockEnfant(trx, caller, idEnfant);
    if (caller.role !== 'parent') throw new Forbidden("Seuls les parents de l'enfant soumettent son dossier");
    const dossier = await getDossier(trx, caller, idEnfant);
    const categories = await trx
      .selectFrom('ptitspas.uploads')
      .select('categorie')
      .where('id', 'in', dossier.pieces.length ? dossier.pieces : [null as unknown as string])
      .execute();
    await advance(trx, caller, idEnfant, ['brouillon', 'a_completer'], 'soumis');
    const missing = missingItems(
      dossier,
      categories.map((c) => c.categorie),
    );
    if (missing.length > 0) {
      throw new Invalid(`Dossier incomplet, il manque : ${missing.join(' ; ')}`, { dossier: missing });
    }
    const gestionnaires = await trx
      .selectFrom('ptitspas.utilisateurs')
      .select('id')
      .where('role', '=', 'gestionnaire')
      .where('statut', '=', 'actif')
      .execute();
    await notify(
      trx,
      gestionnaires.map((g) => g.id),
      {
        type: 'dossier_soumis',
        titre: 'Dossier à valider',
        corps: `Le dossier d’inscription pour ${enfant.prenom} attend votre validation.`,
        lien: { type: 'dossier', id: idEnfant },
      },
    );
  });
  return getDossier(db, caller, idEnfant);
}

/** PATCH …/valider and …/completer, by staff: decides a submitted dossier and notifies the parents. */
export async function decideDossier(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  idEnfant: string,
  decision: 'valide' | 'a_completer',
  commentaire: string | null,
) {
  await db.transaction().execute(async (trx) => {
    const enfant = await lockEnfant(trx, caller, idEnfant);
    await advance(trx, caller, idEnfant, ['soumis'], decision, commentaire);
    const message: NewNotification =
      decision === 'valide'
        ? {
            type: 'dossier_valide',
            titre: 'Dossier validé',
            corps: `Le dossier d’inscription pour ${enfant.prenom} est validé.`,
            lien: { type: 'dossier', id: idEnfant },
          }
        : {
            type: 'dossier_a_completer',
            titre: 'Dossier à compléter',
            corps: `Le dossier d’inscription pour ${enfant.prenom} est à compléter.`,
            lien: { type: 'dossier', id: idEnfant },
          };
    await notify(trx, await parentsOf(trx, idEnfant), message);
  });
  return getDossier(db, caller, idEnfant);
}
