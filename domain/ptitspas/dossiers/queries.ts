import { type Kysely, type Selectable, sql } from 'kysely';
import { isoTimestamp } from '../../../db/iso-timestamp.js';
import type { Database } from '../../../db/schema.js';
import type { DossierStatut, DossiersTable } from '../../../db/schema-ptitspas.js';
import { NotFound } from '../../errors.js';
import { JsonText } from '../../shared/json-text.js';
import { compiledPages, type PageBuilder } from '../../shared/pagination.js';
import type { PtitsPasCaller } from '../caller.js';
import { isStaff, visibleEnfantIds } from '../enfants/visibility.js';
import { keptTotal, matches, sortOf } from '../lists.js';
import type { Dossier, DossierListOptions } from './model.js';

export const DOSSIER_NOT_FOUND = 'Dossier non trouvé';

type Row = Selectable<DossiersTable> & { pieces: string[] };

/** The dossiers of the children `caller` sees (visibility.ts). */
function visibleDossiers(db: Kysely<Database>, caller: PtitsPasCaller) {
  const seen = visibleEnfantIds(db, caller);
  return db.selectFrom('ptitspas.dossiers as d').$if(seen !== undefined, (q) => q.where('d.id_enfant', 'in', seen!));
}

/** The ids of the dossier `d`'s pieces in order; a childminder never sees a `decision_justice` piece. */
function piecesOf(caller: PtitsPasCaller) {
  const hidden =
    caller.role === 'assistante_maternelle'
      ? sql`and not exists (select from ptitspas.uploads u where u.id = dp.id_upload and u.categorie = 'decision_justice')`
      : sql``;
  return sql`array(select dp.id_upload from ptitspas.dossiers_pieces dp
                     where dp.id_enfant = d.id_enfant ${hidden} order by dp.position)`;
}

const JSON_COLUMNS = [
  'responsables',
  'contacts_urgence',
  'personnes_autorisees',
  'sante',
  'autorisations',
  'historique',
] as const;

/** A dossier of a list, its JSON parts as PostgreSQL wrote them: the answer carries them as they are. */
type ListedDossier = Omit<Dossier, (typeof JSON_COLUMNS)[number] | 'pieces'> &
  Record<(typeof JSON_COLUMNS)[number] | 'pieces', JsonText>;

type ListedRow = Pick<Dossier, 'id_enfant' | 'statut' | 'cree_le' | 'modifie_le'> &
  Record<(typeof JSON_COLUMNS)[number] | 'pieces', string>;

function listed(row: ListedRow): ListedDossier {
  return {
    id_enfant: row.id_enfant,
    statut: row.statut,
    responsables: new JsonText(row.responsables),
    contacts_urgence: new JsonText(row.contacts_urgence),
    personnes_autorisees: new JsonText(row.personnes_autorisees),
    sante: new JsonText(row.sante),
    autorisations: new JsonText(row.autorisations),
    pieces: new JsonText(row.pieces),
    historique: new JsonText(row.historique),
    cree_le: row.cree_le,
    modifie_le: row.modifie_le,
  };
}

function shown(row: Row): Dossier {
  return {
    id_enfant: row.id_enfant,
    statut: row.statut,
    responsables: row.responsables as Dossier['responsables'],
    contacts_urgence: row.contacts_urgence as Dossier['contacts_urgence'],
    personnes_autorisees: row.personnes_autorisees as Dossier['personnes_autorisees'],
    sante: row.sante as Dossier['sante'],
    autorisations: row.autorisations as Dossier['autorisations'],
    pieces: row.pieces,
    historique: row.historique as Dossier['historique'],
    cree_le: row.cree_le.toISOString(),
    modifie_le: row.modifie_le.toISOString(),
  };
}

/** The dossier of the child `idEnfant`; NotFound when `caller` does not see the child or it has none yet. */
export async function getDossier(db: Kysely<Database>, caller: PtitsPasCaller, idEnfant: string): Promise<Dossier> {
  const row = await visibleDossiers(db, caller)
    .selectAll('d')
    .select(piecesOf(caller).$castTo<string[]>().as('pieces'))
    .where('d.id_enfant', '=', idEnfant)
    .executeTakeFirst();
  if (!row) throw new NotFound(DOSSIER_NOT_FOUND);
  return shown(row);
}

/** The list's filters, as values: what a compiled page query is run with. */
type PageValues = {
  caller: string;
  statut: DossierStatut;
  search: string;
  limit: number;
  offset: number;
};

/**
 * The dossiers `caller` sees with the list's filters and order (the values given by `value`:
 * plain, or the markers of a compiled query).
 */
function pageOf(
  db: Kysely<Database>,
  caller: PtitsPasCaller,
  options: DossierListOptions,
  value: <K extends keyof PageValues>(name: K) => PageValues[K],
) {
  let query = visibleDossiers(db, { ...caller, id: value('caller') }).select([
    'd.id_enfant',
    'd.statut',
    isoTimestamp('d.cree_le').as('cree_le'),
    isoTimestamp('d.modifie_le').as('modifie_le'),
    ...JSON_COLUMNS.map((column) => sql<string>`${sql.ref(`d.${column}`)}::text`.as(column)),
    sql<string>`array_to_json(${piecesOf(caller)})::text`.as('pieces'),
  ]);
  if (options.statut) query = query.where('d.statut', '=', value('statut'));
  if (options.search?.trim()) {
    const named = db
      .selectFrom('ptitspas.enfants as e')
      .select('e.id')
      .where(matches('e.recherche', value('search')));
    query = query.where('d.id_enfant', 'in', named);
  }
  const { column, direction } = sortOf<'cree_le' | 'modifie_le' | 'statut'>(options.sort);
  return query.orderBy(`d.${column}`, direction).orderBy('d.id_enfant', direction);
}

/** The list is the dossiers' hot read: compiled once per shape (who asks, which filters, which order). */
const pages = compiledPages<PageValues, ListedRow>();

/** A page of the dossiers `caller` sees, and how many match; `search` looks in the child's name. */
export async function listDossiers(db: Kysely<Database>, caller: PtitsPasCaller, options: DossierListOptions) {
  const values: PageValues = {
    caller: caller.id,
    statut: options.statut ?? 'brouillon',
    search: options.search?.trim() ?? '',
    limit: options.limit,
    offset: (options.page - 1) * options.limit,
  };
  const key = [
    caller.role,
    options.statut ? 'statut' : '',
    options.search?.trim() ? 'search' : '',
    options.sort,
  ].join();
  const build: PageBuilder<PageValues> = (handle, value) => pageOf(handle, caller, options, value);
  const whole = isStaff(caller) && !options.statut && !options.search?.trim();
  const kept = whole ? (handle: Kysely<Database>) => keptTotal(handle, 'dossiers') : undefined;
  const { rows, total } = await pages(db, key, build, values, options.page, kept);
  return { rows: rows.map(listed), total };
}
