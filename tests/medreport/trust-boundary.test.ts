import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization, type TenantFixture } from '../helpers/tenants.js';
import { bearer, PASSWORD, registerUser, registration } from '../helpers/users.js';

// Each reproduction of the trust-boundary report, one by one (the generated route-table suite in
// tests/hostile-input.test.ts covers every route the same way, these pin the exact cases).

let app: App;
let a: TenantFixture;
let victim: TenantFixture;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  a = await createOrganization(app, 'A');
  victim = await createOrganization(app, 'Victime');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const user = (id: number) =>
  owner.db.selectFrom('medreport.users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('registration cannot choose server-owned fields', () => {
  it('POST /api/register with organization_id and role makes a plain account, with no access to that clinic', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/register',
      payload: { ...registration(), organization_id: victim.organization.id, role: 'owner', status: 'suspended' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().user).toMatchObject({ role: null, organization_id: null });
    const stored = await user(res.json().user.id);
    expect(stored).toMatchObject({ role: null, organization_id: null, status: 'active' });
    const patients = await app.inject({ method: 'GET', url: '/api/patients', headers: bearer(res.json().token) });
    expect(patients.statusCode).toBe(403);
  });

  it('POST /api/register-owner ignores email_verified_at and has_used_trial', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/register-owner',
      payload: {
        ...registration(),
        organization_name: 'Clinique',
        email_verified_at: '2020-01-01T00:00:00Z',
        has_used_trial: true,
      },
    });
    expect(res.statusCode).toBe(201);
    const stored = await user(res.json().user.id);
    expect(stored.email_verified_at).toBeNull();
    expect(stored.has_used_trial).toBe(false);
    expect(stored.organization_id).toBe(res.json().organization.id);
  });
});

describe('PUT /api/user/profile writes profile fields only', () => {
  it('ignores role, organization, e-mail, verification and password hash', async () => {
    const me = await registerUser(app);
    const before = await user(me.user.id);
    for (const payload of [
      { role: 'admin' },
      { organization_id: victim.organization.id, role: 'owner' },
      { email: 'x@y.fr', email_verified_at: '2020-01-01T00:00:00Z' },
      { password_hash: 'x', name: 'Nouveau Nom' },
    ]) {
      const res = await app.inject({ method: 'PUT', url: '/api/user/profile', headers: bearer(me.token), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(200);
    }
    const after = await user(me.user.id);
    expect(after).toMatchObject({
      role: before.role,
      organization_id: before.organization_id,
      email: before.email,
      email_verified_at: before.email_verified_at,
      password_hash: before.password_hash,
      name: 'Nouveau Nom',
    });
  });

  it('answers 415 to a text/plain body instead of reading it', async () => {
    const me = await registerUser(app);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/user/profile',
      headers: { ...bearer(me.token), 'content-type': 'text/plain' },
      payload: '{"role":"admin","name":"Texte"}',
    });
    expect(res.statusCode).toBe(415);
    expect((await user(me.user.id)).name).toBe(me.user.name);
  });
});

describe('records cannot take server-owned columns', () => {
  const routes = [
    ['patients', async () => ({ name: 'Patient' })],
    ['prescriptions', async () => ({ patient_uuid: await patientUuid(), medication: 'Doliprane' })],
    [
      'invoices',
      async () => ({ patient_uuid: await patientUuid(), designation: 'Acte', unit_price: 100, quantity: 1 }),
    ],
  ] as const;
  async function patientUuid() {
    const res = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'P' },
    });
    return res.json().uuid as string;
  }

  it.each(routes)('%s: a create is never born deleted, nor created by someone else', async (plural, body) => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/${plural}`,
      headers: a.doctor.headers,
      payload: { ...(await body()), deleted_at: '2020-01-01T00:00:00Z', created_by: victim.doctor.user.id },
    });
    expect(res.statusCode).toBe(201);
    const row = await owner.db
      .selectFrom(`medreport.${plural}`)
      .select(['deleted_at', 'created_by', 'organization_id'])
      .where('uuid', '=', res.json().uuid)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ deleted_at: null, created_by: a.doctor.user.id, organization_id: a.organization.id });
  });

  it.each(routes)('%s: a PATCH of server-owned columns alone changes nothing and says so', async (plural, body) => {
    const created = await app.inject({
      method: 'POST',
      url: `/api/${plural}`,
      headers: a.doctor.headers,
      payload: await body(),
    });
    const uuid = created.json().uuid;
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/${plural}/${uuid}`,
      headers: a.doctor.headers,
      payload: { deleted_at: '2020-01-01T00:00:00Z', created_by: victim.doctor.user.id, organization_id: 1 },
    });
    expect(res.statusCode).toBe(422);
    const row = await owner.db
      .selectFrom(`medreport.${plural}`)
      .select(['deleted_at', 'created_by'])
      .where('uuid', '=', uuid)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ deleted_at: null, created_by: a.doctor.user.id });
    const log = await owner.db
      .selectFrom('medreport.activity_log')
      .select('action')
      .where('entity_uuid', '=', uuid)
      .execute();
    expect(log.map((l) => l.action)).toEqual([`${plural.slice(0, -1)}.created`]);
  });
});

describe('unknown input never reaches SQL', () => {
  it('drops unknown body keys (the Flutter client may send its whole model)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/register',
      payload: { ...registration(), fuzz_extra: 'x', id: 5, uuid: 'not-a-uuid', created_at: 'yesterday' },
    });
    expect(res.statusCode).toBe(201);
    const created = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'Avec organisation', organization_id: 1 },
    });
    expect(created.statusCode).toBe(201);
  });

  it('answers a PATCH whose keys are all unknown like an empty one: 422, nothing written', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'Inchangé' },
    });
    const { uuid, updated_at: before } = created.json();
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/patients/${uuid}`,
      headers: a.doctor.headers,
      payload: { organization_id: victim.organization.id, fuzz_extra: 'x' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ success: false, errors: { body: ['Au moins un champ est attendu.'] } });
    const stored = await owner.db
      .selectFrom('medreport.patients')
      .select(['name', 'updated_at'])
      .where('uuid', '=', uuid)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ name: 'Inchangé', updated_at: new Date(before) });
  });

  it('ignores unknown and indexed query keys, refuses scalars sent as arrays', async () => {
    const get = (qs: string) => app.inject({ method: 'GET', url: `/api/patients?${qs}`, headers: a.doctor.headers });
    for (const qs of ['fuzz=a', 'page[0]=1', 'organization_id=1']) {
      const res = await get(qs);
      expect(res.statusCode, qs).toBe(200);
      expect(res.json().page).toBe(1);
    }
    for (const qs of ['limit[]=5', 'sort[]=-name', 'page=1&page=2']) {
      const res = await get(qs);
      expect(res.statusCode, qs).toBe(422);
      expect(res.json().success).toBe(false);
    }
  });
});

describe('edge values answer 422 with the field named', () => {
  it.each([
    ['register', '/api/register', () => ({ ...registration(), name: 'Jean\u0000' }), 'name'],
    [
      'register-doctor',
      '/api/register-doctor',
      () => ({ ...registration(), organization_code: 'ORG-\u0000' }),
      'organization_code',
    ],
    ['a lone surrogate', '/api/register', () => ({ ...registration(), address: 'rue \ud800' }), 'address'],
  ])('a NUL byte or broken UTF-16 in %s', async (_label, url, payload, field) => {
    const res = await app.inject({ method: 'POST', url, payload: payload() });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual({ [field]: [`Le champ ${field} contient des caractères non autorisés.`] });
  });

  it('a NUL byte in a profile, a patient name, and a search', async () => {
    const profile = await app.inject({
      method: 'PUT',
      url: '/api/user/profile',
      headers: a.doctor.headers,
      payload: { phone: '06\u000012' },
    });
    expect(profile.statusCode).toBe(422);
    expect(profile.json().errors).toHaveProperty('phone');
    const patient = await app.inject({
      method: 'POST',
      url: '/api/patients',
      headers: a.doctor.headers,
      payload: { name: 'A\u0000B' },
    });
    expect(patient.json().errors).toHaveProperty('name');
    for (const url of ['/api/patients?search=%00', '/api/activity-log?search=a%00']) {
      const res = await app.inject({ method: 'GET', url, headers: a.doctor.headers });
      expect(res.statusCode, url).toBe(422);
      expect(res.json().errors).toHaveProperty('search');
    }
  });

  it.each(['page=1e309', 'page=1000000000000000000', 'limit=1e309', 'page=NaN', 'page=Infinity'])(
    'refuses ?%s on lists',
    async (qs) => {
      const res = await app.inject({ method: 'GET', url: `/api/patients?${qs}`, headers: a.doctor.headers });
      expect(res.statusCode).toBe(422);
      expect(Object.keys(res.json().errors)).toEqual([qs.split('=')[0]]);
    },
  );

  it('refuses ?user_id=1e309 on the activity log', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/activity-log?user_id=1e309', headers: a.doctor.headers });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toEqual({ user_id: ['Le champ user_id doit être un nombre fini.'] });
  });

  it('refuses a JSON 1e309 or 2^63 in a body', async () => {
    for (const raw of ['1e309', '9223372036854775808']) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/invoices',
        headers: { ...a.doctor.headers, 'content-type': 'application/json' },
        payload: `{"patient_uuid":"01890000-0000-7000-8000-000000000000","designation":"x","unit_price":${raw},"quantity":1}`,
      });
      expect(res.statusCode, raw).toBe(422);
      expect(res.json().errors).toHaveProperty('unit_price');
    }
  });
});

describe('POST /api/reset-password', () => {
  it('checks the token before spending an argon2 hash on the new password', async () => {
    // Hashing for a request starts with passwords.for(request): never reached means never hashed.
    const hash = vi.spyOn(app.passwords, 'for');
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/api/reset-password',
        payload: { token: 'guess', email: a.doctor.user.email, password: PASSWORD, password_confirmation: PASSWORD },
      });
      expect(res.statusCode).toBe(422);
      expect(hash).not.toHaveBeenCalled();
    } finally {
      hash.mockRestore();
    }
  });

  it('is rate limited per address like forgot-password', async () => {
    const limited = await buildTestApp({ config: { rateLimits: true } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await limited.inject({
          method: 'POST',
          url: '/api/reset-password',
          payload: { token: 'guess', email: 'nobody@example.com', password: PASSWORD, password_confirmation: PASSWORD },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([422, 422, 422, 422, 422, 429]);
    } finally {
      await limited.close();
    }
  });
});
