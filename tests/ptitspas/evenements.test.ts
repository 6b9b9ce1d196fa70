import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../db/uuid.js';
import { Evenement } from '../../domain/ptitspas/evenements/model.js';
import { closeSchema as closed } from '../../plugins/boundary.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { PNG } from '../helpers/multipart.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { contratIn } from '../helpers/ptitspas-contrats.js';
import { completeDossier, uploaded } from '../helpers/ptitspas-files.js';

// /api/v1/evenements and /enfants/:id/journal (ptitspas-evolutions.md, "Événements"): who writes
// and reads a child's day, the details of each type, the rules, the 24-hour window, the journal,
// the notifications.

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let stranger: PtitsPasAccount;
let assistante: PtitsPasAccount;
let otherAssistante: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
/** A child of `parent` under a signed, current contract with `assistante`; its dossier allows medicines. */
let idEnfant: string;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const call = (method: Method, url: string, who: PtitsPasAccount, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });

async function newChild(prenom = 'Lou') {
  const res = await call('POST', '/enfants', parent, {
    prenom,
    nom: 'Martin',
    genre: 'F',
    date_naissance: '2024-02-02',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  parent = await ptitspasAccount(app, admin, 'parent');
  stranger = await ptitspasAccount(app, admin, 'parent');
  assistante = await ptitspasAccount(app, admin, 'assistante_maternelle');
  otherAssistante = await ptitspasAccount(app, admin, 'assistante_maternelle');
  gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  idEnfant = await newChild();
  const put = await call('PUT', `/dossiers/${idEnfant}`, parent, completeDossier());
  expect(put.statusCode, put.body).toBe(200);
  await contratIn(app, { parent, assistante, idEnfant }, 'signe');
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

async function created(who: PtitsPasAccount, body: object) {
  const res = await call('POST', '/evenements', who, { id_enfant: idEnfant, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('writing the day', () => {
  it('the childminder notes each type with its details; the parents are notified without details', async () => {
    const event = await created(assistante, { type: 'biberon', details: { quantite_ml: 180 } });
    expect(event).toEqual({
      id: expect.any(String),
      id_enfant: idEnfant,
      id_auteur: assistante.id,
      type: 'biberon',
      survenu_le: expect.any(String),
      details: { quantite_ml: 180 },
      note: null,
      id_upload: null,
      cree_le: expect.any(String),
    });
    expect(Math.abs(Date.parse(event.survenu_le) - Date.now())).toBeLessThan(5000);
    for (const body of [
      { type: 'arrivee', details: {} },
      { type: 'repas', details: { quantite: 'moitie' } },
      { type: 'sieste', details: { debut: '2026-01-05T12:30:00Z', fin: '2026-01-05T14:00:00Z' } },
      { type: 'change', details: { selle: true } },
      { type: 'activite', details: { libelle: 'Pâte à sel' } },
      { type: 'humeur', details: { humeur: 'joyeux' } },
      { type: 'temperature', details: { celsius: 38.2 } },
      { type: 'medicament', details: { nom: 'Doliprane', dose: '2,5 ml' } },
      { type: 'incident', details: { description: 'Chute dans le jardin', gravite: 'mineur' } },
      { type: 'note', details: {}, note: 'Très bonne journée' },
      { type: 'depart', details: {} },
    ]) {
      await created(assistante, body);
    }
    const after = await owner.db
      .selectFrom('ptitspas.notifications')
      .select(['titre', 'corps', 'lien_type'])
      .where('id_destinataire', '=', parent.id)
      .where('type', '=', 'evenement')
      .execute();
    // One for each of the 12 events (the first of this file).
    expect(after).toHaveLength(12);
    for (const n of after) {
      expect(n).toEqual({
        titre: 'Journal de Lou',
        corps: 'Un nouvel événement est noté dans la journée de Lou.',
        lien_type: 'evenement',
      });
    }
  });

  it.each([
    ['a key the type does not have', { type: 'change', details: { selle: true, couleur: 'verte' } }, 'details.couleur'],
    ['a missing detail', { type: 'repas', details: {} }, 'details.quantite'],
    ['a bottle over 500 ml', { type: 'biberon', details: { quantite_ml: 501 } }, 'details.quantite_ml'],
    ['a temperature out of range', { type: 'temperature', details: { celsius: 45 } }, 'details.celsius'],
    [
      'a nap ending before it starts',
      { type: 'sieste', details: { debut: '2026-01-05T14:00:00Z', fin: '2026-01-05T13:00:00Z' } },
      'details.fin',
    ],
    ['an unknown mood', { type: 'humeur', details: { humeur: 'furieux' } }, 'details.humeur'],
    ['a note without its text', { type: 'note', details: {} }, 'note'],
    [
      'a time more than 5 minutes ahead',
      { type: 'arrivee', details: {}, survenu_le: new Date(Date.now() + 600_000).toISOString() },
      'survenu_le',
    ],
  ])('refuses %s with 400 and writes nothing', async (_what, body, field) => {
    const count = async () =>
      Number(
        (
          await owner.db
            .selectFrom('ptitspas.evenements')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const res = await call('POST', '/evenements', assistante, { id_enfant: idEnfant, ...body });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(JSON.stringify(res.json())).toContain(field.split('.').pop()!);
    expect(await count()).toBe(before);
  });

  it('a medicine needs the dossier’s authorisation (403); a photo needs a photo of the child and the consent (400)', async () => {
    const other = await newChild('Noé');
    await contratIn(app, { parent, assistante, idEnfant: other }, 'signe');
    const medicine = await call('POST', '/evenements', assistante, {
      id_enfant: other,
      type: 'medicament',
      details: { nom: 'Doliprane', dose: '2,5 ml' },
    });
    expect(medicine.statusCode, medicine.body).toBe(403);

    const photo = { id_enfant: other, type: 'photo', details: {} };
    const noPicture = await call('POST', '/evenements', assistante, photo);
    expect(noPicture.statusCode).toBe(400);
    const consent = await call('PATCH', `/enfants/${other}`, parent, { consentement_photo: true });
    expect(consent.statusCode, consent.body).toBe(200);
    const picture = await uploaded(app, parent, {
      idEnfant: other,
      categorie: 'photo',
      filename: 'jardin.png',
      data: PNG,
      contentType: 'image/png',
    });
    const withPicture = await call('POST', '/evenements', assistante, { ...photo, id_upload: picture });
    expect(withPicture.statusCode, withPicture.body).toBe(201);
    const withdrawn = await call('PATCH', `/enfants/${other}`, parent, { consentement_photo: false });
    expect(withdrawn.statusCode).toBe(200);
    const refused = await call('POST', '/evenements', assistante, { ...photo, id_upload: picture });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().message).toContain('consenti');
    // The picture an event shows cannot be deleted under it.
    expect((await call('DELETE', `/uploads/${picture}`, parent)).statusCode).toBe(409);
    const onOtherType = await call('POST', '/evenements', assistante, {
      id_enfant: other,
      type: 'activite',
      details: { libelle: 'Peinture' },
      id_upload: picture,
    });
    expect(onOtherType.statusCode).toBe(400);
  });

  it('a grave incident also notifies every gestionnaire, without its description', async () => {
    const event = await created(assistante, {
      type: 'incident',
      details: { description: 'Chute, bosse au front', gravite: 'grave' },
    });
    const rows = await owner.db
      .selectFrom('ptitspas.notifications')
      .select(['titre', 'corps'])
      .where('id_destinataire', '=', gestionnaire.id)
      .where('lien_id', '=', event.id)
      .execute();
    expect(rows).toEqual([{ titre: 'Incident à voir', corps: 'Un incident concernant Lou est signalé.' }]);
  });

  it('only the child’s childminder and staff write; a parent is 403, another childminder and a stranger 404', async () => {
    const body = { id_enfant: idEnfant, type: 'arrivee', details: {} };
    expect((await call('POST', '/evenements', parent, body)).statusCode).toBe(403);
    expect((await call('POST', '/evenements', otherAssistante, body)).statusCode).toBe(404);
    expect((await call('POST', '/evenements', gestionnaire, body)).statusCode).toBe(201);
  });
});

describe('changing and deleting', () => {
  it('the author within 24 hours and staff; the author later, or anyone else, 403', async () => {
    const event = await created(assistante, { type: 'repas', details: { quantite: 'peu' } });
    const changed = await call('PATCH', `/evenements/${event.id}`, assistante, { details: { quantite: 'tout' } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ type: 'repas', details: { quantite: 'tout' } });
    const wrong = await call('PATCH', `/evenements/${event.id}`, assistante, { details: { quantite_ml: 10 } });
    expect(wrong.statusCode).toBe(400);
    const byOtherStaffAuthor = await created(gestionnaire, { type: 'arrivee', details: {} });
    expect((await call('PATCH', `/evenements/${byOtherStaffAuthor.id}`, assistante, { note: 'x' })).statusCode).toBe(
      403,
    );

    await owner.db
      .updateTable('ptitspas.evenements')
      .set({ cree_le: new Date(Date.now() - 25 * 3_600_000) })
      .where('id', '=', event.id)
      .execute();
    const late = await call('PATCH', `/evenements/${event.id}`, assistante, { note: 'Oublié' });
    expect(late.statusCode, late.body).toBe(403);
    expect((await call('DELETE', `/evenements/${event.id}`, assistante)).statusCode).toBe(403);
    expect((await call('PATCH', `/evenements/${event.id}`, gestionnaire, { note: 'Corrigé' })).json().note).toBe(
      'Corrigé',
    );
    const deleted = await call('DELETE', `/evenements/${event.id}`, gestionnaire);
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect((await call('GET', `/evenements/${event.id}`, parent)).statusCode).toBe(404);
  });
});

describe('reading the day', () => {
  it('the list needs id_enfant for parents and childminders, is oldest first, filters, and hides others’ children', async () => {
    const child = await newChild('Inès');
    await contratIn(app, { parent, assistante, idEnfant: child }, 'signe');
    const day = '2026-03-10';
    // 07:55 and 18:05 in Paris (UTC+1 in March before the change), a nap 12:30–14:15, two bottles.
    for (const [type, at, details] of [
      ['depart', `${day}T17:05:00Z`, {}],
      ['arrivee', `${day}T06:55:00Z`, {}],
      ['biberon', `${day}T08:00:00Z`, { quantite_ml: 150 }],
      ['sieste', `${day}T11:30:00Z`, { debut: `${day}T11:30:00Z`, fin: `${day}T13:15:00Z` }],
      ['repas', `${day}T11:00:00Z`, { quantite: 'tout' }],
      ['biberon', `${day}T15:00:00Z`, { quantite_ml: 120 }],
      ['arrivee', '2026-03-09T23:30:00Z', {}], // 00:30 on the 10th in Paris
      ['depart', '2026-03-10T23:30:00Z', {}], // 00:30 on the 11th: another day
    ] as const) {
      const res = await call('POST', '/evenements', gestionnaire, { id_enfant: child, type, survenu_le: at, details });
      expect(res.statusCode, res.body).toBe(201);
    }
    const noChild = await call('GET', '/evenements', parent);
    expect(noChild.statusCode).toBe(400);
    const list = await call('GET', `/evenements?id_enfant=${child}&date=${day}`, parent);
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().map((e: { type: string }) => e.type)).toEqual([
      'arrivee',
      'arrivee',
      'biberon',
      'repas',
      'sieste',
      'biberon',
      'depart',
    ]);
    expect(list.headers['x-total-count']).toBe('7');
    const bottles = await call('GET', `/evenements?id_enfant=${child}&type=biberon&limit=1&page=2`, assistante);
    expect(bottles.json().map((e: { details: object }) => e.details)).toEqual([{ quantite_ml: 120 }]);
    expect(bottles.headers['x-total-count']).toBe('2');
    const window = await call(
      'GET',
      `/evenements?id_enfant=${child}&depuis=${day}T10:00:00Z&jusqua=${day}T12:00:00Z`,
      gestionnaire,
    );
    expect(window.json().map((e: { type: string }) => e.type)).toEqual(['repas', 'sieste']);
    for (const who of [stranger, otherAssistante]) {
      expect((await call('GET', `/evenements?id_enfant=${child}`, who)).statusCode).toBe(404);
      expect((await call('GET', `/enfants/${child}/journal?date=${day}`, who)).statusCode).toBe(404);
    }

    const journal = await call('GET', `/enfants/${child}/journal?date=${day}`, parent);
    expect(journal.statusCode, journal.body).toBe(200);
    expect(journal.json()).toMatchObject({
      date: day,
      arrivee: '2026-03-09T23:30:00.000Z',
      depart: `${day}T17:05:00.000Z`,
      sieste_minutes: 105,
      biberons_ml: 270,
      repas: [{ type: 'repas', details: { quantite: 'tout' } }],
    });
    expect(journal.json().evenements).toHaveLength(7);
  });

  it('answers exactly the documented shape (JSON.stringify serializes the list, so the schema checks here)', async () => {
    const child = await newChild('Zoé');
    for (const [type, details, note] of [
      ['biberon', { quantite_ml: 90 }, null],
      ['note', {}, 'Dort bien'],
    ] as const) {
      const res = await call('POST', '/evenements', gestionnaire, { id_enfant: child, type, details, note });
      expect(res.statusCode, res.body).toBe(201);
    }
    const list = await call('GET', `/evenements?id_enfant=${child}`, parent);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toHaveLength(2);
    // Closed: every field the schema names, of its type and format, and nothing else (no total_count).
    const ajv = new Ajv({ allErrors: true, strict: false });
    // ajv-formats' CommonJS default export is typed as a module, not the function it is.
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    const check = ajv.compile(closed(Evenement));
    for (const answer of list.json()) {
      check(answer);
      expect(check.errors ?? []).toEqual([]);
    }
    expect(list.json()[1]).toMatchObject({ type: 'note', note: 'Dort bien', id_upload: null, details: {} });
  });

  it('pages by cursor with apres: the events after one, same order, same filters, whatever was added before it', async () => {
    const child = await newChild('Lou');
    const at = (minute: number) => `2026-04-02T08:${String(minute).padStart(2, '0')}:00Z`;
    // Two events at the same instant: the id breaks the tie, as in the order of the list.
    for (const minute of [0, 10, 10, 20, 30]) {
      const res = await call('POST', '/evenements', gestionnaire, {
        id_enfant: child,
        type: 'humeur',
        survenu_le: at(minute),
        details: { humeur: 'calme' },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const all = (await call('GET', `/evenements?id_enfant=${child}`, parent)).json() as Array<{ id: string }>;
    expect(all).toHaveLength(5);
    const pages: string[][] = [];
    for (let after: string | undefined; ; ) {
      const res = await call('GET', `/evenements?id_enfant=${child}&limit=2${after ? `&apres=${after}` : ''}`, parent);
      expect(res.statusCode, res.body).toBe(200);
      const ids = (res.json() as Array<{ id: string }>).map((e) => e.id);
      if (ids.length === 0) break;
      if (after) expect(res.headers['x-total-count']).toBe(String(5 - pages.flat().length));
      pages.push(ids);
      after = ids.at(-1);
    }
    expect(pages).toEqual([all.slice(0, 2).map((e) => e.id), all.slice(2, 4).map((e) => e.id), [all[4]!.id]]);
    // An event written earlier in the day than the cursor does not shift the next page.
    await call('POST', '/evenements', gestionnaire, {
      id_enfant: child,
      type: 'note',
      survenu_le: '2026-04-02T07:00:00Z',
      details: {},
      note: 'Arrivée en avance',
    });
    const next = await call('GET', `/evenements?id_enfant=${child}&limit=2&apres=${all[1]!.id}`, parent);
    expect(next.json().map((e: { id: string }) => e.id)).toEqual([all[2]!.id, all[3]!.id]);

    const withPage = await call('GET', `/evenements?id_enfant=${child}&page=2&apres=${all[0]!.id}`, parent);
    expect(withPage.statusCode).toBe(400);
    const unknown = await call('GET', `/evenements?id_enfant=${child}&apres=${uuidv7()}`, parent);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toBe('apres doit désigner un événement');
    // Another family's event is no cursor for this parent either.
    expect((await call('GET', `/evenements?id_enfant=${child}&apres=${all[0]!.id}`, stranger)).statusCode).toBe(404);
  });
});
