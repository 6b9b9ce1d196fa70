import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PtitsPasRole } from '../../db/schema.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import {
  PTITSPAS_PASSWORD,
  type PtitsPasAccount,
  ptitspasAccount,
  ptitspasLogin,
  ptitspasSuperAdmin,
  registration,
} from '../helpers/ptitspas.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { uniqueEmail } from '../helpers/users.js';

const SET_PASSWORD_URL = 'ptitspas://definir-mot-de-passe';
const SUMMARY_KEYS = ['cree_le', 'email', 'id', 'nom', 'prenom', 'role', 'statut'];
const DETAIL_KEYS = [...SUMMARY_KEYS, 'adresse', 'telephone'].sort();

let app: App;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let admin: PtitsPasAccount;
const owner = await testDb();

beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await buildTestApp({ config: { smtpUrl: smtp.url, ptitspasSetPasswordUrl: SET_PASSWORD_URL } });
  admin = await ptitspasSuperAdmin(app);
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await owner.db.destroy();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (who: PtitsPasAccount, method: Method, url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });

/** A word no other account has, to isolate a test's accounts in the shared lists. */
const marker = () => `Lot${randomBytes(4).toString('hex')}`;

const row = (id: string) =>
  owner.db.selectFrom('ptitspas.utilisateurs').selectAll().where('id', '=', id).executeTakeFirst();
const history = (id: string) =>
  owner.db
    .selectFrom('ptitspas.historique_statuts')
    .select(['ancien_statut', 'nouveau_statut', 'commentaire', 'par'])
    .where('id_utilisateur', '=', id)
    .orderBy('id')
    .execute();
const countWhere = async (column: 'role' | 'statut', value: string) =>
  Number(
    (
      await owner.db
        .selectFrom('ptitspas.utilisateurs')
        .select((eb) => eb.fn.countAll().as('n'))
        .where(column, '=', value as never)
        .executeTakeFirstOrThrow()
    ).n,
  );

/** A staff account made by the super admin (POST /users); returns its id and e-mail. */
async function staff(role: 'super_admin' | 'administrateur' | 'gestionnaire', extra: Record<string, unknown> = {}) {
  const email = uniqueEmail(role.slice(0, 5));
  const res = await call(admin, 'POST', '/users', {
    email,
    password: PTITSPAS_PASSWORD,
    role,
    prenom: 'Marie',
    nom: 'Martin',
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id as string, email: res.json().email as string };
}

/** A parent registered through /auth/register, still en_attente. */
async function registeredParent(extra: Record<string, unknown> = {}) {
  const body = registration('parent', extra);
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().userId as string, email: body.email as string };
}

/** The set-password tokens of the links mailed to `address`, once `count` mails have arrived. */
async function mailedTokens(address: string, count = 1): Promise<Array<string | undefined>> {
  await smtp.waitFor(address);
  const to = () => smtp.messages.filter((m) => m.to?.some((t) => t.address === address));
  for (let waited = 0; to().length < count; waited += 50) {
    if (waited > 5000) throw new Error(`fewer than ${count} mails to ${address}`);
    await sleep(50);
  }
  return to().map((m) => /\?token=([\w-]+)/.exec(m.text ?? '')?.[1]);
}

const login = (email: string, password = PTITSPAS_PASSWORD) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
const setPassword = (token: string) =>
  app.inject({ method: 'POST', url: '/api/v1/auth/set-password', payload: { token, password: PTITSPAS_PASSWORD } });

describe('GET /users', () => {
  const lot = marker();
  // Creation order differs from alphabetical order, so the two sorts are told apart.
  const letters = ['d', 'a', 'g', 'c', 'f', 'b', 'e'];
  const created: Array<{ id: string; nom: string; role: string }> = [];

  beforeAll(async () => {
    for (const [i, letter] of letters.entries()) {
      const role = i % 2 === 0 ? 'gestionnaire' : 'administrateur';
      const { id } = await staff(role, { nom: `${lot}${letter}`, telephone: '0601020304' });
      created.push({ id, nom: `${lot}${letter}`, role });
    }
  });

  const list = (query: string) => call(admin, 'GET', `/users?${query}`);

  it('answers summaries without secrets or contact fields, and the total in X-Total-Count', async () => {
    const res = await list(`search=${lot}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['x-total-count']).toBe('7');
    const body = res.json();
    expect(body).toHaveLength(7);
    for (const user of body) expect(Object.keys(user).sort()).toEqual(SUMMARY_KEYS);
    const first = created[0]!;
    const stored = await row(first.id);
    expect(body.find((u: { id: string }) => u.id === first.id)).toEqual({
      id: first.id,
      email: stored!.email,
      role: 'gestionnaire',
      prenom: 'Marie',
      nom: first.nom,
      statut: 'actif',
      cree_le: stored!.cree_le.toISOString(),
    });
  });

  it('pages newest first without overlap, and keeps the total past the end', async () => {
    const newestFirst = created.map((u) => u.id).reverse();
    const pages = [];
    for (const page of [1, 2, 3]) {
      const res = await list(`search=${lot}&limit=3&page=${page}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-total-count']).toBe('7');
      pages.push(res.json().map((u: { id: string }) => u.id));
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages[1]).toEqual(newestFirst.slice(3, 6));
    expect(pages.flat()).toEqual(newestFirst);
    const past = await list(`search=${lot}&limit=3&page=4`);
    expect(past.statusCode).toBe(200);
    expect(past.json()).toEqual([]);
    expect(past.headers['x-total-count']).toBe('7');
  });

  it('sorts on nom both ways', async () => {
    const alphabetical = created.map((u) => u.nom).sort();
    const asc = await list(`search=${lot}&sort=nom`);
    expect(asc.json().map((u: { nom: string }) => u.nom)).toEqual(alphabetical);
    const desc = await list(`search=${lot}&sort=-nom`);
    expect(desc.json().map((u: { nom: string }) => u.nom)).toEqual([...alphabetical].reverse());
  });

  it('filters on role', async () => {
    const admins = await list(`search=${lot}&role=administrateur`);
    expect(admins.headers['x-total-count']).toBe('3');
    expect(
      admins
        .json()
        .map((u: { id: string }) => u.id)
        .sort(),
    ).toEqual(
      created
        .filter((u) => u.role === 'administrateur')
        .map((u) => u.id)
        .sort(),
    );
    const all = await list('role=gestionnaire&limit=100');
    expect(all.headers['x-total-count']).toBe(String(await countWhere('role', 'gestionnaire')));
    expect(new Set(all.json().map((u: { role: string }) => u.role))).toEqual(new Set(['gestionnaire']));
  });

  it('filters on statut', async () => {
    const families = marker();
    const waiting = [await registeredParent({ nom: families }), await registeredParent({ nom: families })];
    const res = await list(`search=${families}&statut=en_attente`);
    expect(res.headers['x-total-count']).toBe('2');
    expect(
      res
        .json()
        .map((u: { id: string }) => u.id)
        .sort(),
    ).toEqual(waiting.map((u) => u.id).sort());
    const active = await list(`search=${families}&statut=actif`);
    expect(active.json()).toEqual([]);
    expect(active.headers['x-total-count']).toBe('0');
    const everyWaiting = await list('statut=en_attente&limit=100');
    expect(everyWaiting.headers['x-total-count']).toBe(String(await countWhere('statut', 'en_attente')));
  });

  it('searches without regard to accents or case, in prénom, nom and e-mail', async () => {
    const tag = randomBytes(4).toString('hex');
    const { id, email } = await staff('gestionnaire', { prenom: 'Éloïse', nom: `Lefèvre${tag}` });
    for (const search of [`eloise lefevre${tag}`, `ÉLOÏSE LEFÈVRE${tag.toUpperCase()}`, email.toUpperCase()]) {
      const res = await list(`search=${encodeURIComponent(search)}`);
      expect(
        res.json().map((u: { id: string }) => u.id),
        search,
      ).toEqual([id]);
      expect(res.headers['x-total-count']).toBe('1');
    }
    // LIKE wildcards in the search are literal characters.
    const wildcard = await list('search=%25');
    expect(wildcard.json()).toEqual([]);
    expect(wildcard.headers['x-total-count']).toBe('0');
  });

  it('refuses out-of-range or unknown values with 400, and ignores unknown keys', async () => {
    for (const query of ['limit=101', 'limit=0', 'page=0', 'sort=password_hash', 'role=chef', 'statut=banni']) {
      const res = await list(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json(), query).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    const res = await list(`search=${lot}&foo=bar&password_hash=x&limit=100`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveLength(7);
  });
});

describe('GET /users/:id', () => {
  it('answers the detail of any account', async () => {
    const { id, email } = await staff('administrateur', { telephone: '0612345678', adresse: '1 rue de la Paix' });
    const res = await call(admin, 'GET', `/users/${id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(DETAIL_KEYS);
    expect(res.json()).toEqual({
      id,
      email,
      role: 'administrateur',
      prenom: 'Marie',
      nom: 'Martin',
      telephone: '0612345678',
      adresse: '1 rue de la Paix',
      statut: 'actif',
      cree_le: (await row(id))!.cree_le.toISOString(),
    });
  });

  it('answers 404 for an unknown id and 400 for an id that is not a uuid', async () => {
    const missing = await call(admin, 'GET', `/users/${randomUUID()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' });
    const bad = await call(admin, 'GET', '/users/42');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });
});

describe('POST /users', () => {
  it('creates an active staff account that logs in with its password', async () => {
    const email = uniqueEmail('gest');
    const res = await call(admin, 'POST', '/users', {
      email: email.toUpperCase(),
      password: PTITSPAS_PASSWORD,
      role: 'gestionnaire',
      prenom: 'Marie',
      nom: 'Martin',
    });
    expect(res.statusCode, res.body).toBe(201);
    const { id } = res.json();
    expect(res.json()).toEqual({ id, email, role: 'gestionnaire' });
    expect(await row(id)).toMatchObject({ email, role: 'gestionnaire', statut: 'actif' });
    expect((await login(email)).statusCode).toBe(200);
  });

  it('mails a set-password link to an account created without a password', async () => {
    const email = uniqueEmail('sans-mdp');
    const res = await call(admin, 'POST', '/users', { email, role: 'administrateur', prenom: 'Paul', nom: 'Durand' });
    expect(res.statusCode, res.body).toBe(201);
    expect(await row(res.json().id)).toMatchObject({ statut: 'actif', password_hash: null });
    const mail = await smtp.waitFor(email);
    expect(mail.subject).toBe('Votre compte PtitsPas est activé');
    expect(mail.text).toContain(`${SET_PASSWORD_URL}?token=`);
    const [token] = await mailedTokens(email);
    // No password yet: no login, whatever is tried.
    expect((await login(email)).statusCode).toBe(401);
    const set = await setPassword(token!);
    expect(set.statusCode, set.body).toBe(200);
    expect((await login(email)).statusCode).toBe(200);
  });

  it('answers 409 for an e-mail already used, whatever its case', async () => {
    const { email } = await staff('gestionnaire');
    const res = await call(admin, 'POST', '/users', {
      email: email.toUpperCase(),
      password: PTITSPAS_PASSWORD,
      role: 'administrateur',
      prenom: 'Autre',
      nom: 'Personne',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ statusCode: 409, message: 'Cet e-mail est déjà utilisé.', error: 'Conflict' });
    const rows = await owner.db.selectFrom('ptitspas.utilisateurs').select('role').where('email', '=', email).execute();
    expect(rows).toEqual([{ role: 'gestionnaire' }]);
  });

  it('refuses the roles of families and childminders', async () => {
    for (const role of ['parent', 'assistante_maternelle']) {
      const email = uniqueEmail('famille');
      const res = await call(admin, 'POST', '/users', { email, role, prenom: 'Léa', nom: 'Dupont' });
      expect(res.statusCode, role).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(await owner.db.selectFrom('ptitspas.utilisateurs').where('email', '=', email).execute()).toEqual([]);
    }
  });

  it('ignores server-owned keys in the body', async () => {
    const email = uniqueEmail('injecte');
    const forgedId = randomUUID();
    const res = await call(admin, 'POST', '/users', {
      email,
      role: 'gestionnaire',
      prenom: 'Marie',
      nom: 'Martin',
      statut: 'suspendu',
      id: forgedId,
      cree_le: '2000-01-01T00:00:00Z',
      password_hash: '$argon2id$v=19$m=1024,t=1,p=1$forged',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().id).not.toBe(forgedId);
    const stored = (await row(res.json().id))!;
    expect(stored).toMatchObject({ statut: 'actif', password_hash: null, role: 'gestionnaire' });
    expect(stored.cree_le.getFullYear()).toBeGreaterThan(2000);
    expect(await row(forgedId)).toBeUndefined();
  });
});

describe('PATCH /users/:id', () => {
  it('writes only the given fields, and null clears telephone', async () => {
    const { id } = await staff('gestionnaire', { telephone: '0601020304', adresse: '2 rue Haute' });
    const res = await call(admin, 'PATCH', `/users/${id}`, { prenom: 'Jean-Claude' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, prenom: 'Jean-Claude', nom: 'Martin', telephone: '0601020304' });
    expect(await row(id)).toMatchObject({
      prenom: 'Jean-Claude',
      nom: 'Martin',
      telephone: '0601020304',
      adresse: '2 rue Haute',
    });
    const cleared = await call(admin, 'PATCH', `/users/${id}`, { telephone: null });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ telephone: null, adresse: '2 rue Haute' });
    expect(await row(id)).toMatchObject({ prenom: 'Jean-Claude', telephone: null, adresse: '2 rue Haute' });
  });

  it('answers 400 to an empty body', async () => {
    const { id } = await staff('gestionnaire');
    const res = await call(admin, 'PATCH', `/users/${id}`, {});
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('ignores email, role and statut in the body', async () => {
    const { id, email } = await staff('gestionnaire');
    const res = await call(admin, 'PATCH', `/users/${id}`, {
      nom: 'Nouveau',
      email: uniqueEmail('autre'),
      role: 'super_admin',
      statut: 'suspendu',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await row(id)).toMatchObject({ nom: 'Nouveau', email, role: 'gestionnaire', statut: 'actif' });
  });

  // Dropped keys must not count: `{ email }` changes nothing, so it is the empty body
  // (docs/security.md: a client sending extra keys gets the same answer as one sending none).
  it('answers 400 to a body holding only keys it ignores, and writes nothing', async () => {
    const { id } = await staff('gestionnaire');
    const before = await row(id);
    const res = await call(admin, 'PATCH', `/users/${id}`, { email: uniqueEmail('autre') });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(await row(id)).toEqual(before);
  });

  it('answers 404 for an unknown id', async () => {
    const res = await call(admin, 'PATCH', `/users/${randomUUID()}`, { prenom: 'Personne' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' });
  });
});

describe('PATCH /users/:id/valider and /suspendre', () => {
  let administrateur: PtitsPasAccount;
  let gestionnaire: PtitsPasAccount;

  beforeAll(async () => {
    administrateur = await ptitspasAccount(app, admin, 'administrateur');
    gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  });

  const act = (who: PtitsPasAccount, action: 'valider' | 'suspendre', id: string, payload?: object) =>
    call(who, 'PATCH', `/users/${id}/${action}`, payload);

  it('lets a gestionnaire validate a parent, and records who and why', async () => {
    const parent = await registeredParent();
    const res = await act(gestionnaire, 'valider', parent.id, { comment: 'Dossier complet' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Compte validé avec succès', userId: parent.id });
    expect((await row(parent.id))!.statut).toBe('actif');
    expect(await history(parent.id)).toEqual([
      { ancien_statut: 'en_attente', nouveau_statut: 'actif', commentaire: 'Dossier complet', par: gestionnaire.id },
    ]);
    // Registered with a password: the mail says to log in, with no link.
    expect((await smtp.waitFor(parent.email)).text).not.toContain('token=');
  });

  it('refuses a gestionnaire on another gestionnaire and on an administrateur', async () => {
    const other = await staff('gestionnaire');
    const target = await staff('administrateur');
    for (const id of [other.id, target.id]) {
      for (const action of ['valider', 'suspendre'] as const) {
        const res = await act(gestionnaire, action, id, { comment: 'Essai' });
        expect(res.statusCode, `${action} ${id}`).toBe(403);
        expect(res.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      }
      expect((await row(id))!.statut).toBe('actif');
      expect(await history(id)).toEqual([]);
    }
  });

  it('lets an administrateur validate a gestionnaire but not act on a super_admin', async () => {
    const target = await staff('gestionnaire');
    expect((await act(admin, 'suspendre', target.id, { comment: 'Absence' })).statusCode).toBe(200);
    const res = await act(administrateur, 'valider', target.id, { comment: 'Retour' });
    expect(res.statusCode, res.body).toBe(200);
    expect((await row(target.id))!.statut).toBe('actif');
    expect(await history(target.id)).toEqual([
      { ancien_statut: 'actif', nouveau_statut: 'suspendu', commentaire: 'Absence', par: admin.id },
      { ancien_statut: 'suspendu', nouveau_statut: 'actif', commentaire: 'Retour', par: administrateur.id },
    ]);
    const refused = await act(administrateur, 'suspendre', admin.id);
    expect(refused.statusCode).toBe(403);
    expect((await row(admin.id))!.statut).toBe('actif');
  });

  it('lets a super_admin suspend another super_admin, with no body at all', async () => {
    const other = await ptitspasSuperAdmin(app);
    const res = await act(admin, 'suspendre', other.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Compte suspendu', userId: other.id });
    expect((await row(other.id))!.statut).toBe('suspendu');
    expect(await history(other.id)).toEqual([
      { ancien_statut: 'actif', nouveau_statut: 'suspendu', commentaire: null, par: admin.id },
    ]);
    // Every login of the suspended account ends at once.
    expect((await call(other, 'GET', '/auth/me')).statusCode).toBe(401);
    expect((await act(admin, 'suspendre', other.id)).statusCode).toBe(409);
  });

  it('refuses anyone acting on their own account', async () => {
    for (const who of [admin, administrateur, gestionnaire]) {
      for (const action of ['valider', 'suspendre'] as const) {
        const res = await act(who, action, who.id);
        expect(res.statusCode, `${who.role} ${action}`).toBe(403);
      }
      expect((await row(who.id))!.statut).toBe('actif');
    }
  });

  it('answers 409 to validating an active account that has a password', async () => {
    const { id } = await staff('gestionnaire');
    const res = await act(admin, 'valider', id);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ statusCode: 409, message: 'Ce compte est déjà actif.', error: 'Conflict' });
  });

  it('sends a new link to an active account without a password, and the old one stops working', async () => {
    const email = uniqueEmail('relance');
    const created = await call(admin, 'POST', '/users', { email, role: 'gestionnaire', prenom: 'Ana', nom: 'Lopes' });
    const [first] = await mailedTokens(email);
    expect((await act(admin, 'valider', created.json().id)).statusCode).toBe(200);
    const [, second] = await mailedTokens(email, 2);
    expect(second).toBeDefined();
    expect((await setPassword(first!)).statusCode).toBe(400);
    expect((await setPassword(second!)).statusCode).toBe(200);
  });

  it('answers 404 for an unknown id and 400 for a comment over 1000 characters', async () => {
    for (const action of ['valider', 'suspendre'] as const) {
      const res = await act(admin, action, randomUUID());
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' });
    }
    const parent = await registeredParent();
    const long = await act(admin, 'valider', parent.id, { comment: 'x'.repeat(1001) });
    expect(long.statusCode).toBe(400);
    expect((await row(parent.id))!.statut).toBe('en_attente');
    expect(await history(parent.id)).toEqual([]);
  });
});

describe('DELETE /users/:id', () => {
  it('deletes the account and its profile, and its token stops working', async () => {
    const parent = await ptitspasAccount(app, admin, 'parent');
    expect(
      await owner.db.selectFrom('ptitspas.parents').where('id_utilisateur', '=', parent.id).execute(),
    ).toHaveLength(1);
    const res = await call(admin, 'DELETE', `/users/${parent.id}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ message: 'Utilisateur supprimé' });
    expect(await row(parent.id)).toBeUndefined();
    expect(await owner.db.selectFrom('ptitspas.parents').where('id_utilisateur', '=', parent.id).execute()).toEqual([]);
    expect(await history(parent.id)).toEqual([]);
    expect((await call(parent, 'GET', '/auth/me')).statusCode).toBe(401);
    expect((await call(admin, 'GET', `/users/${parent.id}`)).statusCode).toBe(404);
  });

  it('keeps the history a deleted account wrote about others, without its author', async () => {
    const gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
    const parent = await registeredParent();
    expect((await call(gestionnaire, 'PATCH', `/users/${parent.id}/valider`, { comment: 'Vu' })).statusCode).toBe(200);
    expect((await call(admin, 'DELETE', `/users/${gestionnaire.id}`)).statusCode).toBe(200);
    expect(await history(parent.id)).toEqual([
      { ancien_statut: 'en_attente', nouveau_statut: 'actif', commentaire: 'Vu', par: null },
    ]);
  });

  it('refuses deleting oneself and answers 404 for an unknown id', async () => {
    const self = await call(admin, 'DELETE', `/users/${admin.id}`);
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect(await row(admin.id)).toBeDefined();
    const missing = await call(admin, 'DELETE', `/users/${randomUUID()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' });
  });
});

describe('/gestionnaires', () => {
  let parent: { id: string; email: string };
  beforeAll(async () => {
    parent = await registeredParent();
  });

  it('lists only gestionnaires, whatever the role key says', async () => {
    await staff('gestionnaire');
    const expected = String(await countWhere('role', 'gestionnaire'));
    for (const query of ['limit=100', 'limit=100&role=parent', 'limit=100&role=super_admin']) {
      const res = await call(admin, 'GET', `/gestionnaires?${query}`);
      expect(res.statusCode, query).toBe(200);
      expect(res.headers['x-total-count'], query).toBe(expected);
      const roles: PtitsPasRole[] = res.json().map((u: { role: PtitsPasRole }) => u.role);
      expect(new Set(roles), query).toEqual(new Set(['gestionnaire']));
      expect(roles).toHaveLength(Number(expected));
    }
  });

  it('answers 404 for the id of an account of another role, on GET and PATCH', async () => {
    const get = await call(admin, 'GET', `/gestionnaires/${parent.id}`);
    expect(get.statusCode).toBe(404);
    expect(get.json()).toEqual({ statusCode: 404, message: 'Gestionnaire non trouvé', error: 'Not Found' });
    const patch = await call(admin, 'PATCH', `/gestionnaires/${parent.id}`, { nom: 'Changé' });
    expect(patch.statusCode).toBe(404);
    expect((await row(parent.id))!.nom).toBe('Dupont');
  });

  it('creates a gestionnaire even if the body names another role', async () => {
    const email = uniqueEmail('gestionnaire');
    const res = await call(admin, 'POST', '/gestionnaires', {
      email,
      password: PTITSPAS_PASSWORD,
      role: 'super_admin',
      prenom: 'Sophie',
      nom: 'Leroy',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ id: res.json().id, email, role: 'gestionnaire' });
    expect(await row(res.json().id)).toMatchObject({ role: 'gestionnaire', statut: 'actif' });
    expect((await ptitspasLogin(app, email)).role).toBe('gestionnaire');
  });

  it('reads and changes a gestionnaire', async () => {
    const { id, email } = await staff('gestionnaire');
    const res = await call(admin, 'PATCH', `/gestionnaires/${id}`, { nom: 'Bernard', adresse: '3 place du Marché' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, email, role: 'gestionnaire', nom: 'Bernard', adresse: '3 place du Marché' });
    expect(await row(id)).toMatchObject({ prenom: 'Marie', nom: 'Bernard', adresse: '3 place du Marché' });
    const get = await call(admin, 'GET', `/gestionnaires/${id}`);
    expect(get.statusCode).toBe(200);
    expect(Object.keys(get.json()).sort()).toEqual(DETAIL_KEYS);
    expect(get.json()).toMatchObject({ id, nom: 'Bernard' });
  });
});
