import { type Kysely, sql } from 'kysely';
import { pick } from '../../../db/columns.js';
import { containing } from '../../../db/like.js';
import { prepared } from '../../../db/prepared.js';
import type { Database } from '../../../db/schema.js';
import { uuidv7 } from '../../../db/uuid.js';
import { Conflict, Invalid, NotFound } from '../../errors.js';
import { compiledPages, type PageBuilder, type PageValues } from '../../shared/pagination.js';
import type { AnyRecordDefinition, RecordColumn, RecordRow } from './definition.js';
import { type MemberScope, mutate, resourceColumns } from './mutation.js';
import { referencesOf } from './references.js';

/**
 * What every clinical record offers (records/definition.ts): list, read, create with idempotent
 * replay, update, soft delete. Writes go through the one mutation path (mutation.ts).
 */

export interface ListOptions {
  page: number;
  limit: number;
  search?: string;
  /** A sort column, `-column` for descending; the definition's first sort column, newest first, by default. */
  sort?: string;
  /** Values of the definition's equality filters, by column (undefined: no filter). */
  filters?: Record<string, unknown>;
}

export const entityName = (def: AnyRecordDefinition) => def.entity[0]!.toUpperCase() + def.entity.slice(1);
const missing = (def: AnyRecordDefinition) => new NotFound(`${entityName(def)} introuvable.`);

/** The stored values a create would write equal the row's: a replay, not a conflict. */
export function sameContent(values: Record<string, unknown>, row: Record<string, unknown>): boolean {
  return Object.entries(values).every(([key, value]) => (value ?? null) === (row[key] ?? null));
}

/** A record as the API answers it: its resource's properties, timestamps as ISO 8601 text. */
export type RecordResource = Record<string, unknown>;

/** The columns of `def`'s answer, timestamps formatted by PostgreSQL. */
const answerColumns = (def: AnyRecordDefinition) => resourceColumns(def).map(([key, value]) => value.as(key));

/** The values a compiled page of records runs with: the search, each filter's value, the page. */
type RecordPageValues = PageValues & { search: string } & Record<`filter:${string}`, string>;

/** The lists are MedReport's hot reads: compiled once per shape (entity, order, search, filters). */
const pages = compiledPages<RecordPageValues, RecordResource>();

/** One page of the live records, filtered, searched and sorted, with the number of matches. */
export async function listRecords(
  db: Kysely<Database>,
  def: AnyRecordDefinition,
  { page, limit, search, sort, filters = {} }: ListOptions,
): Promise<{ rows: RecordResource[]; total: number }> {
  // Filters are uuid columns (the definition's schema validated the value).
  const filtered = (Object.keys(def.filters ?? {}) as RecordColumn[]).filter((c) => filters[c] !== undefined);
  const order = sort ?? `-${def.sortColumns[0]}`;
  const column = order.replace(/^-/, '') as RecordColumn;
  const direction = order.startsWith('-') ? 'desc' : 'asc';
  const values: RecordPageValues = { search: search ?? '', limit, offset: (page - 1) * limit };
  for (const c of filtered) values[`filter:${c}`] = filters[c] as string;
  const build: PageBuilder<RecordPageValues> = (handle, value) => {
    let query = handle.selectFrom(def.table).where('deleted_at', 'is', null);
    for (const c of filtered) query = query.where(c, '=', value(`filter:${c}`));
    if (search) {
      const pattern = containing(value('search'));
      query = query.where((eb) => eb.or(def.searchColumns.map((c) => eb(c, 'ilike', pattern))));
    }
    // The answer's columns, timestamps formatted by PostgreSQL; the order names the table's own
    // columns (an output column of the same name, the formatted text, would take precedence).
    return query
      .select(answerColumns(def))
      .orderBy(`${def.table}.${column}` as RecordColumn, direction)
      .orderBy(`${def.table}.uuid` as RecordColumn, direction);
  };
  const key = [def.plural, order, search ? 'search' : '', ...filtered].join();
  // Unfiltered, the total is the organization's kept count; a search or a filter counts its matches.
  const kept = search || filtered.length > 0 ? undefined : (handle: Kysely<Database>) => liveCount(handle, def);
  return pages(db, key, build, values, page, kept);
}

/** The organization's number of live `def` records, kept by triggers (migration 0025). */
function liveCount(db: Kysely<Database>, def: AnyRecordDefinition) {
  return db
    .selectFrom('medreport.record_counts')
    .select(sql<number>`coalesce(max(live), 0)`.as('n'))
    .where('entity', '=', def.plural);
}

type SelectLive = (db: Kysely<Database>, params: { uuid: string }) => Promise<RecordResource[]>;
const selectLives = new WeakMap<AnyRecordDefinition, SelectLive>();

/** The hottest read: compiled once per organization's handle (db/prepared.ts). */
function selectLiveOf(def: AnyRecordDefinition): SelectLive {
  let select = selectLives.get(def);
  if (!select) {
    select = prepared<Database, { uuid: string }, RecordResource>((handle, param) =>
      handle
        .selectFrom(def.table)
        .select(answerColumns(def))
        .where('uuid', '=', param('uuid'))
        .where('deleted_at', 'is', null),
    );
    selectLives.set(def, select);
  }
  return select;
}

/** The live record `uuid`; NotFound otherwise. */
export async function findRecord(
  db: Kysely<Database>,
  def: AnyRecordDefinition,
  uuid: string,
): Promise<RecordResource> {
  const [row] = await selectLiveOf(def)(db, { uuid });
  if (!row) throw missing(def);
  return row;
}

/**
 * Creates a record from a client's input (a client-chosen `uuid` makes retries idempotent: the
 * same content again answers the stored row, `created: false`; other content is a Conflict).
 */
export async function createRecord(
  scope: MemberScope,
  def: AnyRecordDefinition,
  input: Record<string, unknown>,
): Promise<{ row: RecordRow; created: boolean }> {
  const uuid = (input.uuid as string | undefined) ?? uuidv7();
  const { value } = await mutate(scope, async (m) => {
    const values = await def.prepare(referencesOf(m, scope), pick(input, def.writable));
    const [inserted] = await m.insert(def, [{ ...pick(values, def.columns), uuid, created_by: scope.actor.id }], {
      ifAbsent: true,
    });
    // Narrowed to the record tables: the mutation wrote def.table's row (`returning *`).
    if (inserted) return { row: inserted as RecordRow, created: true };
    const existing = await m.trx.selectFrom(def.table).selectAll().where('uuid', '=', uuid).executeTakeFirstOrThrow();
    if (existing.deleted_at || !sameContent(values, existing)) {
      throw new Conflict(`Un ${def.entity} existe déjà avec cet uuid, avec un autre contenu.`);
    }
    return { row: existing as RecordRow, created: false };
  });
  return value;
}

/** Changes the writable fields `input` names of the live record `uuid`. */
export async function updateRecord(
  scope: MemberScope,
  def: AnyRecordDefinition,
  uuid: string,
  input: Record<string, unknown>,
): Promise<RecordRow> {
  const { value } = await mutate(scope, async (m) => {
    const [existing] = (await m.lockedRows(def, [uuid])).rows as RecordRow[]; // def.table's rows
    if (!existing || existing.deleted_at) throw missing(def);
    const changes = pick(input, def.writable);
    if (Object.keys(changes).length === 0) {
      throw new Invalid('Aucun champ modifiable dans la requête.', { body: ['Aucun champ modifiable.'] });
    }
    const values = await def.prepare(referencesOf(m, scope), changes, existing);
    return (await m.update(def, existing.uuid, pick(values, def.columns))) as RecordRow; // def.table's row
  });
  return value;
}

/** Soft-deletes the live record `uuid` (its tombstone stays for sync); NotFound otherwise. */
export async function deleteRecord(scope: MemberScope, def: AnyRecordDefinition, uuid: string): Promise<void> {
  await mutate(scope, async (m) => {
    const [deleted] = await m.remove(def, [uuid]);
    if (!deleted) throw missing(def);
  });
}
