import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { ptitspasAccount, ptitspasSuperAdmin, registration } from '../helpers/ptitspas.js';
import { postUpload } from '../helpers/ptitspas-files.js';
import { uniqueEmail } from '../helpers/users.js';

// Counters live in the app: each address below is used by one test only.
let app: App;
beforeAll(async () => {
  app = await buildTestApp({ config: { rateLimits: true } });
});
afterAll(() => app.close());

const expectLimited = (res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
  expect(res.statusCode).toBe(429);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.json()).toEqual({
    statusCode: 429,
    message: expect.stringContaining('Trop de requêtes'),
    error: 'Too Many Requests',
  });
};

describe('PtitsPas rate limits', () => {
  it('100 requests a minute per address on public routes; the 101st gets 429 in the PtitsPas shape', async () => {
    const hello = (remoteAddress: string) => app.inject({ url: '/api/v1/hello', remoteAddress });
    for (let i = 1; i <= 100; i++) expect((await hello('10.0.0.1')).statusCode).toBe(200);
    expectLimited(await hello('10.0.0.1'));
    expect((await hello('10.0.0.2')).statusCode).toBe(200);
  });

  it('100 requests a minute per account once authenticated, whatever the address', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const parent = await ptitspasAccount(app, admin, 'parent');
    const me = (headers: Record<string, string>, i: number) =>
      app.inject({ url: '/api/v1/auth/me', headers, remoteAddress: `10.1.${Math.floor(i / 200)}.${i % 200}` });
    for (let i = 1; i <= 100; i++) expect((await me(parent.headers, i)).statusCode).toBe(200);
    expectLimited(await me(parent.headers, 101));
    expect((await me(admin.headers, 1)).statusCode).toBe(200);
  });

  it('10 logins a minute per address (each costs a password hash)', async () => {
    const login = () =>
      app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.2.0.1',
        payload: { email: uniqueEmail(), password: 'whatever1' },
      });
    for (let i = 1; i <= 10; i++) expect((await login()).statusCode).toBe(401);
    expectLimited(await login());
  });

  it('10 registrations an hour per address; one refused for its form does not count', async () => {
    const register = (payload: object) =>
      app.inject({ method: 'POST', url: '/api/v1/auth/register', remoteAddress: '10.2.0.7', payload });
    const { numero_agrement: _missing, ...withoutAgrement } = registration('assistante_maternelle');
    for (const mistake of [{ ...registration('parent'), email: 'pas un e-mail' }, withoutAgrement]) {
      expect((await register(mistake)).statusCode).toBe(400);
    }
    for (let i = 1; i <= 10; i++) expect((await register(registration('parent'))).statusCode).toBe(201);
    expectLimited(await register(registration('parent')));
  });

  it('60 uploads an hour per account (storage is shared by everyone); another account still uploads', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const parent = await ptitspasAccount(app, admin, 'parent');
    for (let i = 1; i <= 60; i++) expect((await postUpload(app, parent)).statusCode).toBe(201);
    expectLimited(await postUpload(app, parent));
    expect((await postUpload(app, admin)).statusCode).toBe(201);
    const { rows } = await app.pool.query('select count(*)::int as n from ptitspas.uploads where id_auteur = $1', [
      parent.id,
    ]);
    expect(rows[0].n).toBe(60);
  });

  it('RATE_LIMITS=off lifts them', async () => {
    const open = await buildTestApp({ config: { rateLimits: false } });
    try {
      for (let i = 1; i <= 110; i++) {
        expect((await open.inject({ url: '/api/v1/hello', remoteAddress: '10.3.0.1' })).statusCode).toBe(200);
      }
    } finally {
      await open.close();
    }
  });
});
