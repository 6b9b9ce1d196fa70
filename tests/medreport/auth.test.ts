import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
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

const USER_FIELDS = [
  'id',
  'uuid',
  'name',
  'email',
  'phone',
  'address',
  'birth_date',
  'speciality',
  'medical_order_number',
  'role',
  'roles',
  'organization_id',
  'has_used_trial',
  'avatar',
  'avatar_url',
  'email_verified_at',
  'created_at',
  'updated_at',
].sort();

describe('POST /api/register', () => {
  it('creates the account and answers 201 with the whole user and a working token', async () => {
    const body = registration({
      name: 'John Doe',
      email: uniqueEmail('John.Doe'),
      phone: '+237600000000',
      address: 'Yaoundé, Cameroun',
      speciality: 'Cardiologie',
      medical_order_number: '12345',
    });
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: body });
    expect(res.statusCode).toBe(201);
    const json = res.json();
    expect(json).toMatchObject({ success: true, message: 'Utilisateur créé avec succès', token: expect.any(String) });
    expect(Object.keys(json.user).sort()).toEqual(USER_FIELDS);
    expect(json.user).toMatchObject({
      id: expect.any(Number),
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'John Doe',
      email: body.email.toLowerCase(),
      phone: '+237600000000',
      address: 'Yaoundé, Cameroun',
      birth_date: '1985-04-12',
      speciality: 'Cardiologie',
      medical_order_number: '12345',
      role: null,
      organization_id: null,
      has_used_trial: false,
      avatar: null,
      email_verified_at: null,
    });
    expect(new Date(json.user.created_at).toISOString()).toBe(json.user.created_at);
    expect(res.body).not.toContain('password');

    const me = await app.inject({ method: 'GET', url: '/api/user', headers: bearer(json.token) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(json.user);
  });

  it('stores the password as an argon2id hash', async () => {
    const { user } = await registerUser(app);
    const row = await handle.db
      .selectFrom('medreport.users')
      .select('password_hash')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('refuses an e-mail already taken, whatever its case, with a field error', async () => {
    const { email } = await registerUser(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/register',
      payload: registration({ email: email.toUpperCase() }),
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ success: false, errors: { email: [expect.stringContaining('déjà utilisée')] } });
  });

  it('refuses missing fields with 422 naming each', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: { email: 'not-an-email' } });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors).sort()).toEqual(
      ['birth_date', 'email', 'name', 'password', 'password_confirmation'].sort(),
    );
  });

  it.each([
    [{ password: 'short', password_confirmation: 'short' }, 'password'],
    [{ password_confirmation: 'something else' }, 'password'],
    [{ birth_date: '2999-01-01' }, 'birth_date'],
    [{ birth_date: '1990-02-30' }, 'birth_date'],
    [{ birth_date: 'yesterday' }, 'birth_date'],
  ])('refuses %j on %s', async (overrides, field) => {
    const res = await app.inject({ method: 'POST', url: '/api/register', payload: registration(overrides) });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors)).toEqual([field]);
  });
});

describe('POST /api/login', () => {
  it('answers the token and the user', async () => {
    const { email, user } = await registerUser(app);
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ success: true, message: 'Connexion réussie', token: expect.any(String), user });
  });

  it('accepts the e-mail in another case', async () => {
    const { email } = await registerUser(app);
    const res = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email: ` ${email.toUpperCase()} `, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers 401 to a wrong password and to an unknown e-mail, alike', async () => {
    const { email } = await registerUser(app);
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email, password: 'wrong-password' },
    });
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toMatchObject({ success: false, message: 'Identifiants invalides.' });
  });

  it('answers 422 without a password', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { email: 'a@b.cd' } });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors).toHaveProperty('password');
  });
});

describe('tokens and sessions', () => {
  it('GET /api/me answers the user, no organization yet, and the role', async () => {
    const { token, user } = await registerUser(app);
    const res = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user, organization: null, role: null });
  });

  it.each([
    ['no token', {}],
    ['a garbage token', bearer('garbage')],
    ['a token signed with another key', bearer('eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiJ4Iiwic3ViIjoieSJ9.c2lnbmF0dXJl')],
    ['a non-bearer scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('answers 401 with %s', async (_label, headers) => {
    const res = await app.inject({ method: 'GET', url: '/api/user', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, message: expect.any(String) });
  });

  it('logout revokes the token: the same token then gets 401', async () => {
    const { token } = await registerUser(app);
    const out = await app.inject({ method: 'POST', url: '/api/logout', headers: bearer(token) });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ success: true, message: 'Déconnexion réussie' });
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/logout', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('logout ends only that session', async () => {
    const { token, email } = await registerUser(app);
    const other = (
      await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } })
    ).json().token;
    await app.inject({ method: 'POST', url: '/api/logout', headers: bearer(token) });
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(other) })).statusCode).toBe(200);
  });

  it('refresh returns a new working token and revokes the old one', async () => {
    const { token } = await registerUser(app);
    const res = await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    const { token: fresh } = res.json();
    expect(Object.keys(res.json())).toEqual(['token']);
    expect(fresh).not.toBe(token);
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(fresh) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/auth/refresh', headers: bearer(token) })).statusCode).toBe(
      401,
    );
  });

  it('an expired session gets 401 even while the JWT itself is still valid', async () => {
    const { token, user } = await registerUser(app);
    await handle.db
      .updateTable('medreport.sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('an expired JWT gets 401', async () => {
    const short = await buildTestApp({ config: { accessTokenTtlSeconds: 1 } });
    try {
      const { token } = await registerUser(short);
      await new Promise((r) => setTimeout(r, 2100));
      const res = await short.inject({ method: 'GET', url: '/api/user', headers: bearer(token) });
      expect(res.statusCode).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('a suspended account can neither log in nor use its tokens', async () => {
    const { token, email, user } = await registerUser(app);
    await handle.db.updateTable('medreport.users').set({ status: 'suspended' }).where('id', '=', user.id).execute();
    const login = await app.inject({ method: 'POST', url: '/api/login', payload: { email, password: PASSWORD } });
    expect(login.statusCode).toBe(403);
    expect(login.json().message).toBe('Ce compte est suspendu.');
    const use = await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) });
    expect(use.statusCode).toBe(403);
  });
});
