import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type QueryExecutorProvider, sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { appRolePassword, appRoleUrl } from '../../db/app-role.js';
import { connect, type DatabaseHandle } from '../../db/connection.js';
import { databaseUrl, TEST_JWT_SECRET } from './urls.js';

let fileDatabase: Promise<string> | undefined;

/**
 * Forgets the file database: workers keep modules from one file to the next (`isolate: false`),
 * so tests/setup/each-file.ts calls this before every file.
 */
export function forgetFileDatabase(): void {
  fileDatabase = undefined;
}

/**
 * This test file's own database, cloned from the migrated template on first use: each file gets
 * exactly one and never sees another file's rows.
 */
export function testDatabaseUrl(): Promise<string> {
  fileDatabase ??= cloneTemplate();
  return fileDatabase;
}

/**
 * Another migrated database, cloned from the template like the file's own: for a test that must
 * see only the rows it writes (whole-database checks such as storage:check).
 */
export function clonedDatabaseUrl(): Promise<string> {
  return cloneTemplate();
}

/** A fresh empty, unmigrated database (migration tests). */
export async function emptyDatabaseUrl(): Promise<string> {
  const name = `${inject('templateDatabase').replace(/_template$/, '')}_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin.query(`create database ${name}`));
  return databaseUrl(inject('adminUrl'), name);
}

/** This file's database as the app role (`medreport_app`): what the server connects as. */
export async function testAppDatabaseUrl(): Promise<string> {
  return appRoleUrl(await testDatabaseUrl(), appRolePassword(TEST_JWT_SECRET));
}

/** A direct connection to this file's database as its owner, for setting up and checking rows. */
export async function testDb(): Promise<DatabaseHandle> {
  return connect(await testDatabaseUrl(), { max: 2 });
}

/**
 * A MedReport organization and its owner, written by the owner's connection straight into the
 * tables (a migration test's fixture, below the API). `tag` keeps the owner's email and the
 * organization's code unique in the database.
 */
export async function insertOrganization(db: QueryExecutorProvider, tag: string) {
  const { rows: users } = await sql<{ id: number }>`
    insert into medreport.users (uuid, name, email) values (gen_random_uuid(), 'Dr Fixture', ${`fixture-${tag}@example.fr`})
    returning id`.execute(db);
  const userId = users[0]!.id;
  const { rows: organizations } = await sql<{ id: number }>`
    insert into medreport.organizations (uuid, name, code, owner_user_id)
    values (gen_random_uuid(), 'Cabinet Fixture', ${`ORG-${tag}`}, ${userId}) returning id`.execute(db);
  return { userId, organizationId: organizations[0]!.id };
}

async function cloneTemplate(): Promise<string> {
  const template = inject('templateDatabase');
  const name = `${template.replace(/_template$/, '')}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (admin) => {
    // Cloning fails while another session briefly holds the template: retry.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`create database ${name} template ${template}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt === 20) throw err;
        await sleep(50 * attempt);
      }
    }
  });
  return databaseUrl(inject('adminUrl'), name);
}

async function withAdmin<T>(task: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  try {
    return await task(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Ends every LISTEN connection of the servers on this file's database, as a network cut would. As
 * the app role, which may end its own connections (the owner may not, without superuser).
 */
export async function terminateListeners(): Promise<void> {
  const asApp = new pg.Client({ connectionString: await testAppDatabaseUrl() });
  await asApp.connect();
  try {
    await asApp.query(
      "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'medreport-ptitspas-listener' and datname = current_database()",
    );
  } finally {
    await asApp.end();
  }
}
