import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import { StringEnum } from '../domain/shared/schemas.js';

const Health = Type.Object({ status: StringEnum(['ok']), uptime: Type.Number({ description: 'seconds' }) });
const UpDown = StringEnum(['up', 'down']);
const Ready = Type.Object({
  status: StringEnum(['ready', 'unavailable']),
  database: UpDown,
  storage: StringEnum(['up', 'down'], { description: 'the file storage (STORAGE): reachable and writable' }),
  redis: StringEnum(['up', 'down', 'unused'], { description: 'the shared Redis (REDIS_URL); unused when not set' }),
  load: StringEnum(['normal', 'overloaded'], { description: 'overloaded while the event loop lags (load shedding)' }),
});

/** A probe's answer within `ms`: "up" when it resolves, "down" when it throws or takes longer. */
async function probe(what: () => Promise<unknown>, onDown: (err: unknown) => void, ms = 2_000) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([what(), late]);
    return 'up' as const;
  } catch (err) {
    onDown(err);
    return 'down' as const;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes for orchestrators: /health says the process runs, /ready that it reaches what every
 * request may need (the database, the storage, the shared Redis when there is one) and is not
 * shedding load — a load balancer drains an instance that answers 503.
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
        summary: 'Readiness: the database, the storage and Redis answer, and the process keeps up',
        response: { 200: Ready, 503: Ready },
      },
    },
    async (request, reply) => {
      const load = app.shedsLoad() ? ('overloaded' as const) : ('normal' as const);
      const failed = (what: string) => (err: unknown) => request.log.warn({ err }, `readiness: ${what} unreachable`);
      const redis = app.redis;
      const [database, storage, redisState] = await Promise.all([
        probe(() => sql`select 1`.execute(app.systemDb), failed('database')),
        probe(() => app.storage.check(), failed('storage')),
        redis ? probe(() => redis.ping(), failed('redis')) : ('unused' as const),
      ]);
      const answer = { database, storage, redis: redisState, load };
      if (database === 'up' && storage === 'up' && redisState !== 'down' && load === 'normal') {
        return { status: 'ready' as const, ...answer };
      }
      return reply.code(503).send({ status: 'unavailable' as const, ...answer });
    },
  );
};

export default health;
