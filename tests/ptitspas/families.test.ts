import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NirCipher } from '../../domain/ptitspas/assistantes-maternelles/nir.js';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin, uniqueAgrement } from '../helpers/ptitspas.js';
import { VALID_NIR } from '../helpers/route-recipes.js';
import { TEST_NIR_KEYS } from '../helpers/urls.js';
import { uniqueEmail } from '../helpers/users.js';

// Parents and co-parents, children and who may see them, childminders and their NIR.

const logs: string[] = [];
let app: App;
let admin: PtitsPasAccount;
const owner = await testDb();

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  app = await buildTestApp({ logger: createLogger('trace', sink) });
  admin = await ptitspasSuperAdmin(app);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: PtitsPasAccount, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });
const coParentOf = async (id: string) =>
  (await owner.pool.query('select id_co_parent from ptitspas.parents where id_utilisateur = $1', [id])).rows[0]
    ?.id_co_parent as string | null;

describe('parents and co-parents', () => {
  it('links co-parents both ways at creation and on update, unlinks both ways, and relinks cleanly', async () => {
    const a = await ptitspasAccount(app, admin, 'parent');
    const created = await call('POST', '/parents', admin, {
      email: uniqueEmail('coparent'),
      prenom: 'Claire',
      nom: 'Dupont',
      telephone: '0605060708',
      id_co_parent: a.id,
    });
    expect(created.statusCode, created.body).toBe(201);
    const b = created.json().id_utilisateur as string;
    expect(created.json()).toMatchObject({ id_co_parent: a.id, utilisateur: { prenom: 'Claire', statut: 'actif' } });
    expect(await coParentOf(a.id)).toBe(b);

    const unlinked = await call('PATCH', `/parents/${a.id}`, admin, { id_co_parent: null });
    expect(unlinked.json().id_co_parent).toBeNull();
    expect(await coParentOf(b)).toBeNull();

    const c = await ptitspasAccount(app, admin, 'parent');
    expect((await call('PATCH', `/parents/${a.id}`, admin, { id_co_parent: b })).json().id_co_parent).toBe(b);
    // Relinking A to C leaves B alone, unlinked.
    const relinked = await call('PATCH', `/parents/${a.id}`, admin, { id_co_parent: c.id });
    expect(relinked.statusCode).toBe(200);
    expect([await coParentOf(a.id), await coParentOf(c.id), await coParentOf(b)]).toEqual([c.id, a.id, null]);
  });

  it('refuses oneself (400), a non-parent (400), and a parent who has another co-parent (409)', async () => {
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => ptitspasAccount(app, admin, 'parent')));
    const gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
    expect((await call('PATCH', `/parents/${a!.id}`, admin, { id_co_parent: a!.id })).statusCode).toBe(400);
    expect((await call('PATCH', `/parents/${a!.id}`, admin, { id_co_parent: gestionnaire.id })).statusCode).toBe(400);
    expect((await call('PATCH', `/parents/${b!.id}`, admin, { id_co_parent: c!.id })).statusCode).toBe(200);
    const taken = await call('PATCH', `/parents/${a!.id}`, admin, { id_co_parent: c!.id });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toEqual({ statusCode: 409, message: 'Ce parent a déjà un co-parent.', error: 'Conflict' });
    expect([await coParentOf(a!.id), await coParentOf(c!.id)]).toEqual([null, b!.id]);
    expect((await call('GET', `/parents/${gestionnaire.id}`, admin)).statusCode).toBe(404);
  });

  it('lists parents with the total in X-Total-Count, paged and searchable', async () => {
    const marker = `Famille${Date.now()}`;
    for (const prenom of ['Éloïse', 'Hugo', 'Inès']) {
      const res = await call('POST', '/parents', admin, { email: uniqueEmail('list'), prenom, nom: marker });
      expect(res.statusCode).toBe(201);
    }
    const page = await call('GET', `/parents?search=${marker}&limit=2&page=2&sort=prenom`, admin);
    expect(page.statusCode).toBe(200);
    expect(page.headers['x-total-count']).toBe('3');
    expect(page.json().map((p: { utilisateur: { prenom: string } }) => p.utilisateur.prenom)).toEqual(['Inès']);
    const eloise = await call('GET', `/parents?search=eloise%20${marker}`, admin);
    expect(eloise.json()).toHaveLength(1);
  });
});

describe('enfants', () => {
  let parent: PtitsPasAccount;
  let stranger: PtitsPasAccount;
  beforeAll(async () => {
    parent = await ptitspasAccount(app, admin, 'parent');
    stranger = await ptitspasAccount(app, admin, 'parent');
  });
  const child = { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2020-05-15' };

  it('requires genre H or F (v1.3) and a birth date not in the future', async () => {
    const { genre: _genre, ...withoutGenre } = child;
    expect((await call('POST', '/enfants', parent, withoutGenre)).json().message).toContain('genre');
    expect((await call('POST', '/enfants', parent, { ...child, genre: 'X' })).statusCode).toBe(400);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const future = await call('POST', '/enfants', parent, { ...child, date_naissance: tomorrow });
    expect(future.statusCode).toBe(400);
    expect(future.json().message).toContain('date_naissance');
  });

  it('makes the creating parent its parent; others get 404, the co-parent sees it while linked', async () => {
    const created = await call('POST', '/enfants', parent, child);
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect(created.json()).toEqual({ id, ...child, statut: 'actif', consentement_photo: false });
    const links = await owner.pool.query('select id_parent from ptitspas.enfants_parents where id_enfant = $1', [id]);
    expect(links.rows).toEqual([{ id_parent: parent.id }]);

    expect((await call('GET', `/enfants/${id}`, parent)).statusCode).toBe(200);
    const hidden = await call('GET', `/enfants/${id}`, stranger);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual({ statusCode: 404, message: 'Enfant non trouvé', error: 'Not Found' });
    const refused = await call('PATCH', `/enfants/${id}`, stranger, { consentement_photo: true });
    expect(refused.statusCode).toBe(404);
    const row = await owner.pool.query('select consentement_photo from ptitspas.enfants where id = $1', [id]);
    expect(row.rows).toEqual([{ consentement_photo: false }]);

    expect((await call('PATCH', `/parents/${parent.id}`, admin, { id_co_parent: stranger.id })).statusCode).toBe(200);
    expect((await call('GET', `/enfants/${id}`, stranger)).statusCode).toBe(200);
    const updated = await call('PATCH', `/enfants/${id}`, stranger, { statut: 'scolarise', consentement_photo: true });
    expect(updated.json()).toMatchObject({ statut: 'scolarise', consentement_photo: true });
    expect((await call('PATCH', `/parents/${parent.id}`, admin, { id_co_parent: null })).statusCode).toBe(200);
    expect((await call('GET', `/enfants/${id}`, stranger)).statusCode).toBe(404);
  });

  it('lets staff list, an administrateur update, a gestionnaire not update, a super_admin delete', async () => {
    const nom = `Enfant${Date.now()}`;
    const id = (await call('POST', '/enfants', parent, { ...child, prenom: 'Zoé', nom })).json().id as string;
    const listed = await call('GET', `/enfants?search=zoe%20${nom}&statut=actif`, admin);
    expect(listed.headers['x-total-count']).toBe('1');
    expect(listed.json()).toEqual([expect.objectContaining({ id, prenom: 'Zoé' })]);
    const administrateur = await ptitspasAccount(app, admin, 'administrateur');
    const gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
    expect((await call('PATCH', `/enfants/${id}`, administrateur, { statut: 'inactif' })).json().statut).toBe(
      'inactif',
    );
    expect((await call('PATCH', `/enfants/${id}`, gestionnaire, { statut: 'actif' })).statusCode).toBe(403);
    const deleted = await call('DELETE', `/enfants/${id}`, admin);
    expect(deleted.json()).toEqual({ message: 'Enfant supprimé' });
    expect((await call('GET', `/enfants/${id}`, admin)).statusCode).toBe(404);
  });
});

describe('assistantes maternelles', () => {
  const childminder = (extra: Record<string, unknown> = {}) => ({
    email: uniqueEmail('am'),
    prenom: 'Marie',
    nom: 'Martin',
    numero_agrement: uniqueAgrement(),
    date_agrement: '2015-06-01',
    nb_max_enfants: 4,
    ville_residence: 'Paris',
    ...extra,
  });

  it('keeps place_disponible between 0 and nb_max_enfants, against stored values too', async () => {
    expect(
      (await call('POST', '/assistantes-maternelles', admin, childminder({ place_disponible: 5 }))).statusCode,
    ).toBe(400);
    const created = await call('POST', '/assistantes-maternelles', admin, childminder({ place_disponible: 2 }));
    expect(created.statusCode).toBe(201);
    const id = created.json().id_utilisateur as string;
    expect((await call('PATCH', `/assistantes-maternelles/${id}`, admin, { place_disponible: 5 })).statusCode).toBe(
      400,
    );
    expect((await call('PATCH', `/assistantes-maternelles/${id}`, admin, { nb_max_enfants: 1 })).statusCode).toBe(400);
    for (const places of [0, 4]) {
      const res = await call('PATCH', `/assistantes-maternelles/${id}`, admin, { place_disponible: places });
      expect(res.json().place_disponible).toBe(places);
    }
  });

  it('requires a unique agreement number and an agreement date not in the future', async () => {
    const body = childminder();
    expect((await call('POST', '/assistantes-maternelles', admin, body)).statusCode).toBe(201);
    const twin = await call('POST', '/assistantes-maternelles', admin, {
      ...childminder(),
      numero_agrement: String(body.numero_agrement).toLowerCase(),
    });
    expect(twin.statusCode).toBe(409);
    const { date_agrement: _date, ...undated } = childminder();
    expect((await call('POST', '/assistantes-maternelles', admin, undated)).statusCode).toBe(400);
    expect(
      (await call('POST', '/assistantes-maternelles', admin, childminder({ date_agrement: '2999-01-01' }))).statusCode,
    ).toBe(400);
  });

  it('stores the NIR encrypted, shows it only in clear to the staff allowed, and never logs it', async () => {
    const invalid = await call(
      'POST',
      '/assistantes-maternelles',
      admin,
      childminder({ nir_chiffre: '185077512345609' }),
    );
    expect(invalid.statusCode).toBe(400);
    expect(invalid.body).not.toContain('185077512345609');

    logs.length = 0;
    const created = await call(
      'POST',
      '/assistantes-maternelles',
      admin,
      childminder({ nir_chiffre: '1 85 07 75 123 456 08' }),
    );
    expect(created.statusCode).toBe(201);
    const id = created.json().id_utilisateur as string;
    expect(created.json().nir_chiffre).toBe(VALID_NIR);
    const gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
    expect((await call('GET', `/assistantes-maternelles/${id}`, gestionnaire)).json().nir_chiffre).toBe(VALID_NIR);
    expect((await call('PATCH', `/assistantes-maternelles/${id}`, admin, { nir_chiffre: VALID_NIR })).statusCode).toBe(
      200,
    );
    // The parent and childminder roles do not reach the route at all.
    const am = await ptitspasAccount(app, admin, 'assistante_maternelle');
    expect((await call('GET', `/assistantes-maternelles/${id}`, am)).statusCode).toBe(403);

    const raw = await owner.pool.query<{ nir_chiffre: Buffer; nir_cle: string }>(
      'select nir_chiffre, nir_cle from ptitspas.assistantes_maternelles where id_utilisateur = $1',
      [id],
    );
    const { nir_chiffre: blob, nir_cle: key } = raw.rows[0]!;
    expect(key).toBe('test-2');
    expect(blob.toString('latin1')).not.toContain(VALID_NIR);
    expect(blob.toString('hex')).not.toContain(Buffer.from(VALID_NIR).toString('hex'));
    const cipher = new NirCipher(TEST_NIR_KEYS);
    expect(cipher.decrypt(blob, key, id)).toBe(VALID_NIR);
    // Bound to its row: the same ciphertext does not decrypt as another row's.
    expect(() => cipher.decrypt(blob, key, am.id)).toThrow();

    expect(logs.length).toBeGreaterThan(5);
    expect(logs.join('\n')).not.toMatch(/185077512345608|1 85 07 75 123 456 08/);

    const erased = await call('PATCH', `/assistantes-maternelles/${id}`, admin, { nir_chiffre: null });
    expect(erased.json().nir_chiffre).toBeNull();
    const cleared = await owner.pool.query(
      'select nir_chiffre, nir_cle from ptitspas.assistantes_maternelles where id_utilisateur = $1',
      [id],
    );
    expect(cleared.rows).toEqual([{ nir_chiffre: null, nir_cle: null }]);
  });

  it('reads a NIR encrypted under a retired key (rotation in progress)', async () => {
    const created = await call('POST', '/assistantes-maternelles', admin, childminder());
    const id = created.json().id_utilisateur as string;
    const old = new NirCipher([TEST_NIR_KEYS[1]!]).encrypt(VALID_NIR, id);
    await owner.pool.query(
      'update ptitspas.assistantes_maternelles set nir_chiffre = $2, nir_cle = $3 where id_utilisateur = $1',
      [id, old.nir_chiffre, old.nir_cle],
    );
    expect((await call('GET', `/assistantes-maternelles/${id}`, admin)).json().nir_chiffre).toBe(VALID_NIR);
  });

  it('lists with filters and X-Total-Count; an administrateur deletes one; another role’s id is 404', async () => {
    const ville = `Ville${Date.now()}`;
    for (const disponible of [true, false, true]) {
      const res = await call(
        'POST',
        '/assistantes-maternelles',
        admin,
        childminder({ ville_residence: ville, disponible }),
      );
      expect(res.statusCode).toBe(201);
    }
    const available = await call(
      'GET',
      `/assistantes-maternelles?ville_residence=${ville.toLowerCase()}&disponible=true&limit=1`,
      admin,
    );
    expect(available.headers['x-total-count']).toBe('2');
    expect(available.json()).toHaveLength(1);
    expect(available.json()[0]).toMatchObject({
      disponible: true,
      ville_residence: ville,
      utilisateur: { prenom: 'Marie' },
    });
    expect(available.json()[0]).not.toHaveProperty('nir_chiffre');

    const target = available.json()[0].id_utilisateur as string;
    const administrateur = await ptitspasAccount(app, admin, 'administrateur');
    const deleted = await call('DELETE', `/assistantes-maternelles/${target}`, administrateur);
    expect(deleted.json()).toEqual({ message: 'Assistante maternelle supprimée' });
    const gone = await owner.pool.query('select 1 from ptitspas.utilisateurs where id = $1', [target]);
    expect(gone.rows).toEqual([]);
    const parent = await ptitspasAccount(app, admin, 'parent');
    expect((await call('DELETE', `/assistantes-maternelles/${parent.id}`, admin)).statusCode).toBe(404);
  });
});
