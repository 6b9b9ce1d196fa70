import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { bearer, registration, uniqueEmail } from '../helpers/users.js';

// Each test gets a fresh app: counters live in the app (or in Redis with REDIS_URL).
let app: App;
beforeAll(async () => {
  app = await buildTestApp({ config: { rateLimits: true } });
});
afterAll(() => app.close());

describe('rate limits', () => {
  it('POST /api/login: the 6th attempt within a minute from one address gets 429 with Retry-After', async () => {
    const attempt = () =>
      app.inject({ method: 'POST', url: '/api/login', payload: { email: uniqueEmail(), password: 'whatever1' } });
    for (let i = 1; i <= 5; i++) expect((await attempt()).statusCode).toBe(401);
    const sixth = await attempt();
    expect(sixth.statusCode).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(sixth.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(sixth.json()).toMatchObject({ success: false, message: expect.stringContaining('Trop de requêtes') });

    // Another address is not affected.
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/api/login',
      remoteAddress: '10.1.2.3',
      payload: { email: uniqueEmail(), password: 'whatever1' },
    });
    expect(elsewhere.statusCode).toBe(401);
  });

  it('POST /api/register: 3 an hour from one address', async () => {
    const register = () =>
      app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.9.9.9', payload: registration() });
    for (let i = 1; i <= 3; i++) expect((await register()).statusCode).toBe(201);
    const fourth = await register();
    expect(fourth.statusCode).toBe(429);
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(60 * 59);
  });

  it('POST /api/register: a mistake in the form does not spend the limit, a well-formed attempt does', async () => {
    const send = (payload: object) =>
      app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.9.9.10', payload });
    const mistakes = [
      { ...registration(), email: 'not an e-mail' },
      { ...registration(), password_confirmation: 'something else' },
      { ...registration(), birth_date: '2999-01-01' },
      { ...registration(), name: undefined },
    ];
    for (const payload of mistakes) expect((await send(payload)).statusCode).toBe(422);
    const taken = registration();
    expect((await send(taken)).statusCode).toBe(201);
    // An address already taken is found in the database: it counts (or the limit would not slow enumeration).
    const duplicate = await send({ ...registration(), email: taken.email });
    expect(duplicate.statusCode).toBe(422);
    expect(duplicate.json().errors).toHaveProperty('email');
    expect((await send(registration())).statusCode).toBe(201);
    expect((await send(registration())).statusCode).toBe(429);
  });

  it('register, register-owner and register-doctor share the 3-an-hour counter', async () => {
    const ip = '10.4.4.4';
    const owner = await app.inject({
      method: 'POST',
      url: '/api/register-owner',
      remoteAddress: ip,
      payload: { ...registration(), organization_name: 'Clinique' },
    });
    expect(owner.statusCode).toBe(201);
    const code = owner.json().organization.code;
    const doctor = () =>
      app.inject({
        method: 'POST',
        url: '/api/register-doctor',
        remoteAddress: ip,
        payload: { ...registration(), organization_code: code },
      });
    expect((await doctor()).statusCode).toBe(201);
    expect(
      (await app.inject({ method: 'POST', url: '/api/register', remoteAddress: ip, payload: registration() }))
        .statusCode,
    ).toBe(201);
    expect((await doctor()).statusCode).toBe(429);
  });

  it('joining an organization: 10 code attempts an hour per user', async () => {
    const { token } = (
      await app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.5.5.5', payload: registration() })
    ).json();
    const attempt = () =>
      app.inject({
        method: 'POST',
        url: '/api/user/profile/join-organization',
        headers: bearer(token),
        payload: { organization_code: 'ORG-GUESS' },
      });
    for (let i = 0; i < 10; i++) expect((await attempt()).statusCode).toBe(422);
    expect((await attempt()).statusCode).toBe(429);
  });

  it('the authenticated API: 120 requests a minute per user', async () => {
    const { token } = (
      await app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.7.7.7', payload: registration() })
    ).json();
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++) {
      statuses.push((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode);
    }
    expect(statuses.slice(0, 120).every((s) => s === 200)).toBe(true);
    expect(statuses[120]).toBe(429);

    // Counted per user: someone else on the same address still gets through.
    const other = (
      await app.inject({ method: 'POST', url: '/api/register', remoteAddress: '10.7.7.8', payload: registration() })
    ).json();
    expect((await app.inject({ method: 'GET', url: '/api/user', headers: bearer(other.token) })).statusCode).toBe(200);
  });

  it('RATE_LIMITS=off lifts every limit', async () => {
    const open = await buildTestApp({ config: { rateLimits: false } });
    try {
      for (let i = 0; i < 8; i++) {
        const res = await open.inject({
          method: 'POST',
          url: '/api/login',
          payload: { email: uniqueEmail(), password: 'whatever1' },
        });
        expect(res.statusCode).toBe(401);
      }
    } finally {
      await open.close();
    }
  });
});
