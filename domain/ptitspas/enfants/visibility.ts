import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { PtitsPasCaller } from '../caller.js';

type EnfantScope = ExpressionBuilder<Database & { e: Database['ptitspas.enfants'] }, 'e'>;

/**
 * Who sees a child (docs/ptitspas.md, "Qui voit un enfant"): the one rule every route naming a
 * child applies, its lists, its reads and the children named in a body alike.
 *
 * - staff (super_admin, administrateur, gestionnaire): every child;
 * - a parent: the children linked to them or to their current co-parent;
 * - a childminder: the children of her contracts signed and current today.
 *
 * Any other child is simply not found (404), never forbidden, so its existence is not revealed.
 */
export function visibleEnfants(db: Kysely<Database>, caller: PtitsPasCaller) {
  const all = db.selectFrom('ptitspas.enfants as e');
  switch (caller.role) {
    case 'super_admin':
    case 'administrateur':
    case 'gestionnaire':
      return all;
    case 'parent':
      return all.where((eb) => parentOf(eb, caller.id));
    case 'assistante_maternelle':
      return all.where((eb) => underCurrentContract(eb, caller.id));
  }
}

/**
 * The ids of the children `caller` sees, as a sub-query to filter a child-id column with; undefined
 * when they see every child (staff), so that a list of everything costs no join.
 */
export function visibleEnfantIds(db: Kysely<Database>, caller: PtitsPasCaller) {
  return isStaff(caller) ? undefined : visibleEnfants(db, caller).select('e.id');
}

/** super_admin, administrateur, gestionnaire: "staff", who see every child. */
export const isStaff = ({ role }: PtitsPasCaller) =>
  role === 'super_admin' || role === 'administrateur' || role === 'gestionnaire';

/** `e` is the child of `parentId`, or of the parent whose current co-parent `parentId` is. */
function parentOf(eb: EnfantScope, parentId: string) {
  return eb.exists(
    eb
      .selectFrom('ptitspas.enfants_parents as ep')
      .innerJoin('ptitspas.parents as p', (join) =>
        join.on((j) =>
          j.or([j('ep.id_parent', '=', j.ref('p.id_utilisateur')), j('ep.id_parent', '=', j.ref('p.id_co_parent'))]),
        ),
      )
      .whereRef('ep.id_enfant', '=', 'e.id')
      .where('p.id_utilisateur', '=', parentId),
  );
}

/**
 * `e` is under a contract of the childminder `id` in state `signe` whose period covers today
 * (Europe/Paris): signing gives her the child, ending the contract (`termine`) takes it back at once.
 */
function underCurrentContract(eb: EnfantScope, id: string) {
  const today = sql<string>`(now() at time zone 'Europe/Paris')::date`;
  return eb.exists(
    eb
      .selectFrom('ptitspas.contrats as c')
      .whereRef('c.id_enfant', '=', 'e.id')
      .where('c.id_assistante_maternelle', '=', id)
      .where('c.statut', '=', 'signe')
      .where('c.date_debut', '<=', today)
      .where((w) => w.or([w('c.date_fin', 'is', null), w('c.date_fin', '>=', today)])),
  );
}

/** The accounts that see the child `id` as its parents: whom its steps notify. */
export async function parentsOf(db: Kysely<Database>, id: string): Promise<string[]> {
  const rows = await db
    .selectFrom('ptitspas.parents as p')
    .select('p.id_utilisateur')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('ptitspas.enfants_parents as ep')
          .where('ep.id_enfant', '=', id)
          .where((w) =>
            w.or([w('ep.id_parent', '=', w.ref('p.id_utilisateur')), w('ep.id_parent', '=', w.ref('p.id_co_parent'))]),
          ),
      ),
    )
    .execute();
  return rows.map((r) => r.id_utilisateur);
}
