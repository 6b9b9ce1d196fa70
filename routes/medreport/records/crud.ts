import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { csvDisposition } from '../../../domain/medreport/records/csv.js';
import type { AnyRecordDefinition, RecordRow } from '../../../domain/medreport/records/definition.js';
import { exportRecords } from '../../../domain/medreport/records/export.js';
import {
  createRecord,
  deleteRecord,
  entityName,
  findRecord,
  listRecords,
  type RecordResource,
  updateRecord,
} from '../../../domain/medreport/records/records.js';
import { StringEnum } from '../../../domain/shared/schemas.js';
import { errorResponses } from '../../../plugins/errors.js';
import { mutationScope } from '../mutation-scope.js';

const Uuid = Type.String({ format: 'uuid' });
/** Far beyond any real list, and `(page - 1) × limit` stays an exact integer. */
export const MAX_PAGE = 10_000_000;
const UuidParams = Type.Object({ uuid: Uuid });
const Deleted = Type.Object({ success: Type.Literal(true), message: Type.String() });
const ExportQuery = Type.Object({ format: StringEnum(['csv'], { description: 'Only csv for now' }) });

/**
 * The REST routes of one kind of clinical record (domain/medreport/records/): each handler calls
 * the matching domain function on the tenant's handle.
 */
export function recordRoutes(def: AnyRecordDefinition): FastifyPluginAsyncTypebox {
  const Entity = entityName(def);
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
  const security = [{ bearerAuth: [] }];
  const tags = [def.plural];
  // A row is its resource: the response schema serializes exactly the resource's fields (Dates as
  // ISO 8601) and nothing else, so server-side columns such as organization_id never leave.
  const toResource = (row: RecordRow | RecordResource) => row as unknown as Static<typeof def.resource>;

  return async (app) => {
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
        const filters = request.query as Record<string, unknown>;
        const { rows, total } = await listRecords(request.tenant.db, def, { page, limit, search, sort, filters });
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
              200: {
                description: 'The rows as CSV (UTF-8 with a BOM, a header row), streamed',
                content: { 'text/csv': { schema: Type.String() } },
              },
              ...errorResponses('medreport', 401, 403, 422, 429),
            },
          },
        },
        async (request, reply) => {
          const slot = request.tenant.openExport();
          const body = exportRecords(slot, def, {
            stallTimeoutMs: slot.stallTimeoutMs,
            onStall: (rowsSent) =>
              request.log.warn(
                { organization: request.tenant.organizationId, export: def.plural, rowsSent },
                'export stalled: aborted',
              ),
          });
          // Closed once the COPY is over: ended, failed, abandoned by the client or stalled.
          body.once('close', slot.release);
          return (
            reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', csvDisposition(def.plural))
              // The type provider types send() by the response schema (a CSV string); a stream is what goes out.
              .send(body as unknown as string)
          );
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
        // The body schema is the definition's, known only at run time; domain/medreport/records checks it by column.
        const input = request.body as unknown as Record<string, unknown>;
        const value = await createRecord(mutationScope(request), def, input);
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
        const row = await findRecord(request.tenant.db, def, request.params.uuid);
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
        // Same: the body schema is the definition's, known only at run time.
        const input = request.body as unknown as Record<string, unknown>;
        const value = await updateRecord(mutationScope(request), def, request.params.uuid, input);
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
        await deleteRecord(mutationScope(request), def, request.params.uuid);
        return { success: true as const, message: `${Entity} supprimé.` };
      },
    );
  };
}
