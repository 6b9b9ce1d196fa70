import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { StringEnum } from '../domain/shared/schemas.js';

const Health = Type.Object({ status: StringEnum(['ok']), uptime: Type.Number({ description: 'seconds' }) });
const Ready = Type.Object({
  status: StringEnum(['ready', 'unavailable']),
  database: StringEnum(['up', 'down']),
  load: StringEnum(['normal', 'overloaded'], { description: 'overloaded while the event loop lags (load shedding)' }),
});

/**
 * Probes for orchestrators: /health says the process runs, /ready that it can reach the database
 * and is not shedding load.
 */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/health',
    {
      schema: {
        operationId: 'health',
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' as const, uptime: process.uptime() }),
  );

  app.get(
    '/ready',
    {
      schema: {
        operationId: 'ready',
        tags: ['health'],
        summary: 'Readiness: the database answers and the process keeps up',
        response: { 200: Ready, 503: Ready },
      },
    },
    async (request, reply) => {
      const load = app.shedsLoad() ? ('overloaded' as const) : ('normal' as const);
      const database = await sql`select 1`.execute(app.systemDb).then(
        () => 'up' as const,
        (err: unknown) => {
          request.log.warn({ err }, 'readiness check failed');
          return 'down' as const;
        },
      );
      if (database === 'up' && load === 'normal') return { status: 'ready' as const, database, load };
      return reply.code(503).send({ status: 'unavailable', database, load });
    },
  );
};

export default health;
