import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { connect, disconnect } from '../db/connection.js';
import type { Database } from '../db/schema.js';
import { TenantPool } from '../db/tenant-pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Query builder over the shared pool. Tenant routes use the tenant-scoped handle instead. */
    db: Kysely<Database>;
    pool: pg.Pool;
    /** Connections that carry a tenant context; reached through request.tenant.db. */
    tenantPool: TenantPool;
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
    const tenant = connect(url, {
      max: poolMax,
      onIdleError: (err) => app.log.warn({ err }, 'idle database connection lost'),
    });
    app.decorate('db', db);
    app.decorate('pool', pool);
    app.decorate('tenantPool', new TenantPool(tenant.pool));
    app.addHook('onClose', async () => {
      await disconnect({ db, pool });
      await disconnect(tenant);
    });
  },
  { name: 'db' },
);
