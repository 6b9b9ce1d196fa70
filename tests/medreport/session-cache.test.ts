import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { terminateListeners, testDb } from '../helpers/database.js';
import { eventually } from '../helpers/poll.js';
import { tokenClaims } from '../helpers/urls.js';
import { bearer, registerUser } from '../helpers/users.js';

// Two server instances on one database, as behind a load balancer. Each keeps verified sessions
// in process; a change made through one must reach the other at once.

let a: App;
let b: App;
const owner = await testDb();

beforeAll(async () => {
  a = await buildTestApp();
  b = await buildTestApp();
});
afterAll(async () => {
  await a.close();
  await b.close();
  await owner.db.destroy();
});

const me = (app: App, token: string) => app.inject({ method: 'GET', url: '/api/user', headers: bearer(token) });

/** Until `app` answers `status` for the token (the 100 ms bound is `npm run cluster:test`'s). */
const until = (app: App, token: string, status: number) =>
  eventually(
    () => me(app, token),
    (res) => res.statusCode === status,
  );

describe('the session cache across instances', () => {
  it('serves a warm session from memory', async () => {
    const { token } = await registerUser(a);
    expect((await me(b, token)).statusCode).toBe(200);
    expect(b.sessionCache.get(token)).toBeDefined();
  });

  it('instance B refuses a token once it hears of its logout on instance A', async () => {
    const { token } = await registerUser(a);
    expect((await me(b, token)).statusCode).toBe(200); // warm on B
    const logout = await a.inject({ method: 'POST', url: '/api/logout', headers: bearer(token) });
    expect(logout.statusCode).toBe(200);
    await until(b, token, 401);
  });

  it('a change to the user made elsewhere (suspension by SQL) reaches both instances', async () => {
    const { token, user } = await registerUser(a);
    expect((await me(a, token)).statusCode).toBe(200);
    expect((await me(b, token)).statusCode).toBe(200);
    await owner.db.updateTable('medreport.users').set({ status: 'suspended' }).where('id', '=', user.id).execute();
    await until(a, token, 403);
    await until(b, token, 403);
  });

  it('while its notification connection is down, an instance asks the database every time', async () => {
    const { token } = await registerUser(a);
    expect((await me(b, token)).statusCode).toBe(200);
    await terminateListeners();
    await eventually(() => !b.sessionCache.enabled);
    expect(b.sessionCache.enabled).toBe(false);
    // Revoked while nobody listens: no notification will ever come, and yet the next request sees it.
    await owner.pool.query('update medreport.sessions set revoked_at = now() where id = $1', [
      tokenClaims<{ sid: string }>(token).sid,
    ]);
    const refused = await me(b, token);
    expect(refused.statusCode).toBe(401);
    // The connection comes back by itself, and the cache with it (empty).
    await eventually(() => b.sessionCache.enabled);
    expect(b.sessionCache.enabled).toBe(true);
    expect((await me(b, token)).statusCode).toBe(401);
  });
});
