import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { connect } from '../db/connection.js';
import type { Database } from '../db/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Query builder over the shared pool. Tenant routes use the tenant-scoped handle instead. */
    db: Kysely<Database>;
    pool: pg.Pool;
  }
}

export interface DbPluginOptions {
  url: string;
  poolMax: number;
}

export default fp<DbPluginOptions>(
  async (app, { url, poolMax }) => {
    const { db, pool } = connect(url, {
      max: poolMax,
      onIdleError: (err) => app.log.warn({ err }, 'idle database connection lost'),
    });
    app.decorate('db', db);
    app.decorate('pool', pool);
    app.addHook('onClose', async () => {
      await db.destroy();
    });
  },
  { name: 'db' },
);
