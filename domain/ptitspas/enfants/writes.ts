import { type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { NotFound } from '../../errors.js';
import type { PtitsPasCaller } from '../caller.js';
import { refuseDeletingUnderContract } from '../contrats/rules.js';
import type { Enfant, EnfantChanges, NewEnfant } from './model.js';
import { getEnfant } from './queries.js';
import { checkEnfant, ENFANT_NOT_FOUND } from './rules.js';
import { visibleEnfants } from './visibility.js';

/**
 * New children, each linked to its parents, in one statement: the single write path of children
 * (POST /enfants and the CSV import, which passes a family's children at once). Returns their ids,
 * in the order given.
 */
export async function insertEnfants(
  db: Kysely<Database>,
  enfants: ReadonlyArray<{ fields: NewEnfant; parentIds: readonly string[] }>,
): Promise<string[]> {
  if (enfants.length === 0) return [];
  enfants.forEach(({ fields }) => {
    checkEnfant(fields);
  });
  const rows = enfants.map(({ fields }) => ({
    id: uuidv7(),
    prenom: fields.prenom.trim(),
    nom: fields.nom.trim(),
    genre: fields.genre,
    date_naissance: fields.date_naissance,
    statut: fields.statut ?? 'actif',
    consentement_photo: fields.consentement_photo ?? false,
  }));
  const links = enfants.flatMap(({ parentIds }, i) =>
    parentIds.map((id) => ({ id_enfant: rows[i]!.id, id_parent: id })),
  );
  // One statement, so a child never exists without its parents (the link's key is checked at its end).
  await db
    .with('enfant', (q) => q.insertInto('ptitspas.enfants').values(rows).returning('id'))
    .insertInto('ptitspas.enfants_parents')
    .values(links)
    .execute();
  return rows.map((r) => r.id);
}

/** POST /enfants: a child of the parent creating it (whose co-parent then sees it too). */
export async function createEnfant(db: Kysely<Database>, parent: PtitsPasCaller, fields: NewEnfant): Promise<Enfant> {
  const [id] = await insertEnfants(db, [{ fields, parentIds: [parent.id] }]);
  return getEnfant(db, parent, id!);
}

/** Writes only the given fields of a child the caller may see; NotFound when there is none. */
export async function updateEnfant(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  id: string,
  changes: EnfantChanges,
): Promise<Enfant> {
  checkEnfant(changes);
  const row = await db
    .updateTable('ptitspas.enfants')
    .set({
      prenom: changes.prenom?.trim(),
      nom: changes.nom?.trim(),
      genre: changes.genre,
      date_naissance: changes.date_naissance,
      statut: changes.statut,
      consentement_photo: changes.consentement_photo,
      modifie_le: sql`now()`,
    })
    .where('id', 'in', visibleEnfants(db, caller).select('e.id').where('e.id', '=', id))
    .returning('id')
    .executeTakeFirst();
  if (!row) throw new NotFound(ENFANT_NOT_FOUND);
  return getEnfant(db, caller, row.id);
}

/**
 * Deletes a child with everything attached to it (links to its parents, uploads, dossier);
 * NotFound when there is none. The dossier's pieces go first: left to the cascades, the uploads'
 * deletion meets the pieces' foreign key (it forbids deleting a listed upload) before the
 * dossier's cascade has removed them, and the whole delete failed. The child is locked first so
 * that no dossier write (which holds it FOR KEY SHARE) lists a piece again in between.
 */
export async function deleteEnfant(db: Kysely<Database>, id: string): Promise<void> {
  await db
    .transaction()
    .execute(async (trx) => {
      const enfant = await trx
        .selectFrom('ptitspas.enfants')
        .select('id')
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
      await trx.deleteFrom('ptitspas.dossiers_pieces').where('id_enfant', '=', id).execute();
      await trx.deleteFrom('ptitspas.enfants').where('id', '=', id).execute();
    })
    .catch(refuseDeletingUnderContract);
}
