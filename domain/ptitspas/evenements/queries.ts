import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { EvenementsTable } from '../../../db/schema-ptitspas.js';
import { Invalid, NotFound } from '../../errors.js';
import { paginate } from '../../shared/pagination.js';
import type { PtitsPasCaller } from '../caller.js';
import { ENFANT_NOT_FOUND } from '../enfants/rules.js';
import { isStaff, visibleEnfantIds, visibleEnfants } from '../enfants/visibility.js';
import type { Details } from './details.js';
import type { Evenement, EvenementListOptions, Journal } from './model.js';

export const EVENEMENT_NOT_FOUND = 'Événement non trouvé';

export type EvenementRow = Selectable<EvenementsTable>;

export function shown(row: EvenementRow): Evenement {
  return {
    id: row.id,
    id_enfant: row.id_enfant,
    id_auteur: row.id_auteur,
    type: row.type,
    survenu_le: row.survenu_le.toISOString(),
    details: row.details as Record<string, unknown>,
    note: row.note,
    id_upload: row.id_upload,
    cree_le: row.cree_le.toISOString(),
  };
}

/** The events of the children `caller` sees (who sees a child: enfants/visibility.ts). */
function visibleEvenements(db: Kysely<Database>, caller: PtitsPasCaller) {
  const seen = visibleEnfantIds(db, caller);
  return db
    .selectFrom('ptitspas.evenements as v')
    .$if(seen !== undefined, (q) => q.where('v.id_enfant', 'in', seen!))
    .selectAll('v');
}

/** The event `id` as stored, or NotFound when `caller` does not see its child. */
async function findEvenement(db: Kysely<Database>, caller: PtitsPasCaller, id: string): Promise<EvenementRow> {
  const row = await visibleEvenements(db, caller).where('v.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(EVENEMENT_NOT_FOUND);
  return row;
}

export const getEvenement = async (db: Kysely<Database>, caller: PtitsPasCaller, id: string) =>
  shown(await findEvenement(db, caller, id));

/** The bounds of day `date` (YYYY-MM-DD) in Paris, as instants. */
const parisDay = (date: string) => ({
  from: sql<Date>`(${date}::date)::timestamp at time zone 'Europe/Paris'`,
  to: sql<Date>`(${date}::date + 1)::timestamp at time zone 'Europe/Paris'`,
});

/**
 * GET /evenements: oldest first. A parent or a childminder names the child (400 otherwise: their
 * lists are per child); staff may list every child's.
 */
export async function listEvenements(db: Kysely<Database>, caller: PtitsPasCaller, options: EvenementListOptions) {
  if (!options.id_enfant && !isStaff(caller)) {
    throw new Invalid('id_enfant est obligatoire', { id_enfant: ['Le champ id_enfant est obligatoire.'] });
  }
  if (options.id_enfant) await assertSeesEnfant(db, caller, options.id_enfant);
  let query = visibleEvenements(db, caller);
  if (options.id_enfant) query = query.where('v.id_enfant', '=', options.id_enfant);
  if (options.type) query = query.where('v.type', '=', options.type);
  if (options.depuis) query = query.where('v.survenu_le', '>=', new Date(options.depuis));
  if (options.jusqua) query = query.where('v.survenu_le', '<=', new Date(options.jusqua));
  if (options.date) {
    const { from, to } = parisDay(options.date);
    query = query.where('v.survenu_le', '>=', from).where('v.survenu_le', '<', to);
  }
  if (options.apres) {
    // Keyset: a page deep into a year of events costs what the first one does.
    if (options.page !== 1) {
      throw new Invalid('page et apres ne vont pas ensemble', { page: ['Avec apres, ne donnez pas de page.'] });
    }
    const cursor = await visibleEvenements(db, caller).where('v.id', '=', options.apres).executeTakeFirst();
    if (!cursor) {
      throw new Invalid('apres doit désigner un événement', {
        apres: ['Le champ apres doit désigner un événement visible.'],
      });
    }
    query = query.where((eb) => eb(eb.refTuple('v.survenu_le', 'v.id'), '>', eb.tuple(cursor.survenu_le, cursor.id)));
  }
  const { rows, total } = await paginate<EvenementRow>(
    query.orderBy('v.survenu_le', 'asc').orderBy('v.id', 'asc'),
    options,
  );
  return { rows: rows.map(shown), total };
}

/** NotFound unless `caller` sees the child `idEnfant`. */
async function assertSeesEnfant(db: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string) {
  const enfant = await visibleEnfants(db, caller).select('e.id').where('e.id', '=', idEnfant).executeTakeFirst();
  if (!enfant) throw new NotFound(ENFANT_NOT_FOUND);
}

/**
 * GET /enfants/:id/journal?date=: the child's day in Paris — first arrival, last departure, the
 * minutes of sleep and millilitres of bottles summed, the meals, and every event in order.
 */
export async function journal(db: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string, date: string) {
  await assertSeesEnfant(db, caller, idEnfant);
  const { from, to } = parisDay(date);
  const rows = await db
    .selectFrom('ptitspas.evenements')
    .selectAll()
    .where('id_enfant', '=', idEnfant)
    .where('survenu_le', '>=', from)
    .where('survenu_le', '<', to)
    .orderBy('survenu_le')
    .orderBy('id')
    .execute();
  const evenements = rows.map(shown);
  const of = <T extends Evenement['type']>(type: T) => evenements.filter((e) => e.type === type);
  const minutes = (d: Details<'sieste'>) => Math.round((Date.parse(d.fin) - Date.parse(d.debut)) / 60_000);
  const result: Journal = {
    date,
    arrivee: of('arrivee')[0]?.survenu_le ?? null,
    depart: of('depart').at(-1)?.survenu_le ?? null,
    sieste_minutes: of('sieste').reduce((sum, e) => sum + minutes(e.details as Details<'sieste'>), 0),
    biberons_ml: of('biberon').reduce((sum, e) => sum + (e.details as Details<'biberon'>).quantite_ml, 0),
    repas: of('repas'),
    evenements,
  };
  return result;
}
