import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSuperAdmin } from '../../domain/ptitspas/users/admin.js';
import {
  createPtitsPasClient,
  liveNotifications,
  type PtitsPasClient,
  type PtitsPasNotification,
} from '../../sdk/src/index.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { eventually } from '../helpers/poll.js';
import { PTITSPAS_PASSWORD, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { uniqueEmail } from '../helpers/users.js';

// The PtitsPas flow, driven through the generated SDK only (the first super admin aside, which
// only the CLI creates), against the real server on a port and a real SMTP server.

let app: App;
let baseUrl: string;
const smtp = await startSmtpServer();
const LINK = 'https://app.ptits-pas.test/definir-mot-de-passe';

beforeAll(async () => {
  app = await buildTestApp({ config: { smtpUrl: smtp.url, ptitspasSetPasswordUrl: LINK } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await app.close();
  await smtp.close();
});

/** A client whose refresh exchanges are counted. */
function countingClient() {
  let refreshes = 0;
  const client = createPtitsPasClient({
    baseUrl,
    fetch: (request) => {
      if (new URL(request.url).pathname === '/api/v1/auth/refresh') refreshes++;
      return fetch(request);
    },
  });
  return { client, refreshes: () => refreshes };
}

describe('PtitsPas through the SDK', () => {
  const email = uniqueEmail('parent-sdk');
  let staff: PtitsPasClient;
  let parent: ReturnType<typeof countingClient>;

  it('a parent registers without a password; a manager validates; the parent sets it from the mail', async () => {
    const adminEmail = uniqueEmail('super-sdk');
    await createSuperAdmin(
      app.systemDb,
      { email: adminEmail, prenom: 'Admin', nom: 'Système', password: async () => '4dm1n1strateur' },
      app.passwords.internal,
    );
    staff = createPtitsPasClient({ baseUrl });
    const login = await staff.api.POST('/api/v1/auth/login', {
      body: { email: adminEmail, password: '4dm1n1strateur' },
    });
    expect(login.data!.user.role).toBe('super_admin');
    expect(staff.tokens.get()?.access).toBe(login.data!.access_token);

    parent = countingClient();
    const registered = await parent.client.api.POST('/api/v1/auth/register', {
      body: { email, prenom: 'Jean', nom: 'Dupont', role: 'parent', telephone: '0601020304' },
    });
    expect(registered.response.status).toBe(201);
    const userId = registered.data!.userId;

    const validated = await staff.api.PATCH('/api/v1/users/{id}/valider', {
      params: { path: { id: userId } },
      body: { comment: 'Dossier complet' },
    });
    expect(validated.data).toEqual({ message: 'Compte validé avec succès', userId });

    const mail = await smtp.waitFor(email);
    expect(mail.text).toContain('7 jours');
    const token = new URL(/https:\/\/\S+/.exec(mail.text!)![0]).searchParams.get('token')!;
    const set = await parent.client.api.POST('/api/v1/auth/set-password', {
      body: { token, password: 'motdepasse123' },
    });
    expect(set.response.status).toBe(200);
  });

  it('logs in, refreshes, and recovers from an expired access token with one refresh for many requests', async () => {
    const login = await parent.client.api.POST('/api/v1/auth/login', { body: { email, password: 'motdepasse123' } });
    expect(login.data!.user).toMatchObject({ email, role: 'parent' });
    const me = await parent.client.api.GET('/api/v1/auth/me');
    expect(me.data).toMatchObject({ email, statut: 'actif' });

    const before = parent.client.tokens.get()!;
    expect(await parent.client.refresh()).toBe(true);
    const after = parent.client.tokens.get()!;
    expect(after.refresh).not.toBe(before.refresh);
    expect(after.access).not.toBe(before.access);

    // The access token is no longer accepted (as 15 minutes later): three requests at once each
    // get 401, share one refresh, and are sent again.
    parent.client.tokens.set({ ...after, access: 'expired.access.token' });
    const counted = parent.refreshes();
    const answers = await Promise.all([1, 2, 3].map(() => parent.client.api.GET('/api/v1/auth/me')));
    expect(answers.map((a) => a.response.status)).toEqual([200, 200, 200]);
    expect(parent.refreshes() - counted).toBe(1);
    expect(parent.client.tokens.get()!.refresh).not.toBe(after.refresh);
  });

  it('creates a child as its parent, and reads it back', async () => {
    const created = await parent.client.api.POST('/api/v1/enfants', {
      body: { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2020-05-15' },
    });
    expect(created.response.status).toBe(201);
    expect(created.data).toMatchObject({ prenom: 'Alice', genre: 'F', statut: 'actif', consentement_photo: false });
    const read = await parent.client.api.GET('/api/v1/enfants/{id}', { params: { path: { id: created.data!.id } } });
    expect(read.data).toEqual(created.data);
  });

  it('answers errors in the PtitsPas shape, typed; a refused refresh ends the session', async () => {
    const missing = await staff.api.GET('/api/v1/users/{id}', {
      params: { path: { id: '01890000-0000-7000-8000-000000000000' } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toEqual({ statusCode: 404, message: 'Utilisateur non trouvé', error: 'Not Found' });

    const out = await parent.client.api.POST('/api/v1/auth/logout');
    expect(out.response.status).toBe(200);
    expect(parent.client.tokens.get()).toBeUndefined();
    const after = await parent.client.api.GET('/api/v1/auth/me');
    expect(after.response.status).toBe(401);
  });
});

describe('live notifications through the SDK', () => {
  it('delivers each notification once, resumes from the last one, and ends when the login is revoked', async () => {
    const admin = await ptitspasSuperAdmin(app);
    const account = await ptitspasAccount(app, admin, 'parent');
    const client = createPtitsPasClient({ baseUrl });
    expect(
      (await client.api.POST('/api/v1/auth/login', { body: { email: account.email, password: PTITSPAS_PASSWORD } }))
        .response.status,
    ).toBe(200);
    const conversation = await app.inject({
      method: 'POST',
      url: '/api/v1/messages/conversations',
      headers: admin.headers,
      payload: { participants: [account.id], sujet: 'Rentrée' },
    });
    expect(conversation.statusCode, conversation.body).toBe(201);
    const post = async (contenu: string) => {
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/messages/conversations/${conversation.json().id}/messages`,
        headers: admin.headers,
        payload: { contenu },
      });
      expect(res.statusCode).toBe(201);
    };

    const received: PtitsPasNotification[] = [];
    const sockets = app.ptitspasLive.hub.size;
    const first = liveNotifications(client, { onNotification: (n) => received.push(n) });
    await eventually(() => app.ptitspasLive.hub.size === sockets + 1); // opened with a ticket
    await post('Bonjour');
    await eventually(() => received.length === 1);
    expect(received[0]).toMatchObject({ type: 'message', lien: { type: 'conversation', id: conversation.json().id } });
    first.close();
    await eventually(() => app.ptitspasLive.hub.size === sockets);

    // Missed while closed: the next stream starts from the last one delivered.
    await post('Un');
    await post('Deux');
    let ended: string | undefined;
    const second = liveNotifications(client, {
      depuis: first.last,
      onNotification: (n) => received.push(n),
      onEnd: (reason) => {
        ended = reason;
      },
    });
    await eventually(() => received.length === 3);
    expect(new Set(received.map((n) => n.id)).size).toBe(3);
    expect(received.map((n) => n.id)).toEqual(received.map((n) => n.id).sort());
    expect(second.last).toBe(received[2]!.id);

    // Logged out: the socket closes with 4401, the refresh is refused, the stream ends.
    expect((await client.api.POST('/api/v1/auth/logout')).response.status).toBe(200);
    await eventually(() => ended !== undefined);
    expect(ended).toBe('revoked');
    expect(app.ptitspasLive.hub.size).toBe(sockets);
  });
});
