import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../../plugins/errors.js';
import { Timestamp, Uuid } from '../../../domain/medreport/records/schemas.js';

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
    async (request) => {
      const { db } = request.tenant;
      const live = (table: 'medreport.patients' | 'medreport.prescriptions' | 'medreport.invoices') =>
        db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('deleted_at', 'is', null)
          .executeTakeFirstOrThrow();
      const [patients, prescriptions, invoices, recent] = await Promise.all([
        live('medreport.patients'),
        live('medreport.prescriptions'),
        live('medreport.invoices'),
        db
          .selectFrom('medreport.patients')
          .select(['uuid', 'name', 'created_at'])
          .where('deleted_at', 'is', null)
          .orderBy('created_at', 'desc')
          .orderBy('uuid', 'desc')
          .limit(5)
          .execute(),
      ]);
      return {
        patients: {
          count: patients.count,
          recent: recent.map((p) => ({ uuid: p.uuid, name: p.name, created_at: p.created_at.toISOString() })),
        },
        prescriptions: { count: prescriptions.count },
        invoices: { count: invoices.count },
      };
    },
  );
};

export default reportRoutes;
