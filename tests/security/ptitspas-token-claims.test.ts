import { hkdfSync, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { TEST_JWT_SECRET } from '../helpers/urls.js';
import { bearer } from '../helpers/users.js';

// A PtitsPas access token is only a PtitsPas token if it says so: signed with the right key is
// not enough, its audience and issuer must be present and be PtitsPas's.

let app: App;
let admin: PtitsPasAccount;
let familyId: string;
const owner = await testDb();

/** The key the server signs PtitsPas access tokens with (HKDF of JWT_SECRET, plugins/ptitspas/auth.ts). */
const PTITSPAS_KEY = Buffer.from(hkdfSync('sha256', TEST_JWT_SECRET, '', 'ptitspas access token', 32));

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  const family = await owner.pool.query<{ id: string }>(
    'select id from ptitspas.refresh_families where id_utilisateur = $1 and revoque_le is null limit 1',
    [admin.id],
  );
  familyId = family.rows[0]!.id;
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const me = (access: string) => app.inject({ url: '/api/v1/auth/me', headers: bearer(access) });

/** A token signed with the right key, holding exactly `claims` besides the caller's own. */
function forge(claims: Record<string, unknown>, { expires = true } = {}): string {
  const sign = createSigner({ key: PTITSPAS_KEY, algorithm: 'HS256', ...(expires ? { expiresIn: 60_000 } : {}) });
  return sign({ sub: admin.id, fid: familyId, role: admin.role, jti: randomUUID(), ...claims });
}

describe('issue 21 item 10: PtitsPas token without aud/iss', () => {
  it('a token the server signed still opens the account', async () => {
    const res = await me(admin.access);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: admin.id, role: 'super_admin' });
  });

  it('a token forged with the right key and the right claims is accepted (the forge is faithful)', async () => {
    const res = await me(forge({ aud: 'ptitspas', iss: 'ptitspas' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: admin.id });
  });

  it.each([
    ['without aud', { iss: 'ptitspas' }],
    ['without iss', { aud: 'ptitspas' }],
    ['without aud nor iss', {}],
    ['with another audience', { aud: 'medreport', iss: 'ptitspas' }],
    ['with another issuer', { aud: 'ptitspas', iss: 'medreport' }],
    ['with an audience list that is not PtitsPas’s', { aud: ['medreport'], iss: 'ptitspas' }],
  ])('a token %s is refused with 401 in the PtitsPas shape', async (_label, claims) => {
    const res = await me(forge(claims));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ statusCode: 401, message: 'Jeton invalide ou expiré.', error: 'Unauthorized' });
  });

  it('a token without expiry is refused with 401 in the PtitsPas shape', async () => {
    const res = await me(forge({ aud: 'ptitspas', iss: 'ptitspas' }, { expires: false }));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ statusCode: 401, message: 'Jeton invalide ou expiré.', error: 'Unauthorized' });
  });
});
