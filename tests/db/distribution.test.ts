import { readdir, readFile } from 'node:fs/promises';
import { type QueryExecutorProvider, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_TABLES } from '../../db/tenant-scope.js';
import { testDb } from '../helpers/database.js';

// MedReport is ready to be distributed by tenant (Citus, docs/scaling.md): every tenant table
// sharded by `organization_id` and co-located, the global tables replicated as reference tables.
// Citus only accepts that schema if the distribution column is in every primary key, unique
// constraint and unique index, and in both sides of every foreign key between distributed tables.
// These tests read the migrated database's catalog and name what breaks a rule.

/**
 * Tables of `medreport` with an `organization_id` column that are not tenant tables, and why.
 * (`organizations` itself has no such column: it is the tenants' registry, a reference table.)
 */
const GLOBAL_TABLES: Record<string, string> = {
  'medreport.users':
    'accounts: a user belongs to at most one organization, may have none (registration, platform administrators, deleted accounts), and is read by id, e-mail and session before any tenant is known; a reference table',
};

/** Unique indexes of tenant tables that are global on purpose, and why. */
const GLOBAL_UNIQUE_INDEXES: Record<string, string> = {
  'medreport.prescriptions_verification_code_key':
    'the code printed on a document is its only key at GET /api/verify/{code}, for anyone, across organizations (docs/documents.md); on Citus a reference table of codes keeps it unique (docs/scaling.md)',
  'medreport.invoices_verification_code_key': 'the same, for invoices',
};

const COLUMN = 'organization_id';

interface Catalog {
  /** Every table of `medreport` with an `organization_id` column, and whether it is not null. */
  withColumn: Map<string, boolean>;
  indexes: IndexRow[];
  foreignKeys: ForeignKeyRow[];
}

interface IndexRow {
  table: string;
  index: string;
  primary: boolean;
  /** Key columns in order; null for an expression. INCLUDE columns are not keys. */
  columns: Array<string | null>;
  definition: string;
}

interface ForeignKeyRow {
  name: string;
  table: string;
  columns: string[];
  referenced: string;
  referencedColumns: string[];
}

async function readCatalog(db: QueryExecutorProvider): Promise<Catalog> {
  const columns = await sql<{ table: string; not_null: boolean }>`
    select n.nspname || '.' || c.relname as table, a.attnotnull as not_null
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = ${COLUMN} and not a.attisdropped
     where n.nspname = 'medreport' and c.relkind in ('r', 'p')`.execute(db);
  // Unique and exclusion indexes: those of primary keys and unique constraints, and the ones
  // created on their own (partial and expression ones included).
  const indexes = await sql<IndexRow>`
    select n.nspname || '.' || t.relname as table, n.nspname || '.' || i.relname as index,
           x.indisprimary as primary,
           array(select a.attname::text
                   from unnest(x.indkey::int2[]) with ordinality as k (attnum, position)
                   left join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum
                  where k.position <= x.indnkeyatts
                  order by k.position) as columns,
           pg_get_indexdef(x.indexrelid) as definition
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
     where n.nspname = 'medreport' and (x.indisunique or x.indisexclusion)
     order by 1, 2`.execute(db);
  const foreignKeys = await sql<ForeignKeyRow>`
    select c.conname as name, c.conrelid::regclass::text as table, c.confrelid::regclass::text as referenced,
           array(select a.attname::text from unnest(c.conkey) with ordinality as k (attnum, position)
                   join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.position) as columns,
           array(select a.attname::text from unnest(c.confkey) with ordinality as k (attnum, position)
                   join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.position)
             as "referencedColumns"
      from pg_constraint c
     where c.contype = 'f'
       and (c.conrelid::regclass::text like 'medreport.%' or c.confrelid::regclass::text like 'medreport.%')
     order by 2, 1`.execute(db);
  return {
    withColumn: new Map(columns.rows.map((r) => [r.table, r.not_null])),
    indexes: indexes.rows,
    foreignKeys: foreignKeys.rows,
  };
}

function tenantTables(catalog: Catalog): Set<string> {
  return new Set([...catalog.withColumn.keys()].filter((t) => !(t in GLOBAL_TABLES)));
}

/** (a) `organization_id` not null and part of the primary key. */
function keyViolations(catalog: Catalog): string[] {
  const found: string[] = [];
  for (const table of tenantTables(catalog)) {
    if (!catalog.withColumn.get(table)) found.push(`${table}: ${COLUMN} is nullable`);
    const primary = catalog.indexes.find((i) => i.table === table && i.primary);
    if (!primary) found.push(`${table}: no primary key`);
    else if (!primary.columns.includes(COLUMN)) {
      found.push(`${table}: primary key ${primary.index} (${primary.columns.join(', ')}) lacks ${COLUMN}`);
    }
  }
  return found;
}

/** (b) Every unique constraint and unique index of a tenant table has `organization_id` as a key column. */
function uniqueViolations(catalog: Catalog): string[] {
  const tenants = tenantTables(catalog);
  return catalog.indexes
    .filter((i) => tenants.has(i.table) && !i.columns.includes(COLUMN) && !(i.index in GLOBAL_UNIQUE_INDEXES))
    .map((i) => `${i.table}: ${i.index} lacks ${COLUMN}: ${i.definition}`);
}

/**
 * (c) A foreign key between tenant tables pairs `organization_id` with `organization_id`; a global
 * table (a reference table on Citus) may not reference a tenant table (a distributed one).
 */
function foreignKeyViolations(catalog: Catalog): string[] {
  const tenants = tenantTables(catalog);
  const found: string[] = [];
  for (const fk of catalog.foreignKeys) {
    const from = tenants.has(fk.table);
    const to = tenants.has(fk.referenced);
    const pair = `${fk.table} (${fk.columns.join(', ')}) -> ${fk.referenced} (${fk.referencedColumns.join(', ')})`;
    if (from && to) {
      const at = fk.columns.indexOf(COLUMN);
      if (at === -1 || fk.referencedColumns[at] !== COLUMN) found.push(`${fk.name}: ${pair} does not pair ${COLUMN}`);
    } else if (to) {
      found.push(`${fk.name}: ${pair}: a global table references a tenant table`);
    }
  }
  return found;
}

/** A statement of a `queries/*.sql` snapshot, with the file it comes from. */
interface Statement {
  file: string;
  text: string;
}

/** The statements of the committed snapshots (scripts/sql-snapshots.ts writes them, one per paragraph). */
async function snapshotStatements(): Promise<Statement[]> {
  const files = (await readdir('queries')).filter((f) => f.endsWith('.sql')).sort();
  const statements: Statement[] = [];
  for (const file of files) {
    const text = (await readFile(`queries/${file}`, 'utf8'))
      .split('\n')
      .filter((line) => !line.startsWith('--'))
      .join('\n');
    for (const statement of text.split(/;\s*(?:\n|$)/)) {
      if (statement.trim()) statements.push({ file, text: statement.trim() });
    }
  }
  return statements;
}

// A table read or changed: after FROM, JOIN, UPDATE or USING, with its alias if it has one.
const KEYWORD =
  'where|on|set|join|left|right|inner|full|cross|natural|order|group|having|limit|offset|returning|using|union|for|window';
const TABLE_REFERENCE = new RegExp(
  `\\b(?:from|join|update|using)\\s+(medreport\\.\\w+)(?:\\s+(?:as\\s+)?(?!(?:${KEYWORD})\\b)(\\w+))?`,
  'gi',
);
// A table written: INSERT INTO with its column list.
const INSERT = /\binsert\s+into\s+(medreport\.\w+)\s*\(([^)]*)\)/gi;

/**
 * (d) What a statement reads or writes of tenant tables without their own `organization_id`:
 * each reference needs its `<table or alias>.organization_id =` (a sub-query's reference counts
 * apart from its parent's), each insert the column. Quotes around identifiers are dropped first.
 */
function unfilteredReferences(statement: string, tenants: ReadonlySet<string>): string[] {
  const text = statement.replaceAll('"', '');
  const missing: string[] = [];
  for (const [, table, columns] of text.matchAll(INSERT)) {
    if (tenants.has(table!) && !/\borganization_id\b/.test(columns!)) {
      missing.push(`${table}: inserted without organization_id`);
    }
  }
  const references = new Map<string, { table: string; count: number }>();
  for (const [, table, alias] of text.matchAll(TABLE_REFERENCE)) {
    if (!tenants.has(table!)) continue;
    const qualifier = alias ?? table!;
    references.set(qualifier, { table: table!, count: (references.get(qualifier)?.count ?? 0) + 1 });
  }
  for (const [qualifier, { table, count }] of references) {
    const filter = new RegExp(`(?<![\\w.])${qualifier.replace('.', '\\.')}\\.organization_id\\s*=`, 'gi');
    const filters = text.match(filter)?.length ?? 0;
    const name = qualifier === table ? table : `${table} as ${qualifier}`;
    if (filters < count) missing.push(`${name}: ${count} reference(s), ${filters} filter(s)`);
  }
  return missing;
}

const handle = await testDb();
let catalog: Catalog;
beforeAll(async () => {
  catalog = await readCatalog(handle.db);
});
afterAll(() => handle.db.destroy());

describe('MedReport tenant tables, as the catalog has them', () => {
  it('are the tenant-scope plugin’s list: every table with organization_id but the listed global ones', () => {
    expect([...tenantTables(catalog)].sort()).toEqual([...TENANT_TABLES].sort());
    for (const table of Object.keys(GLOBAL_TABLES)) expect(catalog.withColumn.has(table), table).toBe(true);
  });

  it('(a) have organization_id not null and in their primary key', () => {
    expect(keyViolations(catalog)).toEqual([]);
  });

  it('(b) have organization_id in every unique constraint and unique index, but the listed global ones', () => {
    expect(uniqueViolations(catalog)).toEqual([]);
    const names = catalog.indexes.map((i) => i.index);
    for (const index of Object.keys(GLOBAL_UNIQUE_INDEXES)) expect(names, index).toContain(index);
  });

  it('(c) pair organization_id on both sides of a foreign key between them, and no global table references them', () => {
    expect(foreignKeyViolations(catalog)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('name what a broken schema breaks (built in a transaction rolled back)', async () => {
    class Rollback extends Error {}
    let broken: Catalog | undefined;
    await handle.db
      .transaction()
      .execute(async (trx) => {
        await sql`create unique index patients_probe_key on medreport.patients (uuid)`.execute(trx);
        await sql`create unique index patients_probe_name_key on medreport.patients (organization_id, lower(name))
          include (uuid) where deleted_at is null`.execute(trx);
        await sql`create unique index patients_probe_email_key on medreport.patients (lower(email))
          include (organization_id) where deleted_at is null`.execute(trx);
        await sql`alter table medreport.invoices add constraint invoices_probe_fkey
          foreign key (patient_uuid) references medreport.patients (uuid)`.execute(trx);
        await sql`create table medreport.probe_global (patient uuid references medreport.patients (uuid))`.execute(trx);
        await sql`create table medreport.probe_tenant (organization_id bigint, id int primary key)`.execute(trx);
        broken = await readCatalog(trx);
        throw new Rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    // Only what the probes broke: whatever else the schema breaks, the tests above name it.
    const probes = (found: string[]) => found.filter((v) => v.includes('probe'));
    expect(tenantTables(broken!)).toContain('medreport.probe_tenant');
    expect(probes(keyViolations(broken!))).toEqual([
      'medreport.probe_tenant: organization_id is nullable',
      'medreport.probe_tenant: primary key medreport.probe_tenant_pkey (id) lacks organization_id',
    ]);
    expect(probes(uniqueViolations(broken!))).toEqual([
      'medreport.patients: medreport.patients_probe_email_key lacks organization_id: CREATE UNIQUE INDEX patients_probe_email_key ON medreport.patients USING btree (lower(email)) INCLUDE (organization_id) WHERE (deleted_at IS NULL)',
      'medreport.patients: medreport.patients_probe_key lacks organization_id: CREATE UNIQUE INDEX patients_probe_key ON medreport.patients USING btree (uuid)',
      'medreport.probe_tenant: medreport.probe_tenant_pkey lacks organization_id: CREATE UNIQUE INDEX probe_tenant_pkey ON medreport.probe_tenant USING btree (id)',
    ]);
    expect(probes(foreignKeyViolations(broken!))).toEqual([
      'invoices_probe_fkey: medreport.invoices (patient_uuid) -> medreport.patients (uuid) does not pair organization_id',
      'probe_global_patient_fkey: medreport.probe_global (patient) -> medreport.patients (uuid): a global table references a tenant table',
    ]);
  });
});

describe('(d) the hot queries, as committed in queries/*.sql', () => {
  it('filter every tenant table they read or write on its organization_id', async () => {
    const tenants = tenantTables(catalog);
    const statements = await snapshotStatements();
    const found = statements.flatMap(({ file, text }) =>
      unfilteredReferences(text, tenants).map((m) => `${file}: ${m}: ${text.slice(0, 120)}`),
    );
    expect(found).toEqual([]);
    // The parser saw every statement that names a tenant table (one that finds nothing passes anything).
    const names = (text: string) => [...tenants].some((t) => text.replaceAll('"', '').includes(t));
    const parsed = (text: string) =>
      [TABLE_REFERENCE, INSERT].some((pattern) =>
        [...text.replaceAll('"', '').matchAll(pattern)].some(([, table]) => tenants.has(table!)),
      );
    const naming = statements.filter((s) => names(s.text));
    expect(naming.length).toBeGreaterThan(0);
    expect(naming.filter((s) => !parsed(s.text)).map((s) => s.text)).toEqual([]);
  });

  it('the check itself flags a missing or misplaced filter', () => {
    const tenants = new Set(['medreport.patients', 'medreport.prescriptions']);
    const ok = [
      'select * from "medreport"."patients" where "uuid" = $1 and "medreport"."patients"."organization_id" = $2',
      'select p.* from medreport.patients p join medreport.prescriptions r on r.organization_id = $1 and r.patient_uuid = p.uuid where p.organization_id = $1',
      'insert into medreport.patients (organization_id, uuid, name) values ($1, $2, $3)',
    ];
    for (const statement of ok) expect(unfilteredReferences(statement, tenants), statement).toEqual([]);
    expect(unfilteredReferences('select * from medreport.patients where uuid = $1', tenants)).toEqual([
      'medreport.patients: 1 reference(s), 0 filter(s)',
    ]);
    // A filter in the outer query does not cover the sub-query's own reference.
    expect(
      unfilteredReferences(
        'select *, (select count(*) from medreport.patients) from medreport.patients where medreport.patients.organization_id = $1',
        tenants,
      ),
    ).toEqual(['medreport.patients: 2 reference(s), 1 filter(s)']);
    expect(
      unfilteredReferences(
        'select * from medreport.patients p join medreport.prescriptions r on r.patient_uuid = p.uuid where p.organization_id = $1',
        tenants,
      ),
    ).toEqual(['medreport.prescriptions as r: 1 reference(s), 0 filter(s)']);
    expect(unfilteredReferences('insert into medreport.patients (uuid, name) values ($1, $2)', tenants)).toEqual([
      'medreport.patients: inserted without organization_id',
    ]);
  });
});
