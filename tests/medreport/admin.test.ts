import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';
import { bearer, createPlatformAdmin, PASSWORD, registerUser } from '../helpers/users.js';

let app: App;
let admin: Awaited<ReturnType<typeof createPlatformAdmin>>;
let a: TenantFixture;
let b: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  admin = await createPlatformAdmin(app, 'Ada Admin');
  a = await createOrganization(app, 'Cabinet Admin A');
  b = await createOrganization(app, 'Cabinet Admin B');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const call = (
  headers: Record<string, string>,
  method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
) => app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

const adminRoutes = () =>
  app.routeTable
    .filter((r) => r.url.startsWith('/api/admin'))
    .flatMap((r) =>
      [r.method]
        .flat()
        .filter((m) => m !== 'HEAD')
        .map((method) => ({ method, url: r.url })),
    );

const login = (email: string, password = PASSWORD) =>
  app.inject({ method: 'POST', url: '/api/login', payload: { email, password } });

const platformLog = (subject: string) =>
  owner.db
    .selectFrom('medreport.platform_activity_log')
    .selectAll()
    .where('entity_uuid', '=', subject)
    .orderBy('id')
    .execute();

/** Both logs, the organizations' and the platform's (migration 0023), by id. */
const bothLogs = async () =>
  (
    await sql<{
      id: number;
      action: string;
      user_id: number | null;
      user_name: string | null;
      entity_uuid: string | null;
      entity_name: string | null;
    }>`
      select id, action, user_id, user_name, entity_uuid, entity_name from medreport.activity_log
      union all
      select id, action, user_id, user_name, entity_uuid, entity_name from medreport.platform_activity_log
      order by id`.execute(owner.db)
  ).rows;

describe('the admin scope', () => {
  it('answers 403 to owners, doctors and accounts without an organization on every /api/admin route', async () => {
    const outsider = await registerUser(app);
    const routes = adminRoutes();
    expect(routes.map((r) => `${r.method} ${r.url}`).sort()).toEqual([
      'DELETE /api/admin/users/:id',
      'GET /api/admin/dashboard/stats',
      'GET /api/admin/users',
      'GET /api/admin/users/:id',
      'PATCH /api/admin/users/:id/status',
      'PUT /api/admin/users/:id',
    ]);
    const open: string[] = [];
    for (const caller of [a.owner.headers, a.doctor.headers, bearer(outsider.token)]) {
      for (const { method, url } of routes) {
        const res = await app.inject({
          method: method as 'GET',
          url: url.replace(':id', String(a.doctor.user.id)),
          headers: caller,
          ...(method === 'PUT' || method === 'PATCH' ? { payload: { status: 'suspended', roles: ['admin'] } } : {}),
        });
        if (res.statusCode !== 403 || res.json().success !== false) open.push(`${method} ${url} -> ${res.statusCode}`);
      }
    }
    expect(open).toEqual([]);
    // Nothing happened to the doctor.
    expect((await call(a.doctor.headers, 'GET', '/api/user')).json()).toMatchObject({ role: 'doctor' });
  });

  it('lets an administrator without an organization reach only /api/admin and their own account', async () => {
    expect((await call(admin.headers, 'GET', '/api/user')).json()).toMatchObject({ role: 'admin', roles: ['admin'] });
    expect((await call(admin.headers, 'GET', '/api/patients')).statusCode).toBe(403);
    expect((await call(admin.headers, 'GET', '/api/admin/users')).statusCode).toBe(200);
  });

  it('keeps the platform role apart from the organization role', async () => {
    const promoted = await call(admin.headers, 'PUT', `/api/admin/users/${b.owner.user.id}`, {
      roles: ['owner', 'admin'],
    });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json().user.roles).toEqual(['owner', 'admin']);
    // Still the owner of B, now also an administrator.
    expect((await call(b.owner.headers, 'GET', '/api/patients')).statusCode).toBe(200);
    expect((await call(b.owner.headers, 'GET', '/api/admin/users')).statusCode).toBe(200);
    const row = await owner.db
      .selectFrom('medreport.users')
      .select(['role', 'platform_role'])
      .where('id', '=', b.owner.user.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ role: 'owner', platform_role: 'admin' });
    // The organization role is not the administrators' to change.
    const demote = await call(admin.headers, 'PUT', `/api/admin/users/${b.owner.user.id}`, { roles: ['doctor'] });
    expect(demote.statusCode).toBe(422);
    expect(demote.json().errors).toHaveProperty('roles');
    const back = await call(admin.headers, 'PUT', `/api/admin/users/${b.owner.user.id}`, { roles: ['owner'] });
    expect(back.json().user.roles).toEqual(['owner']);
    expect((await call(b.owner.headers, 'GET', '/api/admin/users')).statusCode).toBe(403);
  });
});

describe('GET /api/admin/users', () => {
  it('pages with the spec’s fields, ids as strings, newest first', async () => {
    const res = await call(admin.headers, 'GET', '/api/admin/users?limit=2&page=1');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ currentPage: 1, perPage: 2, total: expect.any(Number) });
    expect(body.lastPage).toBe(Math.ceil(body.total / 2));
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toEqual({
      id: expect.any(Number),
      name: expect.any(String),
      email: expect.any(String),
      status: 'active',
      created_at: expect.any(String),
      createdAt: body.data[0].created_at,
      phone: null,
      address: null,
      speciality: null,
      medical_order_number: null,
      roles: expect.any(Array),
      organization_id: body.data[0].organization_id,
    });
    expect(['number', 'object']).toContain(typeof body.data[0].organization_id);
    const all = (await call(admin.headers, 'GET', `/api/admin/users?limit=100`)).json().data;
    const times = all.map((u: { createdAt: string }) => u.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const last = (await call(admin.headers, 'GET', `/api/admin/users?limit=2&page=${body.lastPage}`)).json();
    expect(last.data.length).toBe(body.total - 2 * (body.lastPage - 1));
  });

  it('searches name, e-mail, speciality and order number, ignoring case and accents', async () => {
    const tag = randomUUID().slice(0, 8);
    const doctor = await registerUser(app, {
      name: `Élodie Lefèvre ${tag}`,
      speciality: 'Cardiologie pédiatrique',
      medical_order_number: `ORD-${tag}`,
    });
    const find = async (search: string) =>
      (await call(admin.headers, 'GET', `/api/admin/users?search=${encodeURIComponent(search)}&limit=100`))
        .json()
        .data.map((u: { email: string }) => u.email);
    for (const search of [
      `elodie lefevre ${tag}`,
      `ÉLODIE`,
      'lefÈvre',
      'CARDIOLOGIE PEDIA',
      `ord-${tag}`,
      doctor.email.toUpperCase(),
    ]) {
      expect(await find(search), search).toContain(doctor.email);
    }
    expect(await find(`nobody-${tag}`)).toEqual([]);
    // LIKE's wildcards are characters here.
    expect(await find('%')).toEqual([]);
    expect(await find('_')).toEqual([]);
  });

  it('filters by status, role and organization', async () => {
    const byOrg = (await call(admin.headers, 'GET', `/api/admin/users?organization_id=${a.organization.id}`)).json();
    expect(byOrg.data.map((u: { email: string }) => u.email).sort()).toEqual(
      [a.owner.user.email, a.doctor.user.email].sort(),
    );
    const owners = (await call(admin.headers, 'GET', '/api/admin/users?role=owner&limit=100')).json();
    expect(owners.data.every((u: { roles: string[] }) => u.roles.includes('owner'))).toBe(true);
    const admins = (await call(admin.headers, 'GET', '/api/admin/users?role=admin&limit=100')).json();
    expect(admins.data.map((u: { email: string }) => u.email)).toContain(admin.email);
    const suspended = (await call(admin.headers, 'GET', '/api/admin/users?status=suspended')).json();
    expect(suspended.data.every((u: { status: string }) => u.status === 'suspended')).toBe(true);
  });

  it('refuses bad parameters with 422', async () => {
    for (const query of ['page=0', 'limit=101', 'status=deleted', 'role=root', 'organization_id=abc', 'page=1e309']) {
      const res = await call(admin.headers, 'GET', `/api/admin/users?${query}`);
      expect(res.statusCode, query).toBe(422);
    }
  });
});

describe('GET and PUT /api/admin/users/:id', () => {
  it('shows one account with its roles and organization; 404 for an unknown one', async () => {
    const res = await call(admin.headers, 'GET', `/api/admin/users/${a.doctor.user.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toMatchObject({
      id: a.doctor.user.id,
      email: a.doctor.user.email,
      roles: ['doctor'],
      organization_id: a.organization.id,
      organization_name: 'Cabinet Admin A',
      status: 'active',
    });
    expect((await call(admin.headers, 'GET', '/api/admin/users/987654321')).statusCode).toBe(404);
    expect((await call(admin.headers, 'GET', '/api/admin/users/abc')).statusCode).toBe(422);
  });

  it('changes the profile fields sent, logs it, and ignores server-owned fields', async () => {
    const user = await registerUser(app);
    const id = user.user.id;
    const res = await call(admin.headers, 'PUT', `/api/admin/users/${id}`, {
      name: 'Nom Corrigé',
      phone: '+221 77 000 00 00',
      speciality: 'Dermatologie',
      birth_date: '1985-06-07',
      status: 'suspended',
      organization_id: a.organization.id,
      password_hash: 'x',
      email_verified_at: '2020-01-01T00:00:00Z',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user).toMatchObject({
      name: 'Nom Corrigé',
      phone: '+221 77 000 00 00',
      speciality: 'Dermatologie',
      birth_date: '1985-06-07',
      status: 'active',
      organization_id: null,
    });
    const row = await owner.db.selectFrom('medreport.users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.email_verified_at).toBeNull();
    expect(row.password_hash).not.toBe('x');
    expect(await platformLog(user.user.uuid)).toMatchObject([
      {
        action: 'admin.user.updated',
        user_id: admin.user.id,
        user_name: 'Ada Admin',
        entity_type: 'user',
        entity_name: user.user.name,
      },
    ]);
    // Clearing a field, a taken e-mail, a future birth date.
    expect((await call(admin.headers, 'PUT', `/api/admin/users/${id}`, { phone: null })).json().user.phone).toBeNull();
    const taken = await call(admin.headers, 'PUT', `/api/admin/users/${id}`, {
      email: a.owner.user.email.toUpperCase(),
    });
    expect(taken.statusCode).toBe(422);
    expect(taken.json().errors).toHaveProperty('email');
    expect((await call(admin.headers, 'PUT', `/api/admin/users/${id}`, { birth_date: '2999-01-01' })).statusCode).toBe(
      422,
    );
    expect((await call(admin.headers, 'PUT', '/api/admin/users/987654321', { name: 'X' })).statusCode).toBe(404);
  });
});

describe('the last active administrator', () => {
  it('can be neither demoted, nor suspended, nor deleted; another administrator lifts that', async () => {
    try {
      // Every other administrator of this file's database is suspended first: `solo` is the last
      // active one.
      const solo = await createPlatformAdmin(app, 'Seul Admin');
      await owner.db
        .updateTable('medreport.users')
        .set({ status: 'suspended' })
        .where('platform_role', '=', 'admin')
        .where('id', '!=', solo.user.id)
        .execute();
      const self = `/api/admin/users/${solo.user.id}`;
      for (const [method, payload] of [
        ['PUT', { roles: [] }],
        ['PATCH', { status: 'suspended' }],
        ['DELETE', undefined],
      ] as const) {
        const url = method === 'PATCH' ? `${self}/status` : self;
        const res = await app.inject({ method, url, headers: solo.headers, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${res.body}`).toBe(409);
        expect(res.json()).toMatchObject({
          success: false,
          message: expect.stringContaining('dernier administrateur'),
        });
      }
      expect((await app.inject({ method: 'GET', url: '/api/admin/users', headers: solo.headers })).statusCode).toBe(
        200,
      );

      // With a second active administrator, the first may step down.
      const second = await createPlatformAdmin(app, 'Deuxième Admin');
      const res = await app.inject({ method: 'PUT', url: self, headers: second.headers, payload: { roles: [] } });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().user.roles).toEqual([]);
      // Two administrators demoting each other at once: one of them stays.
      const third = await createPlatformAdmin(app, 'Troisième Admin');
      const both = await Promise.all([
        app.inject({
          method: 'PUT',
          url: `/api/admin/users/${third.user.id}`,
          headers: second.headers,
          payload: { roles: [] },
        }),
        app.inject({
          method: 'PUT',
          url: `/api/admin/users/${second.user.id}`,
          headers: third.headers,
          payload: { roles: [] },
        }),
      ]);
      // One wins; the other is refused as the last administrator (409) or, when the winner had
      // committed before it authenticated, as a caller who is no longer one (403).
      const [won, refused] = both.map((r) => r.statusCode).sort();
      expect(won).toBe(200);
      expect([403, 409]).toContain(refused);
      const admins = await owner.db
        .selectFrom('medreport.users')
        .select('id')
        .where('id', 'in', [second.user.id, third.user.id])
        .where('platform_role', '=', 'admin')
        .execute();
      expect(admins).toHaveLength(1);
    } finally {
      await owner.db.updateTable('medreport.users').set({ status: 'active' }).where('id', '=', admin.user.id).execute();
    }
  });
});

describe('PATCH /api/admin/users/:id/status', () => {
  it('suspension ends every session at once and refuses login; reactivation lets the user back in', async () => {
    const fx = await createOrganization(app, 'Suspension');
    const second = await login(fx.doctor.user.email);
    const tokens = [fx.doctor.headers, bearer(second.json().token)];
    for (const headers of tokens) expect((await call(headers, 'GET', '/api/patients')).statusCode).toBe(200);

    const res = await call(admin.headers, 'PATCH', `/api/admin/users/${fx.doctor.user.id}/status`, {
      status: 'suspended',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user.status).toBe('suspended');
    for (const headers of tokens) {
      const refused = await call(headers, 'GET', '/api/patients');
      expect([401, 403]).toContain(refused.statusCode);
      expect(refused.json().success).toBe(false);
    }
    const sessions = await owner.db
      .selectFrom('medreport.sessions')
      .select('revoked_at')
      .where('user_id', '=', fx.doctor.user.id)
      .execute();
    expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
    const refusedLogin = await login(fx.doctor.user.email);
    expect(refusedLogin.statusCode).toBe(403);

    await call(admin.headers, 'PATCH', `/api/admin/users/${fx.doctor.user.id}/status`, { status: 'active' });
    expect((await login(fx.doctor.user.email)).statusCode).toBe(200);
    expect((await platformLog(fx.doctor.user.uuid)).map((e) => e.action)).toEqual([
      'admin.user.suspended',
      'admin.user.activated',
    ]);
    expect(
      (await call(admin.headers, 'PATCH', `/api/admin/users/${fx.doctor.user.id}/status`, { status: 'gone' }))
        .statusCode,
    ).toBe(422);
  });
});

describe('DELETE /api/admin/users/:id', () => {
  it('refuses to delete an owner whose organization has other members (409)', async () => {
    const res = await call(admin.headers, 'DELETE', `/api/admin/users/${a.owner.user.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('1 autre(s) membre(s)');
    expect((await call(a.owner.headers, 'GET', '/api/user')).statusCode).toBe(200);
  });

  it('removes personal data and sessions, keeps records and activity with the actor anonymised', async () => {
    const fx = await createOrganization(app, 'Départ');
    const patient = (
      await app.inject({ method: 'POST', url: '/api/patients', headers: fx.doctor.headers, payload: { name: 'Reste' } })
    ).json();
    const { uuid, id, email } = fx.doctor.user;
    const { name } = (await call(fx.doctor.headers, 'GET', '/api/user')).json();

    const res = await call(admin.headers, 'DELETE', `/api/admin/users/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ success: true, message: 'Utilisateur supprimé.' });

    const row = await owner.db.selectFrom('medreport.users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      name: 'Utilisateur supprimé',
      password_hash: null,
      phone: null,
      organization_id: null,
      role: null,
      deleted_at: expect.any(Date),
    });
    expect(row.email).not.toContain(email.split('@')[0]);
    expect((await call(fx.doctor.headers, 'GET', '/api/user')).statusCode).toBe(401);
    expect((await login(email)).statusCode).toBe(401);
    expect((await call(admin.headers, 'GET', `/api/admin/users/${id}`)).statusCode).toBe(404);
    const listed = (await call(admin.headers, 'GET', `/api/admin/users?organization_id=${fx.organization.id}`)).json();
    expect(listed.data.map((u: { email: string }) => u.email)).toEqual([fx.owner.user.email]);

    // The patient stays, with its author; the log keeps the entry without who it was.
    expect((await call(fx.owner.headers, 'GET', `/api/patients/${patient.uuid}`)).json().created_by).toBe(id);
    const entries = (await bothLogs()).filter((e) => e.entity_uuid === patient.uuid || e.entity_uuid === uuid);
    expect(entries.map((e) => [e.action, e.user_id, e.user_name, e.entity_name])).toEqual([
      ['patient.created', null, 'Utilisateur supprimé', 'Reste'],
      ['admin.user.deleted', admin.user.id, 'Ada Admin', 'Utilisateur supprimé'],
    ]);
    expect(JSON.stringify(await bothLogs())).not.toContain(name);
    // Deleting again: it is gone.
    expect((await call(admin.headers, 'DELETE', `/api/admin/users/${id}`)).statusCode).toBe(404);
  });

  it('deletes an owner alone in their organization; the organization’s records stay', async () => {
    const solo = await registerUser(app);
    const created = await app.inject({
      method: 'POST',
      url: '/api/register-owner',
      payload: {
        name: 'Seule',
        email: `seule-${randomUUID()}@exemple.test`,
        password: PASSWORD,
        password_confirmation: PASSWORD,
        organization_name: 'Solo',
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const res = await call(admin.headers, 'DELETE', `/api/admin/users/${created.json().user.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(solo.token).toBeTruthy();
  });
});

describe('GET /api/admin/dashboard/stats', () => {
  it('counts across organizations, trends new accounts over 30 zero-filled days, lists recent activity', async () => {
    for (const fx of [a, b]) {
      await app.inject({
        method: 'POST',
        url: '/api/patients',
        headers: fx.doctor.headers,
        payload: { name: 'Compté' },
      });
    }
    const renamed = await registerUser(app);
    await call(admin.headers, 'PUT', `/api/admin/users/${renamed.user.id}`, { name: 'Renommé' });
    const res = await call(admin.headers, 'GET', '/api/admin/dashboard/stats');
    expect(res.statusCode, res.body).toBe(200);
    const { stats, charts, recentActivities } = res.json();
    const stat = (key: string) => stats.find((s: { key: string }) => s.key === key);
    expect(stats.map((s: { key: string }) => s.key)).toEqual([
      'users',
      'organizations',
      'patients',
      'prescriptions',
      'invoices',
      'active_sessions',
    ]);
    const counted = async (table: 'patients' | 'users' | 'organizations') =>
      Number(
        (
          await owner.db
            .selectFrom(`medreport.${table}`)
            .select((eb) => eb.fn.countAll().as('n'))
            .$if(table !== 'organizations', (q) => q.where('deleted_at' as never, 'is', null))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(stat('patients')).toMatchObject({ value: await counted('patients'), previous_30_days: 0, change: null });
    expect(stat('patients').value).toBeGreaterThanOrEqual(2);
    expect(stat('users').value).toBe(await counted('users'));
    expect(stat('organizations').value).toBe(await counted('organizations'));
    expect(stat('active_sessions').value).toBeGreaterThan(0);

    expect(charts.userTrend).toHaveLength(30);
    expect(charts.userTrend.at(-1).date).toBe(new Date().toISOString().slice(0, 10));
    expect(charts.userTrend.reduce((n: number, d: { count: number }) => n + d.count, 0)).toBe(
      stat('users').last_30_days,
    );

    expect(recentActivities.length).toBeGreaterThan(0);
    const names = new Set(recentActivities.map((e: { organization_name: string | null }) => e.organization_name));
    expect(names.has('Cabinet Admin A') || names.has('Cabinet Admin B')).toBe(true);
    // The platform's own entries are listed with the organizations' ones, newest first, ids unique.
    expect(recentActivities[0]).toMatchObject({
      action: 'admin.user.updated',
      entity_uuid: renamed.user.uuid,
      organization_id: null,
      organization_name: null,
    });
    const ids = recentActivities.map((e: { id: number }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const times = recentActivities.map((e: { created_at: string }) => e.created_at);
    expect(times).toEqual([...times].sort().reverse());
  });
});

describe('the cross-organization handle', () => {
  it('reads every organization’s records and writes none; tenants never see the platform log', async () => {
    const rows = await app.crossOrganizationDb
      .selectFrom('medreport.patients')
      .select('organization_id')
      .distinct()
      .execute();
    expect(rows.map((r) => r.organization_id)).toEqual(expect.arrayContaining([a.organization.id, b.organization.id]));
    await expect(
      sql`insert into medreport.patients (organization_id, uuid, name, created_by)
          values (${a.organization.id}, ${randomUUID()}, 'Intrus', ${a.owner.user.id})`.execute(
        app.crossOrganizationDb,
      ),
    ).rejects.toThrow(/row-level security/);
    // Tenant connections do not carry the setting.
    const tenant = app.tenantPool.forOrganization(a.organization.id);
    const seen = await tenant.selectFrom('medreport.patients').select('organization_id').distinct().execute();
    expect(seen.map((r) => r.organization_id)).toEqual([a.organization.id]);
    const log = await call(a.owner.headers, 'GET', '/api/activity-log?limit=100');
    expect(log.json().data.every((e: { action: string }) => !e.action.startsWith('admin.'))).toBe(true);
  });
});
