import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { contratIn } from '../helpers/ptitspas-contrats.js';
import { uploaded } from '../helpers/ptitspas-files.js';

// /api/v1/messages (ptitspas-evolutions.md, "Messages"): who may talk to whom, conversations and
// their members, messages newest first by pages, read marks and unread counts, notifications.

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let otherParent: PtitsPasAccount;
let assistante: PtitsPasAccount;
let otherAssistante: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  parent = await ptitspasAccount(app, admin, 'parent');
  otherParent = await ptitspasAccount(app, admin, 'parent');
  assistante = await ptitspasAccount(app, admin, 'assistante_maternelle');
  otherAssistante = await ptitspasAccount(app, admin, 'assistante_maternelle');
  gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  const child = await call('POST', '/enfants', parent, {
    prenom: 'Lou',
    nom: 'Martin',
    genre: 'F',
    date_naissance: '2024-02-02',
  });
  await contratIn(app, { parent, assistante, idEnfant: child.json().id }, 'signe');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

function call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, who: PtitsPasAccount, payload?: object) {
  return app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });
}

async function conversation(who: PtitsPasAccount, participants: PtitsPasAccount[], sujet = 'Organisation') {
  const res = await call('POST', '/messages/conversations', who, {
    participants: participants.map((p) => p.id),
    sujet,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; participants: string[]; non_lus: number };
}

async function send(who: PtitsPasAccount, id: string, contenu: string) {
  const res = await call('POST', `/messages/conversations/${id}/messages`, who, { contenu });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

describe('who may talk to whom', () => {
  it('a parent and the childminder of their child’s signed contract, and staff with anyone', async () => {
    const c = await conversation(parent, [assistante]);
    expect(c.participants).toEqual([parent.id, assistante.id].sort());
    await conversation(assistante, [parent]);
    await conversation(gestionnaire, [otherParent]);
    await conversation(otherParent, [gestionnaire]);
    await conversation(otherAssistante, [gestionnaire]);
  });

  it.each([
    ['a parent with a childminder without contract', () => [parent, [otherAssistante]]],
    ['a parent with another parent', () => [parent, [otherParent]]],
    ['two childminders', () => [assistante, [otherAssistante]]],
    ['staff with two parents who may not talk to each other', () => [gestionnaire, [parent, otherParent]]],
  ] as const)('refuses %s with 403 and writes nothing', async (_what, who) => {
    const [creator, others] = who() as [PtitsPasAccount, PtitsPasAccount[]];
    const before = await owner.db.selectFrom('ptitspas.conversations').select('id').execute();
    const res = await call('POST', '/messages/conversations', creator, {
      participants: others.map((p) => p.id),
      sujet: 'Bonjour',
    });
    expect(res.statusCode, res.body).toBe(403);
    expect(await owner.db.selectFrom('ptitspas.conversations').select('id').execute()).toHaveLength(before.length);
  });

  it('refuses unknown accounts and a conversation with oneself only (400)', async () => {
    const unknown = await call('POST', '/messages/conversations', gestionnaire, {
      participants: ['01a24a48-5e58-774f-aed8-de13819aa7f2'],
      sujet: 'x',
    });
    expect(unknown.statusCode).toBe(400);
    const alone = await call('POST', '/messages/conversations', gestionnaire, {
      participants: [gestionnaire.id],
      sujet: 'x',
    });
    expect(alone.statusCode).toBe(400);
  });
});

describe('messages', () => {
  it('newest first by pages; notify the others without the text; read marks and unread counts', async () => {
    const c = await conversation(parent, [assistante], 'Vaccin de Lou');
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push(await send(assistante, c.id, `Message ${i}`));
    const mine = await send(parent, c.id, 'Merci !');

    const page1 = await call('GET', `/messages/conversations/${c.id}/messages?limit=2`, parent);
    expect(page1.statusCode, page1.body).toBe(200);
    expect(page1.json().map((m: { contenu: string }) => m.contenu)).toEqual(['Merci !', 'Message 5']);
    const page2 = await call(
      'GET',
      `/messages/conversations/${c.id}/messages?limit=2&avant=${page1.json()[1].id}`,
      parent,
    );
    expect(page2.json().map((m: { contenu: string }) => m.contenu)).toEqual(['Message 4', 'Message 3']);
    expect(page1.json()[0]).toEqual({
      id: mine.id,
      id_conversation: c.id,
      id_auteur: parent.id,
      contenu: 'Merci !',
      id_upload: null,
      cree_le: expect.any(String),
    });

    const notes = await owner.db
      .selectFrom('ptitspas.notifications')
      .select(['titre', 'corps', 'lien_id'])
      .where('id_destinataire', '=', parent.id)
      .where('type', '=', 'message')
      .execute();
    expect(notes).toHaveLength(5);
    for (const n of notes) {
      expect(n.lien_id).toBe(c.id);
      expect(`${n.titre} ${n.corps}`).not.toContain('Vaccin');
      expect(`${n.titre} ${n.corps}`).not.toMatch(/Message \d/);
    }

    const listed = async (who: PtitsPasAccount) =>
      ((await call('GET', '/messages/conversations', who)).json() as Array<{ id: string; non_lus: number }>).find(
        (x) => x.id === c.id,
      )!;
    expect((await listed(parent)).non_lus).toBe(5);
    expect((await listed(assistante)).non_lus).toBe(1);
    const read = await call('PATCH', `/messages/conversations/${c.id}/lu`, parent, { jusqua: sent[2]!.id });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().non_lus).toBe(2);
    // A mark only moves forward.
    await call('PATCH', `/messages/conversations/${c.id}/lu`, parent, { jusqua: sent[0]!.id });
    expect((await listed(parent)).non_lus).toBe(2);
    await call('PATCH', `/messages/conversations/${c.id}/lu`, parent, { jusqua: mine.id });
    expect((await listed(parent)).non_lus).toBe(0);

    // The latest activity first.
    const other = await conversation(parent, [gestionnaire]);
    await send(gestionnaire, other.id, 'Bonjour');
    const order = (await call('GET', '/messages/conversations', parent)).json().map((x: { id: string }) => x.id);
    expect(order.indexOf(other.id)).toBeLessThan(order.indexOf(c.id));
  });

  it('a conversation one is not in is 404 on every route; bad marks, texts and files are 400', async () => {
    const c = await conversation(parent, [assistante]);
    const m = await send(parent, c.id, 'Bonjour');
    for (const [method, url, body] of [
      ['GET', `/messages/conversations/${c.id}/messages`, undefined],
      ['POST', `/messages/conversations/${c.id}/messages`, { contenu: 'Intrus' }],
      ['PATCH', `/messages/conversations/${c.id}/lu`, { jusqua: m.id }],
    ] as const) {
      const res = await call(method, url, otherParent, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Conversation non trouvée' });
    }
    const listed = (await call('GET', '/messages/conversations', otherParent)).json() as Array<{ id: string }>;
    expect(listed.map((x) => x.id)).not.toContain(c.id);

    const tooLong = await call('POST', `/messages/conversations/${c.id}/messages`, parent, {
      contenu: 'a'.repeat(5001),
    });
    expect(tooLong.statusCode).toBe(400);
    const elsewhere = await conversation(parent, [gestionnaire]);
    const foreignMark = await call('PATCH', `/messages/conversations/${c.id}/lu`, parent, {
      jusqua: (await send(parent, elsewhere.id, 'x')).id,
    });
    expect(foreignMark.statusCode).toBe(400);
    const theirs = await uploaded(app, otherParent);
    const foreignFile = await call('POST', `/messages/conversations/${c.id}/messages`, parent, {
      contenu: 'Voici',
      id_upload: theirs,
    });
    expect(foreignFile.statusCode).toBe(400);
    const own = await uploaded(app, parent);
    const withFile = await call('POST', `/messages/conversations/${c.id}/messages`, parent, {
      contenu: 'Voici',
      id_upload: own,
    });
    expect(withFile.statusCode, withFile.body).toBe(201);
    expect(withFile.json().id_upload).toBe(own);
    const removed = await call('DELETE', `/uploads/${own}`, parent);
    expect(removed.statusCode).toBe(409);
    const kept = await app.systemDb.selectFrom('ptitspas.uploads').select('id').where('id', '=', own).execute();
    expect(kept).toHaveLength(1);
  });
});
