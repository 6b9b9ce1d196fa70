import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spendTicket } from '../../domain/ptitspas/notifications/tickets.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import {
  type PtitsPasAccount,
  ptitspasAccount,
  ptitspasLogin,
  ptitspasSuperAdmin,
  registration,
} from '../helpers/ptitspas.js';
import { contratIn } from '../helpers/ptitspas-contrats.js';

// /api/v1/notifications (ptitspas-evolutions.md, "Notifications"): each account reads and marks
// its own; the causes write them (here a validation and contract steps); WebSocket tickets.

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let assistante: PtitsPasAccount;
let other: PtitsPasAccount;

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  parent = await ptitspasAccount(app, admin, 'parent');
  assistante = await ptitspasAccount(app, admin, 'assistante_maternelle');
  other = await ptitspasAccount(app, admin, 'parent');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const call = (method: 'GET' | 'PATCH' | 'POST', url: string, who: PtitsPasAccount) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers });

/** A new signed contract of `parent` with `assistante`: 1 contrat_propose to her, 1 contrat_signe to each. */
async function signedContract() {
  const child = await app.inject({
    method: 'POST',
    url: '/api/v1/enfants',
    headers: parent.headers,
    payload: { prenom: 'Élise', nom: 'Moreau', genre: 'F', date_naissance: '2024-05-01' },
  });
  return contratIn(app, { parent, assistante, idEnfant: child.json().id }, 'signe');
}

describe('reading one’s notifications', () => {
  it('lists its own, newest first, with the total; counts and filters the unread; marks them read', async () => {
    const first = await signedContract();
    const second = await signedContract();
    const list = await call('GET', '/notifications', assistante);
    expect(list.statusCode, list.body).toBe(200);
    const own = list.json() as Array<{ id: string; type: string; lien: { type: string; id: string }; lue_le: null }>;
    // Hers: compte_valide, then per contract a proposal and a signature; newest first.
    expect(own.map((n) => [n.type, n.lien.id])).toEqual([
      ['contrat_signe', second.id],
      ['contrat_propose', second.id],
      ['contrat_signe', first.id],
      ['contrat_propose', first.id],
      ['compte_valide', assistante.id],
    ]);
    expect(list.headers['x-total-count']).toBe('5');
    expect(own[0]).toEqual({
      id: expect.any(String),
      type: 'contrat_signe',
      titre: 'Contrat signé',
      corps: 'Le contrat d’accueil est signé par les deux parties.',
      lien: { type: 'contrat', id: second.id },
      cree_le: expect.any(String),
      lue_le: null,
    });
    expect((await call('GET', '/notifications/compteur', assistante)).json()).toEqual({ non_lues: 5 });

    const read = await call('PATCH', `/notifications/${own[2]!.id}/lue`, assistante);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({ id: own[2]!.id, lue_le: expect.any(String) });
    // Reading it again keeps the first time.
    const again = await call('PATCH', `/notifications/${own[2]!.id}/lue`, assistante);
    expect(again.json().lue_le).toBe(read.json().lue_le);
    expect((await call('GET', '/notifications/compteur', assistante)).json()).toEqual({ non_lues: 4 });
    const unread = await call('GET', '/notifications?non_lues=true&limit=2', assistante);
    expect(unread.headers['x-total-count']).toBe('4');
    expect(unread.json().map((n: { id: string }) => n.id)).toEqual([own[0]!.id, own[1]!.id]);

    const all = await call('PATCH', '/notifications/lues', assistante);
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json()).toEqual({ modifiees: 4 });
    expect((await call('GET', '/notifications/compteur', assistante)).json()).toEqual({ non_lues: 0 });
    expect((await call('PATCH', '/notifications/lues', assistante)).json()).toEqual({ modifiees: 0 });
  });

  it('another account’s notification is not found, and stays unread', async () => {
    const { id } = await signedContract();
    const mine = await owner.db
      .selectFrom('ptitspas.notifications')
      .select('id')
      .where('id_destinataire', '=', parent.id)
      .where('lien_id', '=', id)
      .executeTakeFirstOrThrow();
    for (const who of [other, admin, assistante]) {
      const res = await call('PATCH', `/notifications/${mine.id}/lue`, who);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Notification non trouvée' });
    }
    const row = await owner.db
      .selectFrom('ptitspas.notifications')
      .select('lue_le')
      .where('id', '=', mine.id)
      .executeTakeFirstOrThrow();
    expect(row.lue_le).toBeNull();
    const list = await call('GET', '/notifications', other);
    expect(list.json().map((n: { id: string }) => n.id)).not.toContain(mine.id);
  });
});

describe('compte_valide', () => {
  it('is written by the validation, once, in its transaction', async () => {
    const body = registration('parent');
    const registered = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
    const id = registered.json().userId as string;
    const validate = () =>
      app.inject({ method: 'PATCH', url: `/api/v1/users/${id}/valider`, headers: admin.headers, payload: {} });
    expect((await validate()).statusCode).toBe(200);
    expect((await validate()).statusCode).toBe(409); // already active: nothing written
    const account = await ptitspasLogin(app, body.email as string);
    const list = await call('GET', '/notifications', account);
    expect(list.json()).toEqual([
      {
        id: expect.any(String),
        type: 'compte_valide',
        titre: 'Compte validé',
        corps: 'Votre compte PtitsPas est validé : bienvenue !',
        lien: { type: 'utilisateur', id },
        cree_le: expect.any(String),
        lue_le: null,
      },
    ]);
  });
});

describe('WebSocket tickets', () => {
  it('are given for 30 seconds, stored hashed, and open once', async () => {
    const res = await call('POST', '/notifications/ticket', parent);
    expect(res.statusCode, res.body).toBe(201);
    const { ticket, expire_le } = res.json() as { ticket: string; expire_le: string };
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const seconds = (Date.parse(expire_le) - Date.now()) / 1000;
    expect(seconds).toBeGreaterThan(25);
    expect(seconds).toBeLessThanOrEqual(31);
    const stored = await owner.db.selectFrom('ptitspas.tickets_ws').selectAll().execute();
    expect(stored.some((t) => t.ticket_hash.toString('base64url') === ticket)).toBe(false);

    const login = await owner.db
      .selectFrom('ptitspas.refresh_families')
      .select('id')
      .where('id_utilisateur', '=', parent.id)
      .orderBy('cree_le', 'desc')
      .executeTakeFirstOrThrow();
    expect(await spendTicket(app.systemDb, ticket)).toEqual({ familyId: login.id, userId: parent.id });
    expect(await spendTicket(app.systemDb, ticket)).toBeUndefined();
    expect(await spendTicket(app.systemDb, 'made-up')).toBeUndefined();
  });

  it('an expired ticket opens nothing', async () => {
    const { ticket } = (await call('POST', '/notifications/ticket', other)).json();
    await owner.db
      .updateTable('ptitspas.tickets_ws')
      .set({ expire_le: new Date(Date.now() - 1000) })
      .execute();
    expect(await spendTicket(app.systemDb, ticket)).toBeUndefined();
  });
});
