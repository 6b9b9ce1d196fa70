import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { badRequest } from '../../../plugins/errors.js';
import type { PtitsPasCaller } from '../../../domain/ptitspas/caller.js';
import { paginate } from '../../pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { EnfantChanges, EnfantListOptions, NewEnfant } from './schemas.js';

export const ENFANT_NOT_FOUND = 'Enfant non trouvé';
const COLUMNS = [
  'e.id',
  'e.prenom',
  'e.nom',
  'e.genre',
  'e.date_naissance',
  'e.statut',
  'e.consentement_photo',
] as const;

/** Today in UTC as YYYY-MM-DD. */
const today = () => new Date().toISOString().slice(0, 10);

export function assertBorn(date: string | undefined): void {
  if (date && date > today()) throw badRequest('date_naissance ne peut pas être dans le futur');
}

/**
 * The children `caller` may see: all of them for staff; for a parent, their own and their
 * co-parent's. The one place the document's "parent (si c'est son enfant)" is decided; another
 * child is then simply not found (404), never 403, so its existence is not revealed.
 */
export function visibleEnfants(db: Kysely<Database>, caller: PtitsPasCaller) {
  const all = db.selectFrom('ptitspas.enfants as e');
  if (caller.role !== 'parent') return all;
  return all.where((eb) =>
    eb.exists(
      eb
        .selectFrom('ptitspas.enfants_parents as ep')
        .innerJoin('ptitspas.parents as p', (join) =>
          join.on((j) =>
            j.or([j('ep.id_parent', '=', j.ref('p.id_utilisateur')), j('ep.id_parent', '=', j.ref('p.id_co_parent'))]),
          ),
        )
        .whereRef('ep.id_enfant', '=', 'e.id')
        .where('p.id_utilisateur', '=', caller.id),
    ),
  );
}

export async function findEnfant(db: Kysely<Database>, caller: PtitsPasCaller, id: string) {
  return visibleEnfants(db, caller).select(COLUMNS).where('e.id', '=', id).executeTakeFirst();
}

export async function listEnfants(db: Kysely<Database>, caller: PtitsPasCaller, options: EnfantListOptions) {
  let query = visibleEnfants(db, caller).select(COLUMNS);
  if (options.statut) query = query.where('e.statut', '=', options.statut);
  if (options.search?.trim()) query = query.where(matches('e.recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'prenom' | 'date_naissance'>(options.sort);
  query = query.orderBy(sortKey(`e.${column}`), direction).orderBy('e.id', direction);
  return paginate<Awaited<ReturnType<typeof findEnfant>> & object>(query, options);
}

/** A child of `parentId` (whose co-parent then sees it too). */
export async function insertEnfant(db: Kysely<Database>, parentId: string, fields: NewEnfant) {
  assertBorn(fields.date_naissance);
  const id = uuidv7();
  await sql`
    with enfant as (
      insert into ptitspas.enfants (id, prenom, nom, genre, date_naissance, statut, consentement_photo)
      values (${id}, ${fields.prenom.trim()}, ${fields.nom.trim()}, ${fields.genre}, ${fields.date_naissance},
              ${fields.statut ?? 'actif'}, ${fields.consentement_photo ?? false})
    )
    insert into ptitspas.enfants_parents (id_enfant, id_parent) values (${id}, ${parentId})`.execute(db);
  return id;
}

/** Writes only the given fields of a child the caller may see; undefined when there is none. */
export async function updateEnfant(db: Kysely<Database>, caller: PtitsPasCaller, id: string, changes: EnfantChanges) {
  assertBorn(changes.date_naissance);
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
  return row?.id;
}
