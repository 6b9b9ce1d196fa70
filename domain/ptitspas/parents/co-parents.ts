import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../../../db/schema.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { PARENT_NOT_FOUND } from './queries.js';

/** The co-parent rule's first clause, for a link made now or at creation (the CSV import's pairs). */
function assertNotOwnCoParent(parentId: string, coParentId: string | null | undefined): void {
  if (coParentId === parentId) throw new Invalid('Un parent ne peut pas être son propre co-parent.');
}

/**
 * The parent profiles of new parent accounts, in one statement: the single write path of parents.
 * Each entry is one family's one or two new parents; two are linked both ways at once (new
 * accounts: neither has a co-parent to be taken from).
 */
export async function insertParents(
  db: Kysely<Database>,
  families: ReadonlyArray<readonly [string] | readonly [string, string]>,
) {
  const rows = families.flatMap((ids) => {
    assertNotOwnCoParent(ids[0], ids[1]);
    return ids.map((id, i) => ({ id_utilisateur: id, id_co_parent: ids[1 - i] ?? null }));
  });
  if (rows.length > 0) await db.insertInto('ptitspas.parents').values(rows).execute();
}

/**
 * Links `parentId` and `coParentId` both ways, or unlinks the parent (`null`) both ways. The rows
 * involved (the two parents and their current co-parents) are locked in one statement, in id
 * order, so concurrent links cannot leave a half-link or deadlock each other.
 */
export async function setCoParent(trx: Transaction<Database>, parentId: string, coParentId: string | null) {
  assertNotOwnCoParent(parentId, coParentId);
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
  if (!current.has(parentId)) throw new NotFound(PARENT_NOT_FOUND);
  if (coParentId && !current.has(coParentId)) throw new Invalid('id_co_parent doit désigner un parent.');
  const previous = current.get(parentId) ?? null;
  if (previous === coParentId) return;
  const partnerOfCoParent = coParentId ? current.get(coParentId) : null;
  if (coParentId && partnerOfCoParent && partnerOfCoParent !== parentId) {
    throw new Conflict('Ce parent a déjà un co-parent.');
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
