import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneExpiredPasswordResets } from '../domain/medreport/accounts/password-resets.js';
import { pruneExpiredLinks } from '../domain/ptitspas/accounts/links.js';
import type { App } from '../src/app.js';
import { buildTestApp } from './helpers/app.js';
import { testDb } from './helpers/database.js';
import { ptitspasSuperAdmin } from './helpers/ptitspas.js';

// The hourly cluster jobs that remove what can no longer open anything (plugins/jobs.ts runs them).
// Other test files' servers share the database and may run the same job meanwhile: the tests
// check what is left, not who removed it.

let app: App;
const owner = await testDb();
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

describe('housekeeping jobs', () => {
  it('remove PtitsPas set-password links past their expiry, used or not, and keep live ones', async () => {
    const { id } = await ptitspasSuperAdmin(app);
    const link = (expiresIn: string, used: boolean) =>
      owner.pool.query(
        `insert into ptitspas.liens_mot_de_passe (token_hash, id_utilisateur, expire_le, utilise_le)
         values ($1, $2, now() + $3::interval, ${used ? 'now()' : 'null'}) returning token_hash`,
        [randomBytes(32), id, expiresIn],
      );
    await link('-1 day', false);
    await link('-1 minute', true);
    const live = (await link('7 days', false)).rows[0].token_hash as Buffer;
    expect(await pruneExpiredLinks(app.systemDb)).toBe(2);
    const { rows } = await owner.pool.query(
      'select token_hash from ptitspas.liens_mot_de_passe where id_utilisateur = $1',
      [id],
    );
    expect(rows.map((r) => (r.token_hash as Buffer).toString('hex'))).toEqual([live.toString('hex')]);
  });

  it('remove MedReport password reset tokens past their expiry, and keep live ones', async () => {
    const { rows: users } = await owner.pool.query(
      `insert into medreport.users (uuid, name, email) values ($1, 'Reset', $2) returning id`,
      [randomUUID(), `reset-${randomUUID()}@example.com`],
    );
    const userId = users[0].id as number;
    for (const [hash, expiresIn] of [
      ['a'.repeat(64), '-2 hours'],
      ['b'.repeat(64), '30 minutes'],
    ]) {
      await owner.pool.query(
        `insert into medreport.password_resets (user_id, token_hash, expires_at) values ($1, $2, now() + $3::interval)`,
        [userId, hash, expiresIn],
      );
    }
    expect(await pruneExpiredPasswordResets(app.systemDb)).toBe(1);
    const { rows } = await owner.pool.query('select token_hash from medreport.password_resets where user_id = $1', [
      userId,
    ]);
    expect(rows).toEqual([{ token_hash: 'b'.repeat(64) }]);
  });
});
