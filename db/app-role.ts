import { createHmac } from 'node:crypto';
import { type QueryExecutorProvider, sql } from 'kysely';
import { APP_SCHEMAS } from './migrate.js';

export const APP_ROLE = 'medreport_app';

/**
 * The server connects as `medreport_app`: it can read and write the API schemas but is neither
 * superuser, table owner nor BYPASSRLS, so PostgreSQL's row-level security policies apply to every
 * query it runs. Migrations and the CLI keep using DATABASE_URL (the owner).
 *
 * Run by the owner after migrating; idempotent. Roles are cluster-wide, so the password is
 * derived from JWT_SECRET: every instance sharing the secret computes the same one.
 */
export async function ensureAppRole(owner: QueryExecutorProvider, password: string): Promise<void> {
  // Only LOGIN and the password are stated: on PostgreSQL 15 a CREATEROLE (non-superuser) role may
  // not even state NOSUPERUSER or NOBYPASSRLS. New roles have neither; an existing one is checked.
  await sql`
    do $$ begin
      create role medreport_app login;
    exception when duplicate_object then null;
    end $$`.execute(owner);
  await sql`alter role medreport_app with login password ${sql.lit(password)}`.execute(owner);
  const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean }>`
    select rolsuper, rolbypassrls from pg_roles where rolname = ${APP_ROLE}`.execute(owner);
  if (rows[0]?.rolsuper || rows[0]?.rolbypassrls) {
    throw new Error(
      `the role ${APP_ROLE} is SUPERUSER or BYPASSRLS, so row-level security would not apply to the server: ` +
        `run "alter role ${APP_ROLE} nosuperuser nobypassrls" as a superuser, or set DATABASE_APP_URL`,
    );
  }
  for (const schema of APP_SCHEMAS) {
    const s = sql.id(schema);
    await sql`grant usage on schema ${s} to medreport_app`.execute(owner);
    await sql`grant select, insert, update, delete on all tables in schema ${s} to medreport_app`.execute(owner);
    await sql`grant usage, select on all sequences in schema ${s} to medreport_app`.execute(owner);
    // The few SECURITY DEFINER functions that cross organizations (migration 0007) are not PUBLIC.
    await sql`grant execute on all functions in schema ${s} to medreport_app`.execute(owner);
  }
  // Kept by triggers only (migration 0025): the server reads them.
  await sql`
    do $$ begin
      if to_regclass('medreport.record_counts') is not null then
        revoke insert, update, delete, truncate on medreport.record_counts from medreport_app;
      end if;
    end $$`.execute(owner);
}

export function appRolePassword(jwtSecret: string): string {
  return createHmac('sha256', jwtSecret).update('medreport_app database role').digest('base64url');
}

/** DATABASE_URL with the app role's credentials instead of the owner's. */
export function appRoleUrl(ownerUrl: string, password: string): string {
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = password;
  return url.toString();
}
