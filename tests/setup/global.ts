import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { appRolePassword, ensureAppRole } from '../../db/app-role.js';
import { connect } from '../../db/connection.js';
import { isAlive, readPostmaster, startEmbeddedCluster, stopPostmaster } from '../../db/embedded.js';
import { migrate } from '../../db/migrate.js';
import { databaseUrl, TEST_JWT_SECRET } from '../helpers/urls.js';
import { buildForProcesses } from './process-build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database of the test cluster to run CREATE DATABASE from. */
    adminUrl: string;
    /** Migrated once; every test file clones it. */
    templateDatabase: string;
    /** The sources compiled once, laid out as dist/ (tests/setup/process-build.ts). */
    processBuild: string;
  }
}

const RUN_PREFIX = 'medreport-tests-';

/**
 * Runs interrupted by Ctrl-C or kill -9 leave their temporary directory, and maybe a PostgreSQL,
 * behind: stop and remove those of runs whose process is gone.
 */
async function reapInterruptedRuns(base: string): Promise<void> {
  for (const name of await readdir(base)) {
    if (!name.startsWith(RUN_PREFIX) || isAlive(Number(name.slice(RUN_PREFIX.length).split('-')[0]))) continue;
    const dir = path.join(base, name);
    const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
    for (const entry of entries.filter((e) => e.endsWith('postmaster.pid'))) {
      const postmaster = readPostmaster(path.dirname(path.join(dir, entry)));
      if (postmaster) await stopPostmaster(postmaster.pid, true);
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One PostgreSQL for the whole run: the embedded one in a temporary directory, or the server
 * DATABASE_URL points at (its role needs CREATEDB). Migrates a template database once. Every
 * temporary directory of the run (test workers inherit TMPDIR) lives under one run directory,
 * removed at the end.
 */
export default async function setup(project: TestProject) {
  const base = tmpdir();
  await reapInterruptedRuns(base);
  const runDir = path.join(base, `${RUN_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(runDir, { mode: 0o755 });
  await chmod(runDir, 0o755); // the postgres user must reach data directories inside
  process.env.TMPDIR = runDir;
  const processBuild = path.join(runDir, 'build');
  await buildForProcesses(project.config.root, processBuild);

  const runId = `test_${Date.now().toString(36)}_${process.pid}`;
  let adminUrl = process.env.DATABASE_URL;
  let stopCluster = async () => {};
  const removeRunDir = () => rm(runDir, { recursive: true, force: true });

  if (!adminUrl) {
    const dir = await mkdtemp(path.join(runDir, 'cluster-'));
    await chmod(dir, 0o755);
    try {
      const cluster = await startEmbeddedCluster({ dir, whenRunning: 'exclusive', ephemeral: true });
      adminUrl = cluster.url('postgres');
      stopCluster = () => cluster.stop({ immediate: true });
    } catch (err) {
      await removeRunDir();
      throw err;
    }
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
    await removeRunDir();
    throw err;
  }

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('processBuild', processBuild);

  return async () => {
    // With an external server, leave it as we found it; the embedded cluster simply goes away, so
    // dropping its ~90 databases one by one would only delay the exit.
    if (process.env.DATABASE_URL) await dropRunDatabases(admin, runId);
    await admin.end();
    await stopCluster();
    await removeRunDir();
  };
}

async function dropRunDatabases(admin: pg.Client, runId: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [
    `${runId}%`,
  ]);
  for (const { datname } of rows) await admin.query(`drop database ${admin.escapeIdentifier(datname)} with (force)`);
}
