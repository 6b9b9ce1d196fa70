import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRolePassword, ensureAppRole } from '../../db/app-role.js';
import { migrate, migrationStatus } from '../../db/migrate.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testAppDatabaseUrl, testDb } from '../helpers/database.js';
import { createOrganization, type Member, type TenantFixture } from '../helpers/tenants.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';

// An unfiltered list's `total` is the organization's kept count (migration 0025): it must equal
// the live rows after every kind of write, per organization and per kind of record.

let app: App;
let a: TenantFixture;
let b: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  a = await createOrganization(app, 'Comptes A');
  b = await createOrganization(app, 'Comptes B');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

async function send(member: Member, method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  const res = await app.inject({ method, url, headers: member.headers, payload });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}

/** The list's total, and the live rows counted in the table. */
async function totals(fx: TenantFixture, plural: 'patients' | 'prescriptions', query = '') {
  const res = await app.inject({ method: 'GET', url: `/api/${plural}?limit=1${query}`, headers: fx.doctor.headers });
  expect(res.statusCode, res.body).toBe(200);
  const { n } = await owner.db
    .selectFrom(`medreport.${plural}`)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organization_id', '=', fx.organization.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { listed: res.json().total as number, live: Number(n) };
}

describe('the total of an unfiltered list', () => {
  it('follows creates, updates, deletes and sync pushes, per organization', async () => {
    expect(await totals(a, 'patients')).toEqual({ listed: 0, live: 0 });
    const created = [];
    for (let i = 0; i < 3; i++) created.push((await send(a.doctor, 'POST', '/api/patients', { name: `P${i}` })).uuid);
    await send(b.doctor, 'POST', '/api/patients', { name: 'Ailleurs' });
    expect(await totals(a, 'patients')).toEqual({ listed: 3, live: 3 });

    await send(a.doctor, 'PATCH', `/api/patients/${created[0]}`, { phone: '0600000000' });
    await send(a.doctor, 'DELETE', `/api/patients/${created[1]}`);
    expect(await totals(a, 'patients')).toEqual({ listed: 2, live: 2 });

    // One push: 5 creates, an update and a delete, as one statement per table.
    const now = new Date().toISOString();
    const pushed = await send(a.doctor, 'POST', '/api/sync/batch', {
      patients: [
        ...Array.from({ length: 5 }, (_, i) => ({ uuid: randomUUID(), name: `Sync ${i}`, updated_at: now })),
        { uuid: created[0], name: 'Renommé', updated_at: now },
        { uuid: created[2], deleted: true, updated_at: now },
      ],
    });
    expect(pushed.errors).toEqual([]);
    expect(await totals(a, 'patients')).toEqual({ listed: 6, live: 6 });
    expect(await totals(b, 'patients')).toEqual({ listed: 1, live: 1 });

    // Each kind of record keeps its own count; a filter counts its own matches.
    await send(a.doctor, 'POST', '/api/prescriptions', { patient_uuid: created[0], medication: 'Paracétamol' });
    expect(await totals(a, 'prescriptions')).toEqual({ listed: 1, live: 1 });
    expect((await totals(a, 'patients', '&search=Sync')).listed).toBe(5);
    expect((await totals(a, 'prescriptions', `&patient_uuid=${created[0]}`)).listed).toBe(1);

    // A page past the end still says how many there are.
    const far = await app.inject({ method: 'GET', url: '/api/patients?limit=25&page=9', headers: a.doctor.headers });
    expect(far.json()).toMatchObject({ data: [], total: 6, page: 9 });
  });

  it('follows rows removed for good', async () => {
    const fx = await createOrganization(app, 'Comptes C');
    for (let i = 0; i < 4; i++) await send(fx.doctor, 'POST', '/api/patients', { name: `C${i}` });
    const gone = await owner.db
      .deleteFrom('medreport.patients')
      .where('organization_id', '=', fx.organization.id)
      .where('name', 'in', ['C0', 'C1'])
      .returning('uuid')
      .execute();
    expect(gone).toHaveLength(2);
    expect(await totals(fx, 'patients')).toEqual({ listed: 2, live: 2 });
  });

  it('is written by the triggers only: the server role may read its own organization’s counts, not change them', async () => {
    const client = new pg.Client({ connectionString: await testAppDatabaseUrl() });
    await client.connect();
    try {
      await client.query(`select set_config('app.organization_id', $1, false)`, [String(a.organization.id)]);
      const { rows } = await client.query('select organization_id, entity, live from medreport.record_counts');
      expect(rows.map((r) => Number(r.organization_id))).toEqual(rows.map(() => a.organization.id));
      await expect(client.query(`update medreport.record_counts set live = 0`)).rejects.toThrow(/permission denied/);
      await expect(
        client.query(`insert into medreport.record_counts values ($1, 'patients', 1)`, [a.organization.id]),
      ).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
  });

  it('is counted from the existing rows when the migration runs', async () => {
    // Organizations whose records were all removed for good may keep a row at 0, or have none.
    const counted = async () =>
      (
        await owner.db
          .selectFrom('medreport.record_counts')
          .selectAll()
          .orderBy(['organization_id', 'entity'])
          .execute()
      ).filter((row) => row.live > 0);
    const before = await counted();
    expect(before.length).toBeGreaterThan(2);
    // Back to before 0025 (what came after it reverted first), a row written meanwhile, then up again.
    const lastApplied = async () => (await migrationStatus(owner.db)).filter((m) => m.executedAt).at(-1)?.name;
    for (let name = await lastApplied(); name !== '0024_ptitspas_profile_announced'; name = await lastApplied()) {
      expect(name, 'a migration after 0024').toMatch(/^002[5-9]_|^00[3-9]\d_/);
      await migrate(owner.db, 'down');
    }
    await owner.db
      .insertInto('medreport.patients')
      .values({ uuid: randomUUID(), organization_id: a.organization.id, name: 'Hors comptes' })
      .execute();
    await migrate(owner.db, 'latest');
    await ensureAppRole(owner.db, appRolePassword(TEST_JWT_SECRET));
    const added = ({ organization_id, entity, live }: (typeof before)[number]) => ({
      organization_id,
      entity,
      live: organization_id === a.organization.id && entity === 'patients' ? live + 1 : live,
    });
    expect(await counted()).toEqual(before.map(added));
    expect(await totals(a, 'patients')).toEqual({ listed: 7, live: 7 });
  });
});
