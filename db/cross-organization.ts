import type { Kysely } from 'kysely';
import type pg from 'pg';
import { type ConnectOptions, createPool } from './connection.js';
import { contextHandle } from './context-handle.js';
import { CROSS_ORGANIZATION_SETTING } from './rls.js';
import type { Database } from './schema.js';

/**
 * THE ONLY HANDLE THAT READS ACROSS ORGANIZATIONS. Each of its statements carries
 * `app.cross_organization = read` (transaction-local, db/context-query.ts), which opens the
 * `cross_organization_read` row-level security policy of every tenant table (db/rls.ts): SELECT
 * only, every organization. Writes stay refused (no policy lets them through), and no
 * tenant-scope plugin narrows its queries.
 *
 * Used by the platform administrators' routes (routes/medreport/admin/) and nowhere else; its
 * small pool is its own.
 */
export interface CrossOrganizationHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function crossOrganizationHandle(url: string, options: ConnectOptions = {}): CrossOrganizationHandle {
  const pool = createPool(url, { max: 2, ...options });
  const db = contextHandle(pool, {
    setting: CROSS_ORGANIZATION_SETTING,
    value: 'read',
    named: options.namedStatements ?? true,
  });
  return {
    db,
    pool,
    close: async () => {
      await db.destroy();
      await pool.end();
    },
  };
}
