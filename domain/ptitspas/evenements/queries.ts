import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database } from '../../../db/schema.js';
import type { EvenementsTable, EvenementType } from '../../../db/schema-ptitspas.js';
import { Invalid, NotFound } from '../../errors.js';
import { compiledPages, type PageBuilder } from '../../shared/pagination.js';
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

/** The list's filters, as values: what a compiled page query is run with. */
type PageValues = {
  caller: string;
  id_enfant: string;
  type: EvenementType;
  depuis: Date;
  jusqua: Date;
  date: string;
  after_at: Date;
  after_id: string;
  limit: number;
  offset: number;
};

/**
 * The events `caller` sees with the list's filters, in the list's order (the values given by
 * `value`: plain, or the markers of a compiled query).
 */
function pageOf(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  options: EvenementListOptions,
  value: <K extends keyof PageValues>(name: K) => PageValues[K],
) {
  let query = visibleEvenements(db, { ...caller, id: value('caller') });
  if (options.id_enfant) query = query.where('v.id_enfant', '=', value('id_enfant'));
  if (options.type) query = query.where('v.type', '=', value('type'));
  if (options.depuis) query = query.where('v.survenu_le', '>=', value('depuis'));
  if (options.jusqua) query = query.where('v.survenu_le', '<=', value('jusqua'));
  if (options.date) {
    const { from, to } = parisDay(value('date'));
    query = query.where('v.survenu_le', '>=', from).where('v.survenu_le', '<', to);
  }
  if (options.apres) {
    query = query.where((eb) =>
      eb(eb.refTuple('v.survenu_le', 'v.id'), '>', eb.tuple(value('after_at'), value('after_id'))),
    );
  }
  return query.orderBy('v.survenu_le', 'asc').orderBy('v.id', 'asc');
}

/** Compiled once per shape (who asks, which filters), as the dossiers' list is. */
const pages = compiledPages<PageValues, EvenementRow>();

/**
 * GET /evenements: oldest first. A parent or a childminder names the child (400 otherwise: their
 * lists are per child); staff may list every child's. `apres` pages by cursor: a page deep into a
 * year of events costs what the first one does.
 */
export async function listEvenements(db: Kysely<Database>, caller: PtitsPasCaller, options: EvenementListOptions) {
  if (!options.id_enfant && !isStaff(caller)) {
    throw new Invalid('id_enfant est obligatoire', { id_enfant: ['Le champ id_enfant est obligatoire.'] });
  }
  const values: PageValues = {
    caller: caller.id,
    id_enfant: options.id_enfant ?? '',
    type: options.type ?? 'note',
    depuis: new Date(options.depuis ?? 0),
    jusqua: new Date(options.jusqua ?? 0),
    date: options.date ?? '',
    after_at: new Date(0),
    after_id: '',
    limit: options.limit,
    offset: (options.page - 1) * options.limit,
  };
  if (options.apres) {
    if (options.page !== 1) {
      throw new Invalid('page et apres ne vont pas ensemble', { page: ['Avec apres, ne donnez pas de page.'] });
    }
    const cursor = await visibleEvenements(db, caller).where('v.id', '=', options.apres).executeTakeFirst();
    if (!cursor) {
      if (options.id_enfant) await assertSeesEnfant(db, caller, options.id_enfant);
      throw new Invalid('apres doit désigner un événement', {
        apres: ['Le champ apres doit désigner un événement visible.'],
      });
    }
    values.after_at = cursor.survenu_le;
    values.after_id = cursor.id;
  }
  const filters = (['id_enfant', 'type', 'depuis', 'jusqua', 'date', 'apres'] as const).filter((f) => options[f]);
  const build: PageBuilder<PageValues> = (handle, value) => pageOf(handle, caller, options, value);
  const { rows, total } = await pages(db, [caller.role, ...filters].join(), build, values, options.page);
  // The page holds only children the caller sees, so a row proves the child visible; an empty page
  // may be a child they do not see: 404, not an empty list (one statement less on every full page).
  if (rows.length === 0 && options.id_enfant) await assertSeesEnfant(db, caller, options.id_enfant);
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
