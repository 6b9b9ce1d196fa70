import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listActivity } from '../../../domain/medreport/activity/log.js';
import { Timestamp, Uuid } from '../../../domain/medreport/records/schemas.js';
import { Nullable } from '../../../domain/shared/schemas.js';
import { errorResponses } from '../../../plugins/errors.js';
import { MAX_PAGE } from '../records/crud.js';

const Day = Type.String({ format: 'date' });
const Instant = Type.Union([Timestamp, Day], { description: 'ISO 8601 date-time, or a date (whole day)' });

const Query = Type.Object({
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
  user_id: Type.Optional(Type.Integer({ minimum: 1 })),
  action_type: Type.Optional(
    Type.String({
      maxLength: 100,
      description: '`created`, `updated`, `deleted`, or a full action such as `patient.created`',
    }),
  ),
  entity_type: Type.Optional(Type.String({ maxLength: 50, description: 'patient, prescription, invoice, file' })),
  search: Type.Optional(Type.String({ maxLength: 200, description: 'In the entity and user names' })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 }),
  page: Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 }),
});

const Entry = Type.Object({
  id: Type.Integer(),
  timestamp: Timestamp,
  user_id: Nullable(Type.Integer()),
  user_name: Nullable(Type.String()),
  action: Type.String(),
  entity_type: Type.String(),
  entity_uuid: Nullable(Uuid),
  entity_name: Nullable(Type.String()),
});

const Page = Type.Object({
  data: Type.Array(Entry),
  total: Type.Integer(),
  page: Type.Integer(),
  limit: Type.Integer(),
});

const activityLogRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/activity-log',
    {
      schema: {
        operationId: 'listActivity',
        tags: ['reports'],
        summary: 'Who changed what in the organization, newest first',
        security: [{ bearerAuth: [] }],
        querystring: Query,
        response: { 200: Page, ...errorResponses('medreport', 401, 403, 422) },
      },
    },
    async (request) => {
      const { from, to, user_id, action_type, entity_type, search, limit, page } = request.query;
      const { rows, total } = await listActivity(request.tenant.db, {
        from,
        to,
        userId: user_id,
        actionType: action_type,
        entityType: entity_type,
        search,
        limit,
        page,
      });
      return {
        data: rows.map((r) => ({
          id: r.id,
          timestamp: r.created_at.toISOString(),
          user_id: r.user_id,
          user_name: r.user_name,
          action: r.action,
          entity_type: r.entity_type,
          entity_uuid: r.entity_uuid,
          entity_name: r.entity_name,
        })),
        total,
        page,
        limit,
      };
    },
  );
};

export default activityLogRoutes;
