import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { terminateListeners, testDb } from '../helpers/database.js';
import { eventually } from '../helpers/poll.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { tokenClaims } from '../helpers/urls.js';

// Two server instances on one database, as behind a load balancer. Each keeps the callers of live
// PtitsPas logins in process (plugins/ptitspas/caller-cache.ts), so GET /auth/me costs no query;
// a logout, a suspension or a profile change made anywhere must reach both.

let a: App;
let b: App;
let admin: PtitsPasAccount;
const owner = await testDb();

beforeAll(async () => {
  a = await buildTestApp();
  b = await buildTestApp();
  admin = await ptitspasSuperAdmin(a);
});
afterAll(async () => {
  await a.close();
  await b.close();
  await owner.db.destroy();
});

const me = (app: App, account: PtitsPasAccount) =>
  app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: account.headers });

/** The first answer of `app` to GET /auth/me that `accepts`, polling every 2 ms (a hang guard of 5 s, not a bound). */
const until = (app: App, account: PtitsPasAccount, accepts: (res: Awaited<ReturnType<typeof me>>) => boolean) =>
  eventually(() => me(app, account), accepts);

const fidOf = (account: PtitsPasAccount) => tokenClaims<{ fid: string }>(account.access).fid;

describe('the PtitsPas caller cache across instances', () => {
  it('answers a warm GET /auth/me without a query', async () => {
    const parent = await ptitspasAccount(a, admin, 'parent');
    // Warm: B's answer is stored once the announcements of the account's creation through A have
    // reached B (an answer whose lookup an announcement overtook is not kept); on a busy machine
    // that takes more than one request.
    await eventually(
      () => me(b, parent),
      (res) => res.statusCode === 200 && b.ptitspasCallerCache.get(parent.access) !== undefined,
    );
    const queries = vi.spyOn(b.pool, 'query');
    try {
      const res = await me(b, parent);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: parent.id, role: 'parent', statut: 'actif' });
      expect(queries).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
    }
    expect(b.ptitspasCallerCache.get(parent.access)).toMatchObject({ caller: { id: parent.id } });
  });

  it('a logout through A is refused by A at once and by B as soon as B hears of it', async () => {
    const parent = await ptitspasAccount(a, admin, 'parent');
    expect((await me(a, parent)).statusCode).toBe(200);
    expect((await me(b, parent)).statusCode).toBe(200);
    const out = await a.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: parent.headers,
      payload: { refresh_token: parent.refresh },
    });
    expect(out.statusCode, out.body).toBe(200);
    // A wrote the revocation itself: its very next request sees it.
    const onA = await me(a, parent);
    expect(onA.statusCode).toBe(401);
    expect(onA.json()).toMatchObject({ statusCode: 401, message: 'Session expirée ou révoquée.' });
    expect((await until(b, parent, (res) => res.statusCode !== 200)).statusCode).toBe(401);
  });

  it('a suspension and a new name written elsewhere (SQL) reach both instances', async () => {
    const parent = await ptitspasAccount(a, admin, 'parent');
    const other = await ptitspasAccount(a, admin, 'parent');
    for (const app of [a, b]) for (const who of [parent, other]) expect((await me(app, who)).statusCode).toBe(200);
    await owner.db
      .updateTable('ptitspas.utilisateurs')
      .set({ prenom: 'Renommée' })
      .where('id', '=', other.id)
      .execute();
    await owner.db
      .updateTable('ptitspas.utilisateurs')
      .set({ statut: 'suspendu' })
      .where('id', '=', parent.id)
      .execute();
    for (const app of [a, b]) {
      const renamed = await until(app, other, (res) => res.json().prenom === 'Renommée');
      expect(renamed.statusCode).toBe(200);
      expect((await until(app, parent, (res) => res.statusCode !== 200)).statusCode).toBe(403);
    }
  });

  it('while its notification connection is down, an instance asks the database every time', async () => {
    const parent = await ptitspasAccount(a, admin, 'parent');
    expect((await me(b, parent)).statusCode).toBe(200);
    await terminateListeners();
    await eventually(() => !b.ptitspasCallerCache.enabled);
    expect(b.ptitspasCallerCache.enabled).toBe(false);
    // Revoked while nobody listens: no notification will ever come, and yet the next request sees it.
    await owner.db
      .updateTable('ptitspas.refresh_families')
      .set({ revoque_le: new Date() })
      .where('id', '=', fidOf(parent))
      .execute();
    expect((await me(b, parent)).statusCode).toBe(401);
    // The connection comes back by itself, and the cache with it (empty).
    await eventually(() => b.ptitspasCallerCache.enabled);
    expect(b.ptitspasCallerCache.enabled).toBe(true);
    expect(b.ptitspasCallerCache.size).toBe(0);
  });
});
