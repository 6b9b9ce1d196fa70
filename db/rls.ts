import { type QueryExecutorProvider, sql } from 'kysely';

/** The organization of the current connection: set by the tenant plugin, '' (no rows) otherwise. */
export const TENANT_SETTING = 'app.organization_id';

/**
 * Row-level security for a tenant table: rows are visible and writable only while
 * `app.organization_id` names their organization. An unset or empty setting matches nothing
 * (fail closed). The table owner (migrations, CLI) is not subject to it; the app role is.
 */
export async function enableTenantRls(db: QueryExecutorProvider, table: string): Promise<void> {
  const t = sql.table(table);
  await sql`alter table ${t} enable row level security`.execute(db);
  await sql`create policy tenant_isolation on ${t} using (${OWN_ORGANIZATION}) with check (${OWN_ORGANIZATION})`.execute(
    db,
  );
}

// The settings are read in scalar sub-queries: PostgreSQL evaluates those once per statement (an
// InitPlan) instead of once per row, which halved a 2,000-row count (migration 0012).
/** The tenant policy's condition. */
export const OWN_ORGANIZATION = sql`organization_id = (select nullif(current_setting('app.organization_id', true), '')::bigint)`;
/** The cross-organization read policy's condition. */
export const CROSS_ORGANIZATION_READ = sql`(select current_setting('app.cross_organization', true)) = 'read'`;

/** Open on the cross-organization handle's connections only (db/cross-organization.ts). */
export const CROSS_ORGANIZATION_SETTING = 'app.cross_organization';

/**
 * A tenant table readable (never writable) across organizations by the platform administrators'
 * handle. Every tenant table gets it right after `enableTenantRls` (migration 0009 for the first
 * ones).
 */
export async function allowCrossOrganizationRead(db: QueryExecutorProvider, table: string): Promise<void> {
  await sql`create policy cross_organization_read on ${sql.table(table)} for select
    using (${CROSS_ORGANIZATION_READ})`.execute(db);
}
