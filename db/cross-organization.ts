import type { Kysely } from 'kysely';
import type pg from 'pg';
import { type ConnectOptions, connect, disconnect } from './connection.js';
import { CROSS_ORGANIZATION_SETTING } from './rls.js';
import type { Database } from './schema.js';

/**
 * THE ONLY HANDLE THAT READS ACROSS ORGANIZATIONS. Its connections start with
 * `app.cross_organization = read`, which opens the `cross_organization_read` row-level security
 * policy of every tenant table (db/rls.ts): SELECT only, every organization. Writes stay refused
 * (no policy lets them through), and no tenant-scope plugin narrows its queries.
 *
 * Used by the platform administrators' routes (routes/medreport/admin/) and nowhere else; its
 * small pool is its own, so the setting never reaches a connection tenant code could get.
 */
export interface CrossOrganizationHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function crossOrganizationHandle(url: string, options: ConnectOptions = {}): CrossOrganizationHandle {
  const handle = connect(url, { max: 2, ...options, settings: { [CROSS_ORGANIZATION_SETTING]: 'read' } });
  return { db: handle.db, pool: handle.pool, close: () => disconnect(handle) };
}
