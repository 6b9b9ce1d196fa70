/**
 * `npm run sql`: writes the SQL of the hot queries to queries/*.sql, as the real code builds it (the
 * domain functions run against a connection that records each statement and answers no rows), so
 * a change to a hot query shows in review. `npm run sql -- --check` fails when a file is stale (CI).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Database } from '../db/schema.js';
import { TenantPool } from '../db/tenant-pool.js';
import { findLiveSessionUser } from '../domain/medreport/accounts/sessions.js';
import { exportRecords } from '../domain/medreport/records/export.js';
import { patientRecords } from '../domain/medreport/records/patients.js';
import { findRecord, listRecords } from '../domain/medreport/records/records.js';
import { ENTITIES } from '../domain/medreport/sync/entities.js';
import { pull, SYNC_ENTITIES } from '../domain/medreport/sync/pull.js';
import { callerOfLogin } from '../domain/ptitspas/accounts/sessions.js';
import type { PtitsPasCaller } from '../domain/ptitspas/caller.js';
import { listEnfants } from '../domain/ptitspas/enfants/queries.js';

const EMPTY = { rows: [], fields: [], rowCount: 0, command: 'SELECT', oid: 0 };
const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback)/i;

/** A pg pool whose connections record every statement (named ones with their name) and return no rows. */
function recordingPool(statements: string[]) {
  // Generated names (db/statements.ts) depend on the order queries first ran: only fixed ones are shown.
  const record = (text: string, name?: string) => {
    const label = name === undefined ? '' : /^k[0-9a-z]+$/.test(name) ? '-- prepared\n' : `-- prepared as ${name}\n`;
    statements.push(`${label}${text.replace(/^\n+|\s+$/g, '')};`);
  };
  interface Submitted {
    text: string;
    name?: string;
    callback?: (err: null, result: typeof EMPTY) => void;
  }
  const query = (q: string | Submitted) => {
    if (typeof q === 'string') {
      if (!TRANSACTION_CONTROL.test(q)) record(q);
      return Promise.resolve(EMPTY);
    }
    record(q.text, q.name);
    if (q instanceof Readable) {
      // A COPY (an export): it ends at once.
      q.push(null);
      return q;
    }
    if (q.callback) return q.callback(null, EMPTY);
    return Promise.resolve(EMPTY);
  };
  const client = { query, release() {} };
  // Only what TenantPool, Kysely's dialect and the raw-pool lookups call.
  return { connect: async () => client, query, end: async () => {} } as unknown as pg.Pool;
}

async function capture(run: (pool: pg.Pool) => Promise<unknown>): Promise<string> {
  const statements: string[] = [];
  try {
    await run(recordingPool(statements));
  } catch {
    // No rows: a lookup then says "not found", after its statements were recorded.
  }
  return statements.join('\n\n');
}

const ORGANIZATION = 1;
const tenant = (pool: pg.Pool) => new TenantPool(pool, true).forOrganization(ORGANIZATION);
const system = (pool: pg.Pool) => new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
const parent: PtitsPasCaller = {
  id: '00000000-0000-7000-8000-000000000001',
  email: 'parent@example.org',
  role: 'parent',
  prenom: 'P',
  nom: 'P',
  statut: 'actif',
  familyId: '00000000-0000-7000-8000-000000000002',
};
const UUID = '00000000-0000-7000-8000-000000000003';

const SNAPSHOTS: Record<string, { what: string; run: (pool: pg.Pool) => Promise<unknown> }> = {
  'medreport-session-check': {
    what: 'every authenticated MedReport request whose token the session cache does not hold',
    run: (pool) => findLiveSessionUser(pool, UUID),
  },
  'medreport-tenant-read': {
    what: 'GET /api/patients/:uuid, on the organization-scoped handle (tenant filter added by db/tenant-scope.ts)',
    run: (pool) => findRecord(tenant(pool), patientRecords, UUID),
  },
  'medreport-tenant-list': {
    what: 'GET /api/patients?search=dup&page=1&limit=25',
    run: (pool) => listRecords(tenant(pool), patientRecords, { page: 1, limit: 25, search: 'dup' }),
  },
  'medreport-sync-pull': {
    what: 'GET /api/sync/changes (first page, every entity)',
    run: (pool) => pull(tenant(pool), ENTITIES, { entities: SYNC_ENTITIES, limit: 500 }),
  },
  'medreport-export': {
    what: 'GET /api/patients/export (a COPY on the export pool)',
    run: async (pool) => {
      const slot = {
        organizationId: ORGANIZATION,
        copyOut: (statement: string) => new TenantPool(pool, true).copyOut(ORGANIZATION, statement),
      };
      for await (const _ of exportRecords(slot, patientRecords, {})) {
        // drained
      }
    },
  },
  'ptitspas-caller': {
    what: 'every authenticated PtitsPas request',
    run: (pool) => callerOfLogin(pool, parent.familyId, parent.id),
  },
  'ptitspas-enfants-list': {
    what: "GET /api/v1/enfants as a parent (their own children and their co-parent's)",
    run: (pool) => listEnfants(system(pool), parent, { page: 1, limit: 20, sort: '-cree_le' }),
  },
};

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [name, { what, run }] of Object.entries(SNAPSHOTS)) {
  const file = `queries/${name}.sql`;
  const text = `-- ${what}\n-- Generated by \`npm run sql\` from the code that runs it; do not edit.\n\n${await capture(run)}\n`;
  if (check) {
    const current = await readFile(file, 'utf8').catch(() => '');
    if (current !== text) stale.push(file);
  } else {
    await writeFile(file, text);
  }
}
if (stale.length > 0) {
  console.error(`Stale SQL snapshots (run npm run sql and commit them): ${stale.join(', ')}`);
  process.exit(1);
}
console.log(check ? 'SQL snapshots up to date.' : `Wrote ${Object.keys(SNAPSHOTS).length} files to queries/.`);
