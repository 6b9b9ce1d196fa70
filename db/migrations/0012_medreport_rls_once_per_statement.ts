import { type Kysely, sql } from 'kysely';
import { CROSS_ORGANIZATION_READ, OWN_ORGANIZATION } from '../rls.js';

// The row-level security policies of the tenant tables read their settings in scalar
// sub-queries, evaluated once per statement rather than once per row: with the cross-organization
// read policy of 0009 OR-ed in, a page of 25 patients with the count of 2,000 went from 1.0 to
// 2.4 ms, and the list endpoint from 0.96 to 0.6 of its baseline (docs/benchmarks.md). Same rows
// visible, same rows writable.
const policies = async (db: Kysely<any>) =>
  (
    await sql<{ tablename: string; policyname: string }>`
      select tablename, policyname from pg_policies
       where schemaname = 'medreport' and policyname in ('tenant_isolation', 'cross_organization_read')`.execute(db)
  ).rows;

export async function up(db: Kysely<any>): Promise<void> {
  for (const { tablename, policyname } of await policies(db)) {
    const table = sql.table(`medreport.${tablename}`);
    if (policyname === 'tenant_isolation') {
      await sql`alter policy tenant_isolation on ${table} using (${OWN_ORGANIZATION}) with check (${OWN_ORGANIZATION})`.execute(
        db,
      );
    } else {
      await sql`alter policy cross_organization_read on ${table} using (${CROSS_ORGANIZATION_READ})`.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const own = sql`organization_id = nullif(current_setting('app.organization_id', true), '')::bigint`;
  const cross = sql`current_setting('app.cross_organization', true) = 'read'`;
  for (const { tablename, policyname } of await policies(db)) {
    const table = sql.table(`medreport.${tablename}`);
    if (policyname === 'tenant_isolation') {
      await sql`alter policy tenant_isolation on ${table} using (${own}) with check (${own})`.execute(db);
    } else {
      await sql`alter policy cross_organization_read on ${table} using (${cross})`.execute(db);
    }
  }
}
