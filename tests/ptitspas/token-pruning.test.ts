import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneRefreshTokens } from '../../domain/ptitspas/accounts/tokens.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { ptitspasLogin, ptitspasSuperAdmin } from '../helpers/ptitspas.js';

let app: App;
const owner = await testDb();
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const familyOf = async (refresh: string) =>
  (
    await owner.pool.query(
      `select id_famille from ptitspas.refresh_tokens where token_hash = sha256(convert_to($1, 'UTF8'))`,
      [refresh],
    )
  ).rows[0]?.id_famille as string | undefined;

describe('pruning expired refresh tokens', () => {
  it('removes tokens past their expiry and families left without a live token, and keeps live ones', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const old = await ptitspasLogin(app, admin.email);
    const oldFamily = (await familyOf(old.refresh))!;
    const liveFamily = (await familyOf(admin.refresh))!;
    // The old login as it is 31 days on: its token expired a day ago.
    await owner.pool.query(`update ptitspas.refresh_families set cree_le = now() - interval '31 days' where id = $1`, [
      oldFamily,
    ]);
    await owner.pool.query(
      `update ptitspas.refresh_tokens set expire_le = now() - interval '1 day' where id_famille = $1`,
      [oldFamily],
    );

    expect(await pruneRefreshTokens(app.systemDb)).toBe(1);

    const families = await owner.pool.query('select id from ptitspas.refresh_families where id = any($1)', [
      [oldFamily, liveFamily],
    ]);
    expect(families.rows.map((r) => r.id)).toEqual([liveFamily]);
    const refreshed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: admin.refresh },
    });
    expect(refreshed.statusCode).toBe(200);
    expect(await pruneRefreshTokens(app.systemDb)).toBe(0);
  });
});
