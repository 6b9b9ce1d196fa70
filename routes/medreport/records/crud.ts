import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { pick } from '../../../db/columns.js';
import { containing } from '../../../db/like.js';
import { prepared } from '../../../db/prepared.js';
import { uuidv7 } from '../../../db/uuid.js';
import { conflict, errorResponses, notFound, unprocessable } from '../../../plugins/errors.js';
import { mutate, mutationScope, type Mutation, type SyncedEntity } from '../mutation.js';
import { csvDisposition, csvStream, type CsvColumn } from './csv.js';
import { References } from './references.js';
import { StringEnum } from '../../schemas.js';
import { paginate } from '../../../domain/shared/pagination.js';

export type Row = Record<string, unknown> & {
  uuid: string;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
};
export type RecordTable = 'medreport.patients' | 'medreport.prescriptions' | 'medreport.invoices';

/**
 * One kind of clinical record (patients, prescriptions, invoices). `recordRoutes` turns it into
 * the REST routes every record has, with the same conventions: paginated lists
 * `{ data, total, page, limit }`, optional client uuid with idempotent replay, soft deletes, an
 * activity-log row in the same transaction as each change, and a streamed CSV export.
 */
export interface RecordDefinition<
  Create extends TObject = TObject,
  Update extends TObject = TObject,
> extends SyncedEntity {
  table: RecordTable;
  /** Singular, for actions (`patient.created`) and operation ids. */
  entity: string;
  /** Plural path segment, OpenAPI tag and feed name: `patients`. */
  plural: 'patients' | 'prescriptions' | 'invoices';
  resource: TObject;
  create: Create;
  update: Update;
  /** Columns `search` looks in (case-insensitive substring). */
  searchColumns: string[];
  /** Columns `sort` accepts, `-column` for descending; the first is the default, newest first. */
  sortColumns: string[];
  /** Equality filters a list accepts besides search, e.g. `patient_uuid`. */
  filters?: TProperties;
  /** The record's own columns: with uuid, created_by and timestamps, they make its resource. */
  columns: readonly string[];
  /** The columns a client may set, the only keys `prepare` ever sees; the rest are derived. */
  writable: readonly string[];
  /**
   * Checks references and derives stored values (422 on a bad reference), inside the mutation's
   * transaction. `existing` is set on updates.
   */
  prepare(refs: References, input: Record<string, unknown>, existing?: Row): Promise<Record<string, unknown>>;
  /** Offer `GET /{plural}/export?format=csv` (uuid, the columns, created_at). */
  exportable?: boolean;
}

const Uuid = Type.String({ format: 'uuid' });
/** Far beyond any real list, and `(page - 1) × limit` stays an exact integer. */
export const MAX_PAGE = 10_000_000;
const UuidParams = Type.Object({ uuid: Uuid });
const Deleted = Type.Object({ success: Type.Literal(true), message: Type.String() });
const ExportQuery = Type.Object({ format: StringEnum(['csv'], { description: 'Only csv for now' }) });

/** The stored values a create would write equal the row's: a replay, not a conflict. */
export function sameContent(values: Record<string, unknown>, row: Row): boolean {
  return Object.entries(values).every(([key, value]) => (value ?? null) === (row[key] ?? null));
}

/** The references a mutation of `request`'s caller may point to. */
export function referencesOf(m: Mutation, request: FastifyRequest): References {
  return new References(m, { uuid: request.user.uuid, organizationId: request.tenant.organizationId });
}

export function recordRoutes<Create extends TObject, Update extends TObject>(
  def: RecordDefinition<Create, Update>,
): FastifyPluginAsyncTypebox {
  const Entity = def.entity[0]!.toUpperCase() + def.entity.slice(1);
  const Plural = def.plural[0]!.toUpperCase() + def.plural.slice(1);
  const sorts = def.sortColumns.flatMap((c) => [c, `-${c}`]);
  const ListQuery = Type.Object({
    page: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 }),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
    search: Type.Optional(Type.String({ maxLength: 200 })),
    sort: Type.Optional(StringEnum(sorts, { description: '`-column` sorts descending' })),
    ...def.filters,
  });
  const List = Type.Object({
    data: Type.Array(Type.Ref(def.resource)),
    total: Type.Integer(),
    page: Type.Integer(),
    limit: Type.Integer(),
  });
  const filterColumns = Object.keys(def.filters ?? {});
  const security = [{ bearerAuth: [] }];
  const tags = [def.plural];
  // A row is its resource: the response schema serializes exactly the resource's fields (Dates as
  // ISO 8601) and nothing else, so server-side columns such as organization_id never leave.
  const toResource = (row: Row) => row as unknown as Static<typeof def.resource>;
  type ExportRow = Row & { created_at_iso: string };
  const csvColumns: CsvColumn<ExportRow>[] = [
    { header: 'uuid', value: (r) => r.uuid },
    ...def.columns.map((c) => ({ header: c, value: (r: ExportRow) => r[c] as string | number | null })),
    { header: 'created_at', value: (r) => r.created_at_iso },
  ];

  return async (app) => {
    // Generic over four tables, so untyped inside; each definition's schemas type the edges.
    const db = (request: FastifyRequest) => request.tenant.db as unknown as Kysely<any>;
    // The hottest read: compiled once per organization's handle (db/prepared.ts).
    const selectLive = prepared<any, { uuid: string }, Row>((handle, param) =>
      handle.selectFrom(def.table).selectAll().where('uuid', '=', param('uuid')).where('deleted_at', 'is', null),
    );
    const findLive = async (handle: Kysely<any>, uuid: string) => (await selectLive(handle, { uuid }))[0];
    const missing = () => notFound(`${Entity} introuvable.`);

    app.get(
      `/${def.plural}`,
      {
        schema: {
          operationId: `list${Plural}`,
          tags,
          summary: `List ${def.plural} (paginated, searchable, sortable)`,
          security,
          querystring: ListQuery,
          response: { 200: List, ...errorResponses('medreport', 401, 403, 422) },
        },
      },
      async (request) => {
        const { page, limit, search, sort } = request.query as Static<typeof ListQuery>;
        let query = db(request).selectFrom(def.table).where('deleted_at', 'is', null);
        for (const column of filterColumns) {
          const value = (request.query as Record<string, unknown>)[column];
          if (value !== undefined) query = query.where(column, '=', value);
        }
        if (search) {
          const pattern = containing(search);
          query = query.where((eb) => eb.or(def.searchColumns.map((c) => eb(c, 'ilike', pattern))));
        }
        const order = sort ?? `-${def.sortColumns[0]}`;
        const column = order.replace(/^-/, '');
        const direction = order.startsWith('-') ? 'desc' : 'asc';
        const { rows, total } = await paginate<Row>(
          query.selectAll().orderBy(column, direction).orderBy('uuid', direction),
          { page, limit },
        );
        return { data: rows.map(toResource), total, page, limit };
      },
    );

    if (def.exportable) {
      app.get(
        `/${def.plural}/export`,
        {
          schema: {
            operationId: `export${Plural}`,
            tags,
            summary: `Export every ${def.entity} as CSV (streamed)`,
            security,
            querystring: ExportQuery,
            response: {
              200: Type.String({ description: 'text/csv; charset=utf-8, with a header row' }),
              ...errorResponses('medreport', 401, 403, 422, 429),
            },
          },
        },
        async (request, reply) => {
          const slot = request.tenant.openExport();
          // Only the exported columns, the timestamp already as ISO 8601 text: PostgreSQL formats
          // it once instead of node parsing it into a Date and printing it back.
          const rows = (slot.db as unknown as Kysely<any>)
            .selectFrom(def.table)
            .select(['uuid', ...def.columns])
            .select(
              sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`.as('created_at_iso'),
            )
            .where('deleted_at', 'is', null)
            .orderBy('created_at')
            .orderBy('uuid')
            .stream(1000) as AsyncIterable<ExportRow>;
          const body = csvStream(rows, csvColumns, {
            stallTimeoutMs: slot.stallTimeoutMs,
            onStall: (rowsSent) =>
              request.log.warn(
                { organization: request.tenant.organizationId, export: def.plural, rowsSent },
                'export stalled: aborted',
              ),
          });
          // Closed once the rows' cursor is: ended, failed, abandoned by the client or stalled.
          body.once('close', slot.release);
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', csvDisposition(def.plural))
            .send(body as unknown as string);
        },
      );
    }

    app.post(
      `/${def.plural}`,
      {
        schema: {
          operationId: `create${Entity}`,
          tags,
          summary: `Create a ${def.entity}; a client-chosen uuid makes retries idempotent`,
          security,
          body: def.create,
          response: {
            200: Type.Ref(def.resource),
            201: Type.Ref(def.resource),
            ...errorResponses('medreport', 401, 403, 409, 422),
          },
        },
      },
      async (request, reply) => {
        const body = request.body as unknown as Record<string, unknown>;
        const uuid = (body.uuid as string | undefined) ?? uuidv7();
        const { value } = await mutate(mutationScope(request), async (m) => {
          const values = await def.prepare(referencesOf(m, request), pick(body, def.writable));
          const [inserted] = await m.insert(
            def,
            [{ ...pick(values, def.columns), uuid, created_by: request.user.id }],
            {
              ifAbsent: true,
            },
          );
          if (inserted) return { row: inserted as Row, created: true };
          const existing = (await (m.trx as unknown as Kysely<any>)
            .selectFrom(def.table)
            .selectAll()
            .where('uuid', '=', uuid)
            .executeTakeFirstOrThrow()) as Row;
          if (existing.deleted_at || !sameContent(values, existing)) {
            throw conflict(`Un ${def.entity} existe déjà avec cet uuid, avec un autre contenu.`);
          }
          return { row: existing, created: false };
        });
        return reply.code(value.created ? 201 : 200).send(toResource(value.row));
      },
    );

    app.get(
      `/${def.plural}/:uuid`,
      {
        schema: {
          operationId: `get${Entity}`,
          tags,
          summary: `One ${def.entity}`,
          security,
          params: UuidParams,
          response: { 200: Type.Ref(def.resource), ...errorResponses('medreport', 401, 403, 404, 422) },
        },
      },
      async (request) => {
        const row = await findLive(db(request), request.params.uuid);
        if (!row) throw missing();
        return toResource(row);
      },
    );

    app.patch(
      `/${def.plural}/:uuid`,
      {
        schema: {
          operationId: `update${Entity}`,
          tags,
          summary: `Change some fields of a ${def.entity}`,
          security,
          params: UuidParams,
          body: def.update,
          response: { 200: Type.Ref(def.resource), ...errorResponses('medreport', 401, 403, 404, 422) },
        },
      },
      async (request) => {
        const { value } = await mutate(mutationScope(request), async (m) => {
          const [existing] = (await m.lockedRows(def, [request.params.uuid])).rows as Row[];
          if (!existing || existing.deleted_at) throw missing();
          const changes = pick(request.body as unknown as Record<string, unknown>, def.writable);
          if (Object.keys(changes).length === 0) {
            throw unprocessable('Aucun champ modifiable dans la requête.', { body: ['Aucun champ modifiable.'] });
          }
          const values = await def.prepare(referencesOf(m, request), changes, existing);
          return (await m.update(def, existing.uuid, pick(values, def.columns))) as Row;
        });
        return toResource(value);
      },
    );

    app.delete(
      `/${def.plural}/:uuid`,
      {
        schema: {
          operationId: `delete${Entity}`,
          tags,
          summary: `Delete a ${def.entity} (kept as a tombstone for sync, hidden everywhere else)`,
          security,
          params: UuidParams,
          response: { 200: Deleted, ...errorResponses('medreport', 401, 403, 404, 422) },
        },
      },
      async (request) => {
        await mutate(mutationScope(request), async (m) => {
          const [deleted] = await m.remove(def, [request.params.uuid]);
          if (!deleted) throw missing();
        });
        return { success: true as const, message: `${Entity} supprimé.` };
      },
    );
  };
}
