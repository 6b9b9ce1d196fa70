import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { Timestamp, Uuid } from '../../../domain/medreport/records/schemas.js';
import { overview } from '../../../domain/medreport/reports/overview.js';
import { errorResponses } from '../../../plugins/errors.js';

const Count = Type.Object({ count: Type.Integer() });
const Overview = Type.Object({
  patients: Type.Object({
    count: Type.Integer(),
    recent: Type.Array(Type.Object({ uuid: Uuid, name: Type.String(), created_at: Timestamp })),
  }),
  prescriptions: Count,
  invoices: Count,
});

const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/reports/overview',
    {
      schema: {
        operationId: 'reportsOverview',
        tags: ['reports'],
        summary: 'Counts of live records and the 5 most recent patients',
        security: [{ bearerAuth: [] }],
        response: { 200: Overview, ...errorResponses('medreport', 401, 403) },
      },
    },
    async (request) => overview(request.tenant.db),
  );
};

export default reportRoutes;
