import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../../db/app-role.js';
import { directRunOf } from '../../db/context-handle.js';
import { prepared } from '../../db/prepared.js';
import { enableTenantRls } from '../../db/rls.js';
import { TenantPool } from '../../db/tenant-pool.js';
import { TenantScopeError, TenantScopePlugin } from '../../db/tenant-scope.js';
import medreportAuth from '../../plugins/medreport/auth.js';
import tenant from '../../plugins/medreport/tenant.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testAppDatabaseUrl, testDb } from '../helpers/database.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';

// A tenant table of this test's own, secured exactly like the real ones (db/rls.ts).
const PROBE = 'medreport.tenant_probe';
const PROBE_TABLES = new Set([PROBE]);

interface ProbeDb {
  'medreport.tenant_probe': { id: number; organization_id: number; note: string };
  'medreport.organizations': { id: number; name: string };
}

const owner = await testDb();
let app: App;
let a: TenantFixture;
let b: TenantFixture;

beforeAll(async () => {
  await sql`create table medreport.tenant_probe (
      id int generated always as identity primary key,
      organization_id bigint not null references medreport.organizations (id),
      note text not null)`.execute(owner.db);
  await enableTenantRls(owner.db, PROBE);
  await sql`grant select, insert, update, delete on medreport.tenant_probe to ${sql.id(APP_ROLE)}`.execute(owner.db);

  app = await buildTestApp();
  a = await createOrganization(app, 'A');
  b = await createOrganization(app, 'B');
  await owner.db
    .insertInto('medreport.tenant_probe' as never)
    .values([
      { organization_id: a.organization.id, note: 'a-1' },
      { organization_id: a.organization.id, note: 'a-2' },
      { organization_id: b.organization.id, note: 'b-1' },
    ] as never)
    .execute();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const notes = (rows: Array<{ note: string }>) => rows.map((r) => r.note).sort();

/** Only compiles: shows the SQL the plugin produces. */
const compiler = new Kysely<ProbeDb>({
  dialect: new PostgresDialect({ pool: new pg.Pool() }),
  plugins: [new TenantScopePlugin(7, PROBE_TABLES)],
});

describe('the tenant-scope plugin rewrites queries', () => {
  it('adds the organization to selects, also inside subqueries', () => {
    const q = compiler
      .selectFrom('medreport.tenant_probe as p')
      .select('p.note')
      .where('p.id', 'in', compiler.selectFrom('medreport.tenant_probe').select('id'))
      .compile();
    expect(q.sql).toBe(
      'select "p"."note" from "medreport"."tenant_probe" as "p" where "p"."id" in ' +
        '(select "id" from "medreport"."tenant_probe" where "medreport"."tenant_probe"."organization_id" = $1) ' +
        'and "p"."organization_id" = $2',
    );
    expect(q.parameters).toEqual([7, 7]);
  });

  it('puts a joined tenant table’s filter in the join condition, so outer joins stay outer', () => {
    const q = compiler
      .selectFrom('medreport.organizations as o')
      .leftJoin('medreport.tenant_probe as p', 'p.organization_id', 'o.id')
      .select(['o.name', 'p.note'])
      .compile();
    expect(q.sql).toBe(
      'select "o"."name", "p"."note" from "medreport"."organizations" as "o" left join "medreport"."tenant_probe" as "p" ' +
        'on "p"."organization_id" = "o"."id" and "p"."organization_id" = $1',
    );
  });

  it('adds the organization to updates and deletes', () => {
    expect(compiler.updateTable('medreport.tenant_probe').set({ note: 'x' }).compile().sql).toBe(
      'update "medreport"."tenant_probe" set "note" = $1 where "medreport"."tenant_probe"."organization_id" = $2',
    );
    expect(compiler.deleteFrom('medreport.tenant_probe').where('id', '=', 1).compile().sql).toBe(
      'delete from "medreport"."tenant_probe" where "id" = $1 and "medreport"."tenant_probe"."organization_id" = $2',
    );
  });

  it('sets the organization on inserts and refuses another one', () => {
    const q = compiler
      .insertInto('medreport.tenant_probe')
      .values([{ note: 'x' }, { note: 'y' }] as never)
      .compile();
    expect(q.sql).toBe('insert into "medreport"."tenant_probe" ("note", "organization_id") values ($1, $2), ($3, $4)');
    expect(q.parameters).toEqual(['x', 7, 'y', 7]);
    expect(() =>
      compiler
        .insertInto('medreport.tenant_probe')
        .values({ note: 'x', organization_id: 8 } as never)
        .compile(),
    ).toThrow(TenantScopeError);
  });

  it('leaves other tables alone', () => {
    expect(compiler.selectFrom('medreport.organizations').select('name').compile().sql).toBe(
      'select "name" from "medreport"."organizations"',
    );
  });
});

describe('isolation holds with either layer alone', () => {
  it('the plugin alone: as the table owner (RLS bypassed), an unfiltered query sees one organization', async () => {
    const scoped = owner.db.withPlugin(
      new TenantScopePlugin(a.organization.id, PROBE_TABLES),
    ) as unknown as Kysely<ProbeDb>;
    expect(notes(await scoped.selectFrom(PROBE).select('note').execute())).toEqual(['a-1', 'a-2']);
    const updated = await scoped.updateTable(PROBE).set({ note: sql`note || '!'` }).executeTakeFirst();
    expect(Number(updated.numUpdatedRows)).toBe(2);
    const all = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(owner.db);
    expect(notes(all.rows)).toEqual(['a-1!', 'a-2!', 'b-1']);
    await sql`update medreport.tenant_probe set note = rtrim(note, '!')`.execute(owner.db);
  });

  it('RLS alone: raw SQL the plugin never sees, on a connection of organization A, reads only A', async () => {
    const pool = new TenantPool(new pg.Pool({ connectionString: await testAppDatabaseUrl(), max: 1 }), true);
    try {
      const handle = pool.forOrganization(a.organization.id);
      const rows = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(handle);
      expect(notes(rows.rows)).toEqual(['a-1', 'a-2']);
      // Writing into B is refused by the policy's WITH CHECK, and B's rows cannot be touched.
      await expect(
        sql`insert into medreport.tenant_probe (organization_id, note) values (${b.organization.id}, 'smuggled')`.execute(
          handle,
        ),
      ).rejects.toThrow(/row-level security/);
      const deleted =
        await sql`delete from medreport.tenant_probe where organization_id = ${b.organization.id}`.execute(handle);
      expect(Number(deleted.numAffectedRows)).toBe(0);

      // The same connection (the pool has one), handed to B next, reads B's rows only.
      const forB = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(
        pool.forOrganization(b.organization.id),
      );
      expect(notes(forB.rows)).toEqual(['b-1']);
    } finally {
      await pool.pool.end();
    }
  });

  it('the context lives for one statement or one transaction: the connection keeps nothing', async () => {
    const pool = new TenantPool(new pg.Pool({ connectionString: await testAppDatabaseUrl(), max: 1 }), true);
    try {
      const handle = pool.forOrganization(a.organization.id);
      const inTransaction = await handle.transaction().execute(async (trx) => {
        const first = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(trx);
        const setting = await sql<{ v: string }>`select current_setting('app.organization_id', true) as v`.execute(trx);
        return { notes: notes(first.rows), setting: setting.rows[0]!.v };
      });
      expect(inTransaction).toEqual({ notes: ['a-1', 'a-2'], setting: String(a.organization.id) });
      // Straight after, on the very same connection, without the handle: no organization at all.
      const bare = await pool.pool.query<{ note: string; v: string }>(
        "select current_setting('app.organization_id', true) as v, (select count(*) from medreport.tenant_probe)::int as n",
      );
      expect(bare.rows[0]).toEqual({ v: '', n: 0 });
      // A failing statement fails alone and leaves the connection as clean and usable.
      await expect(sql`select 1/0`.execute(handle)).rejects.toThrow(/division by zero/);
      expect(
        notes((await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(handle)).rows),
      ).toEqual(['a-1', 'a-2']);
      expect((await pool.pool.query("select current_setting('app.organization_id', true) as v")).rows[0].v).toBe('');
    } finally {
      await pool.pool.end();
    }
  });

  it('a prepared statement runs under its handle’s context on its own, and in a transaction on the transaction’s connection', async () => {
    const pool = new TenantPool(new pg.Pool({ connectionString: await testAppDatabaseUrl(), max: 2 }), true);
    const notesLike = prepared<ProbeDb, { pattern: string }, { note: string }>((db, param) =>
      db.selectFrom(PROBE).select('note').where('note', 'like', param('pattern')),
    );
    const probeHandle = (organizationId: number) => pool.forOrganization(organizationId) as unknown as Kysely<ProbeDb>;
    try {
      const forA = probeHandle(a.organization.id);
      expect(directRunOf(forA)).toBeDefined();
      expect(notes(await notesLike(forA, { pattern: '%' }))).toEqual(['a-1', 'a-2']);
      expect(notes(await notesLike(probeHandle(b.organization.id), { pattern: '%' }))).toEqual(['b-1']);
      const rolledBack = new Error('roll back');
      await expect(
        forA.transaction().execute(async (trx) => {
          expect(directRunOf(trx)).toBeUndefined();
          await sql`insert into medreport.tenant_probe (organization_id, note) values (${a.organization.id}, 'a-3')`.execute(
            trx,
          );
          // The transaction's own connection: its uncommitted row is there.
          expect(notes(await notesLike(trx, { pattern: 'a-%' }))).toEqual(['a-1', 'a-2', 'a-3']);
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      expect(notes(await notesLike(forA, { pattern: '%' }))).toEqual(['a-1', 'a-2']);
      await expect(notesLike(forA, { pattern: '\u0000' })).rejects.toThrow();
      expect((await pool.pool.query("select current_setting('app.organization_id', true) as v")).rows[0].v).toBe('');
    } finally {
      await pool.pool.end();
    }
  });

  it('RLS fails closed: the app role without a tenant context sees no tenant rows', async () => {
    const rows = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(app.systemDb);
    expect(rows.rows).toEqual([]);
  });

  it('a handler that forgets its filter still gets only its organization’s rows', async () => {
    const probe = await buildTestApp({
      beforeReady: (instance) => {
        instance.register(async (scope) => {
          // MedReport's verifier and tenant guard live inside /api only: the probe brings its own.
          await scope.register(medreportAuth, { secret: instance.config.jwtSecret, ttlSeconds: 3600 });
          await scope.register(tenant);
          scope.addHook('onRequest', scope.authenticate);
          scope.addHook('onRequest', scope.requireTenant);
          scope.get('/api/__probe/notes', { schema: { hide: true } }, async (request) => {
            // No where clause at all, and raw SQL at that: only RLS on request.tenant.db stands.
            const { rows } = await sql<{ note: string }>`select note from medreport.tenant_probe`.execute(
              request.tenant.db,
            );
            return notes(rows);
          });
        });
      },
    });
    try {
      for (const [fixture, expected] of [
        [a, ['a-1', 'a-2']],
        [b, ['b-1']],
        [a, ['a-1', 'a-2']],
      ] as const) {
        const res = await probe.inject({ method: 'GET', url: '/api/__probe/notes', headers: fixture.doctor.headers });
        expect(res.json()).toEqual(expected);
      }
    } finally {
      await probe.close();
    }
  });
});
