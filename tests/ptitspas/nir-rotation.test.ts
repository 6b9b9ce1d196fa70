import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { runCli } from '../helpers/cli.js';
import { testDb } from '../helpers/database.js';
import { ptitspasSuperAdmin, uniqueAgrement } from '../helpers/ptitspas.js';
import { VALID_NIR } from '../helpers/route-recipes.js';
import { TEST_NIR_KEYS } from '../helpers/urls.js';
import { uniqueEmail } from '../helpers/users.js';

// Rotation as docs/ptitspas.md describes it: a new key goes first in PTITSPAS_NIR_KEYS (the old
// ones stay, for reading), `ptitspas:rotate-nir-key` re-encrypts every NIR, then the old keys go.

const NEW_KEY = { id: 'test-3', key: Buffer.alloc(32, 3) };
const envKeys = (keys: Array<{ id: string; key: Buffer }>) =>
  keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

let app: App;
const owner = await testDb();
beforeAll(async () => {
  app = await buildTestApp();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const rotate = (keys: string) => runCli(['ptitspas:rotate-nir-key'], { env: { PTITSPAS_NIR_KEYS: keys } });

describe('NIR key rotation', () => {
  it('re-encrypts every NIR under the new key, after which the old keys can go', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/assistantes-maternelles',
      headers: admin.headers,
      payload: {
        email: uniqueEmail('am'),
        prenom: 'Marie',
        nom: 'Martin',
        numero_agrement: uniqueAgrement(),
        date_agrement: '2015-06-01',
        nir_chiffre: VALID_NIR,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id_utilisateur as string;
    const stored = () =>
      owner.db
        .selectFrom('ptitspas.assistantes_maternelles')
        .select(['nir_cle', 'nir_chiffre'])
        .where('id_utilisateur', '=', id)
        .executeTakeFirstOrThrow();
    const before = await stored();
    expect(before.nir_cle).toBe('test-2');

    // Without the key a row names, nothing is rewritten and the command says which key is missing.
    const missing = await rotate(envKeys([NEW_KEY]));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NIR key "test-2" is not configured');
    expect((await stored()).nir_cle).toBe('test-2');

    const rotated = await rotate(envKeys([NEW_KEY, ...TEST_NIR_KEYS]));
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout.split('\n').at(-1)).toMatch(/^[1-9]\d* NIR\(s\) re-encrypted under key test-3$/);
    const after = await stored();
    expect(after.nir_cle).toBe('test-3');
    expect(after.nir_chiffre).not.toEqual(before.nir_chiffre);
    expect((await rotate(envKeys([NEW_KEY, ...TEST_NIR_KEYS]))).stdout.split('\n').at(-1)).toBe(
      '0 NIR(s) re-encrypted under key test-3',
    );

    const renewed = await buildTestApp({ config: { nirKeys: [NEW_KEY] } });
    try {
      const read = await renewed.inject({
        url: `/api/v1/assistantes-maternelles/${id}`,
        headers: (await ptitspasSuperAdmin(renewed)).headers,
      });
      expect(read.statusCode).toBe(200);
      expect(read.json().nir_chiffre).toBe(VALID_NIR);
    } finally {
      await renewed.close();
    }
  });
});
