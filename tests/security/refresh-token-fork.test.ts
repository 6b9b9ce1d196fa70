import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasLogin, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { bearer } from '../helpers/users.js';

let app: App;
let admin: PtitsPasAccount;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const refresh = (token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refresh_token: token } });
const me = (access: string) => app.inject({ url: '/api/v1/auth/me', headers: bearer(access) });

describe('issue 21 item 6: a stolen refresh token replayed within the grace window', () => {
  it('forks the login at most until either branch is used again: then the whole login is revoked', async () => {
    const victim = await ptitspasLogin(app, admin.email);
    const stolen = victim.refresh;
    // The victim's app refreshes; the attacker replays the stolen token seconds later.
    const victimPair = (await refresh(stolen)).json();
    const attacker = await refresh(stolen);
    expect(attacker.statusCode).toBe(200);
    const attackerPair = attacker.json();

    // The victim presents the successor it holds: that successor was superseded by the replay,
    // so two parties hold this login. Both branches die.
    const victimNext = await refresh(victimPair.refresh_token);
    expect(victimNext.statusCode).toBe(401);
    expect(victimNext.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    expect((await refresh(attackerPair.refresh_token)).statusCode).toBe(401);
    expect((await me(attackerPair.access_token)).statusCode).toBe(401);
    expect((await me(victimPair.access_token)).statusCode).toBe(401);

    const family = await owner.pool.query(
      `select f.revoque_le, f.motif_revocation from ptitspas.refresh_families f
         join ptitspas.refresh_tokens t on t.id_famille = f.id
        where t.token_hash = sha256(convert_to($1, 'UTF8'))`,
      [stolen],
    );
    expect(family.rows).toHaveLength(1);
    expect(family.rows[0].revoque_le).not.toBeNull();
    expect(family.rows[0].motif_revocation).toBe('reuse');
  });

  it('still lets a client that lost the answer retry with the same token', async () => {
    const login = await ptitspasLogin(app, admin.email);
    await refresh(login.refresh); // answer lost on the way back
    const retried = await refresh(login.refresh);
    expect(retried.statusCode).toBe(200);
    const again = await refresh(retried.json().refresh_token);
    expect(again.statusCode).toBe(200);
    expect((await me(again.json().access_token)).statusCode).toBe(200);
  });
});
