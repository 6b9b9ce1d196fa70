import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { badRequest, conflict, notFound } from '../../../plugins/errors.js';
import { paginate } from '../../pagination.js';
import { matches, sortKey, sortOf } from '../lists.js';
import type { ParentListOptions } from './schemas.js';

export const PARENT_NOT_FOUND = 'Parent non trouvé';

/** The parent profile of a new parent account (no co-parent yet). */
export async function insertParent(db: Kysely<Database>, userId: string): Promise<void> {
  await db.insertInto('ptitspas.parents').values({ id_utilisateur: userId, id_co_parent: null }).execute();
}

const parents = (db: Kysely<Database>) =>
  db
    .selectFrom('ptitspas.parents as p')
    .innerJoin('ptitspas.utilisateurs as u', 'u.id', 'p.id_utilisateur')
    .select(['p.id_utilisateur', 'p.id_co_parent', 'u.email', 'u.prenom', 'u.nom', 'u.telephone', 'u.statut']);

type Row = Awaited<ReturnType<ReturnType<typeof parents>['executeTakeFirstOrThrow']>>;

const shown = ({ id_utilisateur, id_co_parent, ...utilisateur }: Row) => ({
  id_utilisateur,
  id_co_parent,
  utilisateur,
});

export async function findParent(db: Kysely<Database>, id: string) {
  const row = await parents(db).where('p.id_utilisateur', '=', id).executeTakeFirst();
  return row && shown(row);
}

export async function listParents(db: Kysely<Database>, options: ParentListOptions) {
  let query = parents(db);
  if (options.statut) query = query.where('u.statut', '=', options.statut);
  if (options.search?.trim()) query = query.where(matches('u.recherche', options.search));
  const { column, direction } = sortOf<'cree_le' | 'nom' | 'prenom' | 'email'>(options.sort);
  query = query.orderBy(sortKey(`u.${column}`), direction).orderBy('u.id', direction);
  const { rows, total } = await paginate<Row>(query, options);
  return { rows: rows.map(shown), total };
}

/**
 * Links `parentId` and `coParentId` both ways, or unlinks the parent (`null`) both ways. The rows
 * involved (the two parents and their current co-parents) are locked in one statement, in id
 * order, so concurrent links cannot leave a half-link or deadlock each other.
 */
export async function setCoParent(trx: Transaction<Database>, parentId: string, coParentId: string | null) {
  if (coParentId === parentId) throw badRequest('Un parent ne peut pas être son propre co-parent.');
  const ids = coParentId ? [parentId, coParentId] : [parentId];
  const locked = await trx
    .selectFrom('ptitspas.parents')
    .select(['id_utilisateur', 'id_co_parent'])
    .where((eb) =>
      eb.or([
        eb('id_utilisateur', 'in', ids),
        eb(
          'id_utilisateur',
          'in',
          eb.selectFrom('ptitspas.parents').select('id_co_parent').where('id_utilisateur', 'in', ids),
        ),
      ]),
    )
    .orderBy('id_utilisateur')
    .forUpdate()
    .execute();
  const current = new Map(locked.map((r) => [r.id_utilisateur, r.id_co_parent]));
  if (!current.has(parentId)) throw notFound(PARENT_NOT_FOUND);
  if (coParentId && !current.has(coParentId)) throw badRequest('id_co_parent doit désigner un parent.');
  const previous = current.get(parentId) ?? null;
  if (previous === coParentId) return;
  const partnerOfCoParent = coParentId ? current.get(coParentId) : null;
  if (coParentId && partnerOfCoParent && partnerOfCoParent !== parentId) {
    throw conflict('Ce parent a déjà un co-parent.');
  }
  // Whoever is linked to either side now is unlinked, then the new pair is linked both ways.
  const unlink = [parentId, ...(previous ? [previous] : [])];
  await trx
    .updateTable('ptitspas.parents')
    .set({ id_co_parent: null })
    .where((eb) => eb.or([eb('id_utilisateur', 'in', unlink), eb('id_co_parent', 'in', unlink)]))
    .execute();
  if (coParentId) {
    await trx
      .updateTable('ptitspas.parents')
      .set({
        id_co_parent: sql`case id_utilisateur when ${parentId}::uuid then ${coParentId}::uuid else ${parentId}::uuid end`,
      })
      .where('id_utilisateur', 'in', [parentId, coParentId])
      .execute();
  }
}
