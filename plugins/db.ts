import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { connect, createPool, disconnect } from '../db/connection.js';
import { crossOrganizationHandle } from '../db/cross-organization.js';
import type { Database } from '../db/schema.js';
import { TenantPool } from '../db/tenant-pool.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Query builder over the shared pool, bypassing tenant scoping: accounts, sessions, PtitsPas.
     * Tenant routes use request.tenant.db instead.
     */
    systemDb: Kysely<Database>;
    pool: pg.Pool;
    /**
     * Per-organization handles (request.tenant.db), on a pool of their own so tenant work never
     * starves session checks and registrations (db/tenant-pool.ts).
     */
    tenantPool: TenantPool;
    /**
     * Reads every organization's rows (db/cross-organization.ts): the platform administrators'
     * routes only.
     */
    crossOrganizationDb: Kysely<Database>;
  }
}

interface DbPluginOptions {
  url: string;
  poolMax: number;
  /** false behind a transaction pooler (db/connection.ts). */
  namedStatements: boolean;
}

export default fp<DbPluginOptions>(
  async (app, { url, poolMax, namedStatements }) => {
    const onIdleError = (err: Error) => app.log.warn({ err }, 'idle database connection lost');
    const options = { max: poolMax, onIdleError, namedStatements };
    const { db, pool } = connect(url, options);
    const tenantPool = createPool(url, options);
    app.decorate('systemDb', db);
    app.decorate('pool', pool);
    app.decorate('tenantPool', new TenantPool(tenantPool, namedStatements));
    const crossOrganization = crossOrganizationHandle(url, { onIdleError, namedStatements });
    app.decorate('crossOrganizationDb', crossOrganization.db);
    app.metrics.watchPool('system', pool);
    app.metrics.watchPool('tenant', tenantPool);
    app.metrics.watchPool('cross_organization', crossOrganization.pool);
    app.addHook('onClose', async () => {
      await disconnect({ db, pool });
      await tenantPool.end();
      await crossOrganization.close();
    });
  },
  { name: 'db', dependencies: ['metrics'] },
);
