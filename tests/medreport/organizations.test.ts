import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { createOrganization } from '../helpers/tenants.js';
import { bearer, PASSWORD, registerUser, registration, uniqueEmail } from '../helpers/users.js';

let app: App;
const handle = await testDb();
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await handle.db.destroy();
});

const CODE = /^ORG-[2-9A-HJ-NP-Z]{10}$/;

async function count(table: 'medreport.users' | 'medreport.organizations') {
  const row = await handle.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}

describe('POST /api/register-owner', () => {
  it('creates the organization and its owner together', async () => {
    const body = { ...registration({ name: 'Owner One' }), organization_name: 'Clinique Alpha' };
    const res = await app.inject({ method: 'POST', url: '/api/register-owner', payload: body });
    expect(res.statusCode).toBe(201);
    const { user, token, organization, organization_code } = res.json();
    expect(organization).toMatchObject({
      name: 'Clinique Alpha',
      code: expect.stringMatching(CODE),
      owner_user_id: user.id,
    });
    expect(organization_code).toBe(organization.code);
    expect(user).toMatchObject({ name: 'Owner One', role: 'owner', organization_id: organization.id });

    const me = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token) });
    expect(me.json()).toEqual({ user, organization, role: 'owner' });
    const org = await app.inject({ method: 'GET', url: '/api/organization', headers: bearer(token) });
    expect(org.json()).toEqual({ organization, role: 'owner' });
  });

  it('writes nothing when it fails: a taken e-mail leaves no organization behind', async () => {
    const { email } = await registerUser(app);
    const before = await count('medreport.organizations');
    const res = await app.inject({
      method: 'POST',
      url: '/api/register-owner',
      payload: { ...registration({ email }), organization_name: 'Clinique Beta' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toHaveProperty('email');
    expect(await count('medreport.organizations')).toBe(before);
  });

  it('requires the organization name', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/register-owner', payload: registration() });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors)).toEqual(['organization_name']);
  });

  it('gives every organization its own code', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) codes.add((await createOrganization(app, `Clinique ${i}`)).organization.code);
    expect(codes.size).toBe(5);
  });
});

describe('POST /api/register-doctor', () => {
  it('joins the organization whose code is given, as a doctor', async () => {
    const { organization } = await createOrganization(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/register-doctor',
      payload: { ...registration({ name: 'Dr Jane' }), organization_code: ` ${organization.code.toLowerCase()} ` },
    });
    expect(res.statusCode).toBe(201);
    const { user, token, organization: joined } = res.json();
    expect(joined).toEqual(organization);
    expect(user).toMatchObject({ name: 'Dr Jane', role: 'doctor', organization_id: organization.id });
    const me = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token) });
    expect(me.json()).toMatchObject({ organization, role: 'doctor' });
  });

  it('refuses a wrong code with a clear error and creates no user', async () => {
    const before = await count('medreport.users');
    const email = uniqueEmail();
    const res = await app.inject({
      method: 'POST',
      url: '/api/register-doctor',
      payload: { ...registration({ email }), organization_code: 'ORG-NOPE' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      success: false,
      error: "Code d'organisation invalide.",
      errors: { organization_code: ["Code d'organisation invalide."] },
    });
    expect(await count('medreport.users')).toBe(before);
    expect(
      (await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } })).statusCode,
    ).toBe(401);
  });

  it('refuses a rotated code at once, and accepts the new one', async () => {
    const { organization, owner } = await createOrganization(app);
    const rotated = await app.inject({ method: 'POST', url: '/api/organization/rotate-code', headers: owner.headers });
    expect(rotated.statusCode).toBe(200);
    const { code, organization: updated } = rotated.json();
    expect(code).toMatch(CODE);
    expect(code).not.toBe(organization.code);
    expect(updated.code).toBe(code);

    const old = await app.inject({
      method: 'POST',
      url: '/api/register-doctor',
      payload: { ...registration(), organization_code: organization.code },
    });
    expect(old.statusCode).toBe(422);
    const fresh = await app.inject({
      method: 'POST',
      url: '/api/register-doctor',
      payload: { ...registration(), organization_code: code },
    });
    expect(fresh.statusCode).toBe(201);
  });
});

describe('POST /api/user/profile/join-organization', () => {
  it('lets a user without an organization join one as a doctor, once', async () => {
    const { organization } = await createOrganization(app);
    const { token } = await registerUser(app);
    const before = await app.inject({ method: 'GET', url: '/api/organization', headers: bearer(token) });
    expect(before.statusCode).toBe(403);
    expect(before.json().message).toContain("nécessite d'appartenir à une organisation");

    const join = () =>
      app.inject({
        method: 'POST',
        url: '/api/user/profile/join-organization',
        headers: bearer(token),
        payload: { organization_code: organization.code },
      });
    const res = await join();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Organisation rejointe avec succès',
      organization,
      user: { organization_id: organization.id, role: 'doctor' },
    });
    const after = await app.inject({ method: 'GET', url: '/api/organization', headers: bearer(token) });
    expect(after.json()).toEqual({ organization, role: 'doctor' });

    const twice = await join();
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ success: false, message: 'Vous appartenez déjà à une organisation.' });
  });

  it('refuses a wrong or rotated code with 422', async () => {
    const { organization, owner } = await createOrganization(app);
    await app.inject({ method: 'POST', url: '/api/organization/rotate-code', headers: owner.headers });
    const { token } = await registerUser(app);
    for (const code of ['ORG-WRONG', organization.code]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/user/profile/join-organization',
        headers: bearer(token),
        payload: { organization_code: code },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().error).toBe("Code d'organisation invalide.");
    }
  });

  it('refuses members of another organization with 409', async () => {
    const a = await createOrganization(app);
    const b = await createOrganization(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/user/profile/join-organization',
      headers: a.doctor.headers,
      payload: { organization_code: b.organization.code },
    });
    expect(res.statusCode).toBe(409);
  });
});

describe('the organization', () => {
  it('its owner renames it; a doctor may not', async () => {
    const { owner, doctor, organization } = await createOrganization(app);
    const byDoctor = await app.inject({
      method: 'PUT',
      url: '/api/organization',
      headers: doctor.headers,
      payload: { name: 'Hijacked' },
    });
    expect(byDoctor.statusCode).toBe(403);
    expect(byDoctor.json().message).toBe("Action réservée au propriétaire de l'organisation.");

    const res = await app.inject({
      method: 'PUT',
      url: '/api/organization',
      headers: owner.headers,
      payload: { name: 'Nouveau Nom de la Clinique' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Organisation mise à jour avec succès',
      organization: { id: organization.id, name: 'Nouveau Nom de la Clinique', code: organization.code },
    });
    const seen = await app.inject({ method: 'GET', url: '/api/organization', headers: doctor.headers });
    expect(seen.json()).toMatchObject({ organization: { name: 'Nouveau Nom de la Clinique' }, role: 'doctor' });
  });

  it('refuses an empty name with 422', async () => {
    const { owner } = await createOrganization(app);
    const res = await app.inject({
      method: 'PUT',
      url: '/api/organization',
      headers: owner.headers,
      payload: { name: '' },
    });
    expect(res.statusCode).toBe(422);
  });

  it('only its owner rotates the code', async () => {
    const { doctor, organization } = await createOrganization(app);
    const res = await app.inject({ method: 'POST', url: '/api/organization/rotate-code', headers: doctor.headers });
    expect(res.statusCode).toBe(403);
    const seen = await app.inject({ method: 'GET', url: '/api/organization', headers: doctor.headers });
    expect(seen.json().organization.code).toBe(organization.code);
  });

  it('each owner changes only their own organization', async () => {
    const a = await createOrganization(app, 'A');
    const b = await createOrganization(app, 'B');
    await app.inject({
      method: 'PUT',
      url: '/api/organization',
      headers: b.owner.headers,
      payload: { name: 'B renamed' },
    });
    await app.inject({ method: 'POST', url: '/api/organization/rotate-code', headers: b.owner.headers });
    const seenByA = (await app.inject({ method: 'GET', url: '/api/organization', headers: a.doctor.headers })).json();
    expect(seenByA.organization).toEqual(a.organization);
  });
});
