import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { TEST_JWT_SECRET } from '../helpers/urls.js';
import { bearer, registerUser } from '../helpers/users.js';

// PtitsPas accounts and tokens: login, registration without password (v1.3), validation and the
// set-password link through a real SMTP server, refresh rotation with reuse detection, logout,
// suspension, and tokens that only their own API accepts.

let app: App;
let admin: PtitsPasAccount;
const owner = await testDb();
const smtp = await startSmtpServer();
const LINK = 'https://app.ptits-pas.test/definir-mot-de-passe';

beforeAll(async () => {
  app = await buildTestApp({ config: { smtpUrl: smtp.url, ptitspasSetPasswordUrl: LINK } });
  admin = await ptitspasSuperAdmin(app);
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await owner.db.destroy();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });
const me = (access: string) => app.inject({ url: '/api/v1/auth/me', headers: bearer(access) });
const refresh = (token: string) => post('/auth/refresh', { refresh_token: token });
const stored = (id: string) =>
  owner.db.selectFrom('ptitspas.utilisateurs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

async function register(extra: Record<string, unknown> = {}) {
  const body = registration('parent', { password: undefined, ...extra });
  const res = await post('/auth/register', body);
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().userId as string, email: body.email as string };
}

const validate = (id: string, by = admin) =>
  app.inject({
    method: 'PATCH',
    url: `/api/v1/users/${id}/valider`,
    headers: by.headers,
    payload: { comment: 'Pièces vérifiées' },
  });

/** The token of the last set-password link mailed to `email`. */
async function linkToken(email: string, count = 1): Promise<string> {
  for (let waited = 0; smtp.messages.filter((m) => m.to?.some((t) => t.address === email)).length < count; waited++) {
    if (waited > 100) throw new Error(`fewer than ${count} mails to ${email}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const mail = smtp.messages.filter((m) => m.to?.some((t) => t.address === email)).at(-1)!;
  const link = new URL(new RegExp(`${LINK}\\?token=\\S+`).exec(mail.text!)![0]);
  return link.searchParams.get('token')!;
}

describe('POST /auth/login', () => {
  it('answers the tokens and the user for an active account', async () => {
    const res = await post('/auth/login', { email: admin.email.toUpperCase(), password: PTITSPAS_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      user: { id: admin.id, email: admin.email, role: 'super_admin', prenom: 'Admin', nom: 'Système' },
    });
  });

  it('answers an unknown e-mail exactly as a wrong password, and 401 to an account without password', async () => {
    const wrong = await post('/auth/login', { email: admin.email, password: 'not the password' });
    const unknown = await post('/auth/login', { email: 'nobody@ptitspas.test', password: 'not the password' });
    const { email } = await register();
    const passwordless = await post('/auth/login', { email, password: 'anything at all' });
    for (const res of [wrong, unknown, passwordless]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({
        statusCode: 401,
        message: 'Email ou mot de passe incorrect',
        error: 'Unauthorized',
      });
    }
  });

  it('answers 403 to an account waiting for validation or suspended, once the password is right', async () => {
    const body = registration('parent');
    const { userId } = (await post('/auth/register', body)).json();
    const waiting = await post('/auth/login', { email: body.email, password: PTITSPAS_PASSWORD });
    expect(waiting.statusCode).toBe(403);
    expect(waiting.json()).toMatchObject({ statusCode: 403, message: 'Compte en attente de validation' });
    // Without the password, nothing about the account's state is said.
    expect((await post('/auth/login', { email: body.email, password: 'wrong one!' })).statusCode).toBe(401);

    expect((await validate(userId)).statusCode).toBe(200);
    const suspend = await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${userId}/suspendre`,
      headers: admin.headers,
    });
    expect(suspend.statusCode).toBe(200);
    const suspended = await post('/auth/login', { email: body.email, password: PTITSPAS_PASSWORD });
    expect(suspended.statusCode).toBe(403);
    expect(suspended.json().message).toBe('Compte suspendu');
  });
});

describe('POST /auth/register', () => {
  it('creates a parent waiting for validation, without password (v1.3), ignoring server-owned fields', async () => {
    const res = await post('/auth/register', {
      ...registration('parent', { password: undefined }),
      statut: 'actif',
      id: '01890000-0000-7000-8000-000000000001',
      cree_le: '2001-01-01T00:00:00Z',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      message: 'Inscription réussie. Votre compte est en attente de validation.',
      userId: expect.any(String),
    });
    const row = await stored(res.json().userId);
    expect(row).toMatchObject({ statut: 'en_attente', password_hash: null, role: 'parent' });
    expect(row.id).not.toBe('01890000-0000-7000-8000-000000000001');
    expect(row.cree_le.getFullYear()).toBeGreaterThan(2001);
    const profile = await owner.pool.query('select * from ptitspas.parents where id_utilisateur = $1', [row.id]);
    expect(profile.rows).toEqual([{ id_utilisateur: row.id, id_co_parent: null }]);
  });

  it('keeps a password sent anyway, hashed', async () => {
    const body = registration('parent');
    const { userId } = (await post('/auth/register', body)).json();
    const row = await stored(userId);
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('answers 409 to an e-mail already used, whatever its case, and 400 to a staff role', async () => {
    const { email } = await register();
    const again = await post('/auth/register', registration('parent', { email: email.toUpperCase() }));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ statusCode: 409, message: 'Cet e-mail est déjà utilisé.', error: 'Conflict' });
    const staff = await post('/auth/register', registration('parent', { role: 'super_admin' }));
    expect(staff.statusCode).toBe(400);
    expect(staff.json().message).toContain('role');
  });

  it('requires a childminder’s agreement number and date (v1.3), the date not in the future', async () => {
    const missingNumber = await post(
      '/auth/register',
      registration('assistante_maternelle', { numero_agrement: undefined }),
    );
    expect(missingNumber.statusCode).toBe(400);
    expect(missingNumber.json().message).toContain('numero_agrement');
    const missingDate = await post(
      '/auth/register',
      registration('assistante_maternelle', { date_agrement: undefined }),
    );
    expect(missingDate.statusCode).toBe(400);
    expect(missingDate.json().message).toContain('date_agrement');
    const future = await post('/auth/register', registration('assistante_maternelle', { date_agrement: '2999-01-01' }));
    expect(future.statusCode).toBe(400);

    const body = registration('assistante_maternelle', { nb_max_enfants: 3, ville_residence: 'Nantes' });
    const created = await post('/auth/register', body);
    expect(created.statusCode).toBe(201);
    const profile = await owner.pool.query(
      'select numero_agrement, date_agrement, nb_max_enfants, place_disponible, ville_residence from ptitspas.assistantes_maternelles where id_utilisateur = $1',
      [created.json().userId],
    );
    expect(profile.rows).toEqual([
      {
        numero_agrement: body.numero_agrement,
        date_agrement: '2015-06-01',
        nb_max_enfants: 3,
        place_disponible: 3,
        ville_residence: 'Nantes',
      },
    ]);
    const twin = await post(
      '/auth/register',
      registration('assistante_maternelle', { numero_agrement: String(body.numero_agrement).toLowerCase() }),
    );
    expect(twin.statusCode).toBe(409);
  });
});

describe('validation and the set-password link', () => {
  it('register → validate → set the password from the mail → log in', async () => {
    const { id, email } = await register();
    const validated = await validate(id);
    expect(validated.statusCode).toBe(200);
    expect(validated.json()).toEqual({ message: 'Compte validé avec succès', userId: id });

    const mail = await smtp.waitFor(email);
    expect(mail.subject).toBe('Votre compte PtitsPas est activé');
    expect(mail.from?.address).toBe('no-reply@localhost');
    expect(mail.text).toContain('valable 7 jours');
    const token = await linkToken(email);

    const history = await owner.pool.query(
      'select ancien_statut, nouveau_statut, commentaire, par from ptitspas.historique_statuts where id_utilisateur = $1',
      [id],
    );
    expect(history.rows).toEqual([
      { ancien_statut: 'en_attente', nouveau_statut: 'actif', commentaire: 'Pièces vérifiées', par: admin.id },
    ]);

    const set = await post('/auth/set-password', { token, password: 'motdepasse123' });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ message: 'Mot de passe enregistré. Vous pouvez vous connecter.' });
    const login = await ptitspasLogin(app, email, 'motdepasse123');
    const profile = await me(login.access);
    expect(profile.json()).toEqual({ id, email, role: 'parent', prenom: 'Léa', nom: 'Dupont', statut: 'actif' });
  });

  it('refuses a link used once already, a link 8 days old, and a made-up one', async () => {
    const used = await register();
    await validate(used.id);
    const token = await linkToken(used.email);
    expect((await post('/auth/set-password', { token, password: 'motdepasse123' })).statusCode).toBe(200);
    const again = await post('/auth/set-password', { token, password: 'another password' });
    expect(again.statusCode).toBe(400);
    expect(again.json().message).toContain('invalide');
    expect((await ptitspasLogin(app, used.email, 'motdepasse123')).role).toBe('parent');

    const old = await register();
    await validate(old.id);
    const oldToken = await linkToken(old.email);
    // Issued 8 days ago: its 7 days are over.
    await owner.pool.query(
      `update ptitspas.liens_mot_de_passe set cree_le = now() - interval '8 days', expire_le = now() - interval '1 day'
        where id_utilisateur = $1`,
      [old.id],
    );
    expect((await post('/auth/set-password', { token: oldToken, password: 'motdepasse123' })).statusCode).toBe(400);
    expect((await stored(old.id)).password_hash).toBeNull();

    expect((await post('/auth/set-password', { token: 'made-up', password: 'motdepasse123' })).statusCode).toBe(400);
  });

  it('validating again an account still without password sends a new link; the old one stops working', async () => {
    const { id, email } = await register();
    await validate(id);
    const first = await linkToken(email, 1);
    const resent = await validate(id);
    expect(resent.statusCode).toBe(200);
    const second = await linkToken(email, 2);
    expect(second).not.toBe(first);
    expect((await post('/auth/set-password', { token: first, password: 'motdepasse123' })).statusCode).toBe(400);
    expect((await post('/auth/set-password', { token: second, password: 'motdepasse123' })).statusCode).toBe(200);
    // With a password now, validating again is a conflict.
    expect((await validate(id)).statusCode).toBe(409);
  });
});

describe('refresh tokens', () => {
  it('rotate on every use: each answer is a new pair, and the new pair works', async () => {
    const account = await ptitspasLogin(app, admin.email);
    const first = await refresh(account.refresh);
    expect(first.statusCode).toBe(200);
    const pair = first.json();
    expect(pair).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(pair.refresh_token).not.toBe(account.refresh);
    expect(pair.access_token).not.toBe(account.access);
    expect((await me(pair.access_token)).statusCode).toBe(200);
    expect((await refresh(pair.refresh_token)).statusCode).toBe(200);
  });

  it('revoke the whole login when a spent token comes back after its successor was used', async () => {
    const a = await ptitspasLogin(app, admin.email);
    const b = (await refresh(a.refresh)).json();
    const c = (await refresh(b.refresh_token)).json();
    const reused = await refresh(a.refresh);
    expect(reused.statusCode).toBe(401);
    expect(reused.json().message).toBe('Token de rafraîchissement invalide ou expiré');
    expect((await refresh(c.refresh_token)).statusCode).toBe(401);
    expect((await me(c.access_token)).statusCode).toBe(401);
    const family = await owner.pool.query(
      `select f.motif_revocation from ptitspas.refresh_families f join ptitspas.refresh_tokens t on t.id_famille = f.id
        where t.token_hash = sha256(convert_to($1, 'UTF8'))`,
      [a.refresh],
    );
    expect(family.rows).toEqual([{ motif_revocation: 'reuse' }]);
    // Another login of the same account is untouched.
    expect((await me(admin.access)).statusCode).toBe(200);
  });

  it('let a client retry a refresh whose answer it lost, within the grace window only', async () => {
    const a = await ptitspasLogin(app, admin.email);
    const lost = (await refresh(a.refresh)).json();
    const retried = await refresh(a.refresh);
    expect(retried.statusCode).toBe(200);
    const kept = retried.json();
    // The retried answer is the login's token now.
    const next = await refresh(kept.refresh_token);
    expect(next.statusCode).toBe(200);
    // The answer never received is superseded: whoever presents it ends the login (issue 21 item 6).
    expect((await refresh(lost.refresh_token)).statusCode).toBe(401);
    expect((await refresh(next.json().refresh_token)).statusCode).toBe(401);

    const late = await ptitspasLogin(app, admin.email);
    const lateNext = (await refresh(late.refresh)).json();
    await owner.pool.query(
      `update ptitspas.refresh_tokens set remplace_le = now() - interval '11 seconds' where token_hash = sha256(convert_to($1, 'UTF8'))`,
      [late.refresh],
    );
    expect((await refresh(late.refresh)).statusCode).toBe(401);
    expect((await refresh(lateNext.refresh_token)).statusCode).toBe(401);
  });

  it('serialize two refreshes of one token sent at once: both answered, one live token left', async () => {
    const a = await ptitspasLogin(app, admin.email);
    // Both wait on the login's row, held here, so they truly run at the same time.
    const holder = await owner.pool.connect();
    await holder.query('begin');
    await holder.query(
      `select 1 from ptitspas.refresh_families where id = (
         select id_famille from ptitspas.refresh_tokens where token_hash = sha256(convert_to($1, 'UTF8'))) for update`,
      [a.refresh],
    );
    const racing = Promise.all([refresh(a.refresh), refresh(a.refresh)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.query('commit');
    holder.release();
    const answers = await racing;
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 200]);
    // The second was a retry within the grace window: one live token in the login, not two.
    const live = await owner.pool.query(
      `select t.token_hash from ptitspas.refresh_tokens t
        where t.remplace_le is null and t.id_famille = (
          select id_famille from ptitspas.refresh_tokens where token_hash = sha256(convert_to($1, 'UTF8')))`,
      [a.refresh],
    );
    expect(live.rows).toHaveLength(1);
  });

  it('logout revokes the login: its access and refresh tokens stop at once, other logins stay', async () => {
    const a = await ptitspasLogin(app, admin.email);
    const out = await post('/auth/logout', {}, a.headers);
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ message: 'Déconnexion réussie' });
    expect((await me(a.access)).statusCode).toBe(401);
    expect((await refresh(a.refresh)).statusCode).toBe(401);
    expect((await me(admin.access)).statusCode).toBe(200);
  });
});

describe('suspension', () => {
  it('ends every login of the account at once, and validation restores it', async () => {
    const parent = await ptitspasAccount(app, admin, 'parent');
    const second = await ptitspasLogin(app, parent.email);
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${parent.id}/suspendre`,
      headers: admin.headers,
      payload: { comment: 'Non-respect des conditions' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'Compte suspendu', userId: parent.id });
    for (const login of [parent, second]) {
      expect((await me(login.access)).statusCode).toBe(401);
      expect((await refresh(login.refresh)).statusCode).toBe(401);
    }
    expect((await post('/auth/login', { email: parent.email, password: PTITSPAS_PASSWORD })).statusCode).toBe(403);
    const history = await owner.pool.query(
      `select nouveau_statut, commentaire from ptitspas.historique_statuts where id_utilisateur = $1 order by id`,
      [parent.id],
    );
    expect(history.rows.at(-1)).toEqual({ nouveau_statut: 'suspendu', commentaire: 'Non-respect des conditions' });

    expect((await validate(parent.id)).statusCode).toBe(200);
    expect((await ptitspasLogin(app, parent.email)).role).toBe('parent');
  });
});

describe('tokens of one API are refused by the other', () => {
  it('a MedReport token on /api/v1 and a PtitsPas token on /api, each answered in its API’s shape', async () => {
    const medreport = await registerUser(app);
    const onPtitsPas = await app.inject({ url: '/api/v1/auth/me', headers: bearer(medreport.token) });
    expect(onPtitsPas.statusCode).toBe(401);
    expect(onPtitsPas.json()).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });

    const onMedReport = await app.inject({ url: '/api/user', headers: admin.headers });
    expect(onMedReport.statusCode).toBe(401);
    expect(onMedReport.json()).toMatchObject({ success: false });

    expect((await me(admin.refresh)).statusCode).toBe(401);
  });

  it('a token signed with JWT_SECRET itself (MedReport’s key) is not a PtitsPas token', async () => {
    const forge = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256' });
    const family = await owner.pool.query<{ id: string }>(
      'select id from ptitspas.refresh_families where id_utilisateur = $1 and revoque_le is null limit 1',
      [admin.id],
    );
    const forged = forge({
      sub: admin.id,
      fid: family.rows[0]!.id,
      role: 'super_admin',
      aud: 'ptitspas',
      iss: 'ptitspas',
    });
    expect((await me(forged)).statusCode).toBe(401);
  });
});
