import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { childWithDossier } from '../helpers/ptitspas-files.js';

// The staff's whole lists of children and dossiers take X-Total-Count from the kept row counts
// (migration 0026): it must equal the rows after creates, deletes and a truncate; filtered lists and a parent's list still count their own matches.

let app: App;
let admin: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
let parent: PtitsPasAccount;
const owner = await testDb();

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  parent = await ptitspasAccount(app, admin, 'parent');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

/** X-Total-Count of `url` for `who`, and the rows of `table` counted. */
async function totals(who: PtitsPasAccount, url: string, table: 'enfants' | 'dossiers') {
  const res = await app.inject({ method: 'GET', url: `/api/v1${url}`, headers: who.headers });
  expect(res.statusCode, res.body).toBe(200);
  const { n } = await owner.db
    .selectFrom(`ptitspas.${table}`)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { listed: Number(res.headers['x-total-count']), rows: Number(n) };
}

async function newChild(prenom: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/enfants',
    headers: parent.headers,
    payload: { prenom, nom: 'Compté', genre: 'F', date_naissance: '2024-05-01' },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

describe('X-Total-Count of the staff’s whole lists', () => {
  it('follows the children and dossiers created and deleted', async () => {
    expect(await totals(gestionnaire, '/enfants?limit=1', 'enfants')).toEqual({ listed: 0, rows: 0 });
    const children = [await newChild('Anna'), await newChild('Basile')];
    await childWithDossier(app, parent, 'brouillon');
    await childWithDossier(app, parent, 'soumis');
    expect(await totals(gestionnaire, '/enfants?limit=1', 'enfants')).toEqual({ listed: 4, rows: 4 });
    expect(await totals(gestionnaire, '/dossiers?limit=1', 'dossiers')).toEqual({ listed: 2, rows: 2 });
    // Filtered or searched, and a parent's own list, count their matches.
    expect((await totals(gestionnaire, '/dossiers?statut=soumis', 'dossiers')).listed).toBe(1);
    expect((await totals(gestionnaire, '/enfants?search=anna', 'enfants')).listed).toBe(1);
    const other = await ptitspasAccount(app, admin, 'parent');
    expect((await totals(other, '/dossiers', 'dossiers')).listed).toBe(0);

    const deleted = await app.inject({
      method: 'DELETE',
      url: `/api/v1/enfants/${children[0]}`,
      headers: admin.headers,
    });
    expect(deleted.statusCode, deleted.body).toBe(200);
    const [withDossier] = await owner.db.selectFrom('ptitspas.dossiers').select('id_enfant').limit(1).execute();
    await owner.db.deleteFrom('ptitspas.dossiers_pieces').where('id_enfant', '=', withDossier!.id_enfant).execute();
    await owner.db.deleteFrom('ptitspas.dossiers').where('id_enfant', '=', withDossier!.id_enfant).execute();
    expect(await totals(gestionnaire, '/enfants?limit=1', 'enfants')).toEqual({ listed: 3, rows: 3 });
    expect(await totals(gestionnaire, '/dossiers?limit=1', 'dossiers')).toEqual({ listed: 1, rows: 1 });

    // A page past the end still says how many there are.
    const far = await app.inject({ method: 'GET', url: '/api/v1/enfants?page=5', headers: gestionnaire.headers });
    expect(far.json()).toEqual([]);
    expect(far.headers['x-total-count']).toBe('3');
  });

  it('goes back to 0 when the table is emptied at once', async () => {
    await sql`truncate ptitspas.enfants cascade`.execute(owner.db);
    expect(await totals(gestionnaire, '/enfants?limit=1', 'enfants')).toEqual({ listed: 0, rows: 0 });
    expect(await totals(gestionnaire, '/dossiers?limit=1', 'dossiers')).toEqual({ listed: 0, rows: 0 });
  });
});
