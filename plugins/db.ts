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
    /** What a pool of `pool` calls when one of its idle connections is lost (logged unless closing). */
    idleConnectionLost(pool: string): (err: Error) => void;
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
    // Once closing, PostgreSQL may be stopping too (the embedded one gets the same Ctrl-C): lost
    // idle connections are then expected, not news.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.decorate('idleConnectionLost', (pool: string) => (err: Error) => {
      if (!closing) app.log.warn({ err, pool }, 'idle database connection lost');
    });
    const options = (pool: string) => ({ max: poolMax, onIdleError: app.idleConnectionLost(pool), namedStatements });
    const { db, pool } = connect(url, options('system'));
    const tenantPool = createPool(url, options('tenant'));
    app.decorate('systemDb', db);
    app.decorate('pool', pool);
    app.decorate('tenantPool', new TenantPool(tenantPool, namedStatements));
    const crossOrganization = crossOrganizationHandle(url, {
      onIdleError: app.idleConnectionLost('cross_organization'),
      namedStatements,
    });
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
