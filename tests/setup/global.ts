import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connect } from '../../db/connection.js';
import { startEmbeddedCluster } from '../../db/embedded.js';
import { migrate } from '../../db/migrate.js';
import { appRolePassword, ensureAppRole } from '../../db/app-role.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';
import { databaseUrl } from '../helpers/urls.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database of the test cluster to run CREATE DATABASE from. */
    adminUrl: string;
    /** Migrated once; every test file clones it. */
    templateDatabase: string;
  }
}

/**
 * One PostgreSQL for the whole run: the embedded one in a temporary directory, or the server
 * DATABASE_URL points at (its role needs CREATEDB). Migrates a template database once.
 */
export default async function setup(project: TestProject) {
  const runId = `test_${Date.now().toString(36)}_${process.pid}`;
  let adminUrl = process.env.DATABASE_URL;
  let stopCluster = async () => {};

  if (!adminUrl) {
    const dir = await mkdtemp(path.join(tmpdir(), 'api-test-'));
    await chmod(dir, 0o755); // the postgres user must reach its data directory inside
    const cluster = await startEmbeddedCluster({ dir, whenRunning: 'exclusive', ephemeral: true });
    adminUrl = cluster.url('postgres');
    stopCluster = async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }

  const templateDatabase = `${runId}_template`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    await admin.query(`create database ${templateDatabase}`);
    const { db } = connect(databaseUrl(adminUrl, templateDatabase), { max: 1 });
    await migrate(db, 'latest')
      .then(() => ensureAppRole(db, appRolePassword(TEST_JWT_SECRET)))
      .finally(() => db.destroy());
  } catch (err) {
    await admin.end().catch(() => {});
    await stopCluster();
    throw err;
  }

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);

  return async () => {
    // With an external server, leave it as we found it; the embedded cluster simply goes away.
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [
      `${runId}%`,
    ]);
    for (const { datname } of rows) await admin.query(`drop database ${admin.escapeIdentifier(datname)} with (force)`);
    await admin.end();
    await stopCluster();
  };
}
