import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PtitsPasRole } from '../../db/schema.js';
import { Dossier } from '../../domain/ptitspas/dossiers/model.js';
import { closeSchema as closed } from '../../plugins/boundary.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { childWithDossier, completeDossier, uploaded } from '../helpers/ptitspas-files.js';

// /api/v1/dossiers (ptitspas-evolutions.md, "Dossiers"): the enrolment dossier of a child, its
// states and their steps, what a submission needs, whom each step notifies, and lists.

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let coParent: PtitsPasAccount;
let stranger: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
let gestionnaire2: PtitsPasAccount;
let suspendedGestionnaire: PtitsPasAccount;
let administrateur: PtitsPasAccount;
let childminder: PtitsPasAccount;

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  // One after the other: password hashing admits only a few at once from one address.
  const account = (role: PtitsPasRole) => ptitspasAccount(app, admin, role);
  parent = await account('parent');
  coParent = await account('parent');
  stranger = await account('parent');
  gestionnaire = await account('gestionnaire');
  gestionnaire2 = await account('gestionnaire');
  suspendedGestionnaire = await account('gestionnaire');
  administrateur = await account('administrateur');
  childminder = await account('assistante_maternelle');
  const linked = await call('PATCH', `/parents/${parent.id}`, admin, { id_co_parent: coParent.id });
  expect(linked.statusCode, linked.body).toBe(200);
  const suspended = await call('PATCH', `/users/${suspendedGestionnaire.id}/suspendre`, admin, { comment: 'Départ' });
  expect(suspended.statusCode, suspended.body).toBe(200);
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const call = (method: Method, url: string, who: PtitsPasAccount, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });
const error = (statusCode: number, error: string, message: string) => ({ statusCode, error, message });

async function newChild(who: PtitsPasAccount, prenom = 'Alice', nom = 'Dupont'): Promise<string> {
  const res = await call('POST', '/enfants', who, { prenom, nom, genre: 'F', date_naissance: '2021-01-15' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A child of `who` with a complete dossier (a carnet among its pieces), in state brouillon. */
async function childWithDraft(who: PtitsPasAccount, prenom?: string, nom?: string) {
  const id = await newChild(who, prenom, nom);
  const carnet = await uploaded(app, who, { idEnfant: id });
  const put = await call('PUT', `/dossiers/${id}`, who, completeDossier([carnet]));
  expect(put.statusCode, put.body).toBe(200);
  return { id, carnet };
}

async function step(who: PtitsPasAccount, id: string, action: 'soumettre' | 'valider' | 'completer', payload?: object) {
  return call('PATCH', `/dossiers/${id}/${action}`, who, payload);
}
async function expectStep(who: PtitsPasAccount, id: string, action: 'soumettre' | 'valider' | 'completer') {
  const res = await step(who, id, action, action === 'completer' ? { commentaire: 'Il manque une pièce' } : undefined);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const dossierRow = async (id: string) =>
  (await owner.pool.query('select * from ptitspas.dossiers where id_enfant = $1', [id])).rows[0];
/** The notifications about the dossier of `id`: recipient and type, ordered. */
const notificationsAbout = async (id: string) =>
  (
    await owner.pool.query(
      `select id_destinataire, type, lien_type, lien_id, titre, corps, lue_le from ptitspas.notifications
        where lien_id = $1 order by id_destinataire, type`,
      [id],
    )
  ).rows as Array<Record<string, unknown>>;
const recipients = async (id: string, type: string) =>
  (await notificationsAbout(id))
    .filter((n) => n.type === type)
    .map((n) => n.id_destinataire)
    .sort();

describe('GET and PUT /dossiers/:id_enfant', () => {
  it('answers exactly the documented shape (JSON.stringify serializes dossiers, so the schema checks here)', async () => {
    const id = await childWithDossier(app, parent, 'soumis');
    const one = await call('GET', `/dossiers/${id}`, parent);
    const list = await call('GET', '/dossiers?limit=100', parent);
    expect(one.statusCode).toBe(200);
    expect(list.statusCode).toBe(200);
    const answers = [one.json(), ...list.json()];
    expect(answers.length).toBeGreaterThan(1);
    // The list writes the stored JSON as PostgreSQL gives it; the same dossier either way.
    expect(list.json().find((d: { id_enfant: string }) => d.id_enfant === id)).toEqual(one.json());
    // Closed: every field the schema names, of its type and format, and nothing else at any depth.
    const ajv = new Ajv({ allErrors: true, strict: false });
    // ajv-formats' CommonJS default export is typed as a module, not the function it is.
    (addFormats as unknown as (a: Ajv) => void)(ajv);
    const check = ajv.compile(closed(Dossier));
    for (const answer of answers) {
      check(answer);
      expect(check.errors ?? []).toEqual([]);
    }
  });

  it('answers 404 before the first PUT, then the whole dossier, created as brouillon by its author', async () => {
    const id = await newChild(parent);
    const before = await call('GET', `/dossiers/${id}`, parent);
    expect(before.statusCode).toBe(404);
    expect(before.json()).toEqual(error(404, 'Not Found', 'Dossier non trouvé'));

    const carnet = await uploaded(app, parent, { idEnfant: id });
    const body = completeDossier([carnet]);
    // An optional email left out is null; server-owned fields and unknown keys sent are dropped.
    const { email: _email, ...withoutEmail } = body.responsables[0]!;
    const sent = {
      ...body,
      responsables: [
        { ...withoutEmail, inconnu: 'x' },
        { ...body.responsables[0]!, prenom: 'Paul', lien: 'pere' },
      ],
      sante: { ...body.sante, groupe_sanguin: 'O+' },
      statut: 'valide',
      historique: [],
      id_enfant: '00000000-0000-4000-8000-000000000000',
      inconnu: true,
    };
    const started = Date.now();
    const res = await call('PUT', `/dossiers/${id}`, parent, sent);
    expect(res.statusCode, res.body).toBe(200);
    const dossier = res.json();
    expect(dossier).toEqual({
      id_enfant: id,
      statut: 'brouillon',
      responsables: [
        { ...withoutEmail, email: null },
        { ...body.responsables[0], prenom: 'Paul', lien: 'pere' },
      ],
      contacts_urgence: body.contacts_urgence,
      personnes_autorisees: body.personnes_autorisees,
      sante: body.sante,
      autorisations: body.autorisations,
      pieces: [carnet],
      historique: [{ statut: 'brouillon', par: parent.id, le: expect.any(String), commentaire: null }],
      cree_le: expect.any(String),
      modifie_le: expect.any(String),
    });
    expect(new Date(dossier.historique[0].le).getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(Object.keys(dossier.responsables[0])).toContain('email');

    // Stored as answered: nothing unknown in the row.
    const row = await dossierRow(id);
    expect(row.responsables[0]).not.toHaveProperty('inconnu');
    expect(row.sante).not.toHaveProperty('groupe_sanguin');
    expect(row.statut).toBe('brouillon');
    expect(
      (await owner.pool.query('select id_upload, position from ptitspas.dossiers_pieces where id_enfant = $1', [id]))
        .rows,
    ).toEqual([{ id_upload: carnet, position: 0 }]);

    for (const who of [parent, coParent, gestionnaire, administrateur, admin]) {
      const read = await call('GET', `/dossiers/${id}`, who);
      expect(read.statusCode, who.role).toBe(200);
      expect(read.json()).toEqual(dossier);
    }
    for (const who of [stranger, childminder]) {
      const hidden = await call('GET', `/dossiers/${id}`, who);
      expect(hidden.statusCode, who.role).toBe(404);
      expect(hidden.json()).toEqual(error(404, 'Not Found', 'Dossier non trouvé'));
    }
  });

  it('writes every part whole on the next PUT, the pieces in their order, the history unchanged', async () => {
    const { id, carnet } = await childWithDraft(parent);
    const other = await uploaded(app, parent, { idEnfant: id, categorie: 'attestation_assurance' });
    const first = (await call('GET', `/dossiers/${id}`, parent)).json();
    const changed = {
      ...completeDossier([other, carnet]),
      contacts_urgence: [],
      autorisations: { soins_urgence: null, administration_medicaments: false, droit_image: true, sorties: null },
    };
    const res = await call('PUT', `/dossiers/${id}`, coParent, changed);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      statut: 'brouillon',
      contacts_urgence: [],
      autorisations: changed.autorisations,
      pieces: [other, carnet],
      historique: first.historique,
      cree_le: first.cree_le,
    });
    expect(res.json().modifie_le > first.modifie_le).toBe(true);
  });

  it('refuses invalid bodies with 400 and stores nothing', async () => {
    const { id, carnet } = await childWithDraft(parent);
    const stored = (await call('GET', `/dossiers/${id}`, parent)).json();
    const valid = completeDossier([carnet]);
    const responsable = valid.responsables[0]!;
    const contact = valid.contacts_urgence[0]!;
    const ofAnotherChild = await uploaded(app, parent, { idEnfant: await newChild(parent) });
    const unattached = await uploaded(app, parent, { categorie: 'autre' });
    const unknownUpload = '00000000-0000-4000-8000-000000000000';
    const cases: Array<[string, object, string | RegExp]> = [
      ['no responsable', { ...valid, responsables: [] }, 'Le champ responsables doit contenir au moins 1 élément(s).'],
      [
        '5 responsables',
        { ...valid, responsables: Array(5).fill(responsable) },
        'Le champ responsables ne doit pas contenir plus de 4 éléments.',
      ],
      [
        '6 emergency contacts',
        { ...valid, contacts_urgence: Array(6).fill(contact) },
        'Le champ contacts_urgence ne doit pas contenir plus de 5 éléments.',
      ],
      [
        '11 authorised persons',
        { ...valid, personnes_autorisees: Array(11).fill(contact) },
        'Le champ personnes_autorisees ne doit pas contenir plus de 10 éléments.',
      ],
      [
        'a bad lien',
        { ...valid, responsables: [{ ...responsable, lien: 'oncle' }] },
        "La valeur du champ responsables.0.lien n'est pas autorisée.",
      ],
      ['a missing part', { ...valid, sante: undefined }, 'Le champ sante est obligatoire.'],
      [
        'an authorisation not a boolean',
        { ...valid, autorisations: { ...valid.autorisations, sorties: 'oui' } },
        /^Le champ autorisations\.sorties doit être un booléen\./,
      ],
      ['the same piece twice', { ...valid, pieces: [carnet, carnet] }, "La valeur du champ pieces n'est pas valide."],
      [
        'a piece of another child',
        { ...valid, pieces: [carnet, ofAnotherChild] },
        `La pièce ${ofAnotherChild} n'est pas un fichier de cet enfant`,
      ],
      [
        'an upload of no child',
        { ...valid, pieces: [unattached] },
        `La pièce ${unattached} n'est pas un fichier de cet enfant`,
      ],
      [
        'an unknown upload',
        { ...valid, pieces: [unknownUpload] },
        `La pièce ${unknownUpload} n'est pas un fichier de cet enfant`,
      ],
    ];
    for (const [what, body, message] of cases) {
      const res = await call('PUT', `/dossiers/${id}`, parent, body);
      expect(res.statusCode, what).toBe(400);
      expect(res.json(), what).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      if (typeof message === 'string') expect(res.json().message, what).toBe(message);
      else expect(res.json().message, what).toMatch(message);
    }
    expect((await call('GET', `/dossiers/${id}`, parent)).json()).toEqual(stored);
  });

  it('reads a piece named twice in different cases as one piece', async () => {
    const id = await newChild(parent);
    const carnet = await uploaded(app, parent, { idEnfant: id });
    const res = await call('PUT', `/dossiers/${id}`, parent, completeDossier([carnet.toUpperCase(), carnet]));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().pieces).toEqual([carnet]);
  });

  it('answers 404 to a parent of another family and 403 to a childminder, and creates nothing', async () => {
    const id = await newChild(parent);
    const hidden = await call('PUT', `/dossiers/${id}`, stranger, completeDossier());
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual(error(404, 'Not Found', 'Enfant non trouvé'));
    const refused = await call('PUT', `/dossiers/${id}`, childminder, completeDossier());
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual(error(403, 'Forbidden', 'Accès refusé : rôle insuffisant'));
    expect(await dossierRow(id)).toBeUndefined();
  });
});

describe('PATCH /dossiers/:id_enfant/soumettre', () => {
  it('refuses an incomplete dossier with 400 naming each missing item, in French', async () => {
    const id = await newChild(parent);
    const sparse = {
      ...completeDossier(),
      responsables: [{ ...completeDossier().responsables[0], autorite_parentale: false }],
      contacts_urgence: [],
      sante: { ...completeDossier().sante, medecin_traitant: null },
      autorisations: { soins_urgence: null, administration_medicaments: null, droit_image: null, sorties: null },
      pieces: [await uploaded(app, parent, { idEnfant: id, categorie: 'attestation_assurance' })],
    };
    expect((await call('PUT', `/dossiers/${id}`, parent, sparse)).statusCode).toBe(200);
    const res = await step(parent, id, 'soumettre');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(
      error(
        400,
        'Bad Request',
        'Dossier incomplet, il manque : un responsable ayant l’autorité parentale ; un contact d’urgence ; ' +
          'le médecin traitant ; la réponse à l’autorisation « soins d’urgence » ; ' +
          'la réponse à l’autorisation « administration de médicaments » ; ' +
          'la réponse à l’autorisation « droit à l’image » ; la réponse à l’autorisation « sorties » ; ' +
          'le carnet de vaccination (pièce)',
      ),
    );

    // One item missing: only that one is named.
    const onlyCarnet = await call('PUT', `/dossiers/${id}`, parent, completeDossier(sparse.pieces));
    expect(onlyCarnet.statusCode).toBe(200);
    const again = await step(coParent, id, 'soumettre');
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual(
      error(400, 'Bad Request', 'Dossier incomplet, il manque : le carnet de vaccination (pièce)'),
    );
    // A false answer is an answer.
    const answeredNo = {
      ...completeDossier([await uploaded(app, parent, { idEnfant: id })]),
      autorisations: { soins_urgence: false, administration_medicaments: false, droit_image: false, sorties: false },
    };
    expect((await call('PUT', `/dossiers/${id}`, parent, answeredNo)).statusCode).toBe(200);

    const row = await dossierRow(id);
    expect(row.statut).toBe('brouillon');
    expect(row.historique).toHaveLength(1);
    expect(await notificationsAbout(id)).toEqual([]);
    expect((await step(parent, id, 'soumettre')).statusCode).toBe(200);
  });

  it('answers 404 before the first PUT, 404 to another family, 403 to staff', async () => {
    const id = await newChild(parent);
    const none = await step(parent, id, 'soumettre');
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual(error(404, 'Not Found', 'Dossier non trouvé'));
    const { id: drafted } = await childWithDraft(parent);
    const hidden = await step(stranger, drafted, 'soumettre');
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual(error(404, 'Not Found', 'Enfant non trouvé'));
    for (const who of [gestionnaire, admin]) {
      const refused = await step(who, drafted, 'soumettre');
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual(error(403, 'Forbidden', 'Accès refusé : rôle insuffisant'));
    }
    expect((await dossierRow(drafted)).statut).toBe('brouillon');
  });

  it('submits a complete dossier and notifies every active gestionnaire, no one else', async () => {
    const { id } = await childWithDraft(parent, 'Bérénice');
    const res = await step(parent, id, 'soumettre');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id_enfant: id, statut: 'soumis' });
    expect(res.json().historique).toEqual([
      { statut: 'brouillon', par: parent.id, le: expect.any(String), commentaire: null },
      { statut: 'soumis', par: parent.id, le: expect.any(String), commentaire: null },
    ]);
    expect((await dossierRow(id)).statut).toBe('soumis');

    const active = (
      await owner.pool.query(`select id from ptitspas.utilisateurs where role = 'gestionnaire' and statut = 'actif'`)
    ).rows.map((r) => r.id as string);
    expect(active).toEqual(expect.arrayContaining([gestionnaire.id, gestionnaire2.id]));
    expect(active).not.toContain(suspendedGestionnaire.id);
    const notes = await notificationsAbout(id);
    expect(notes.map((n) => n.id_destinataire).sort()).toEqual([...active].sort());
    for (const note of notes) {
      expect(note).toMatchObject({ type: 'dossier_soumis', lien_type: 'dossier', lien_id: id, lue_le: null });
      expect(note.titre).toBe('Dossier à valider');
      expect(note.corps).toBe('Le dossier d’inscription pour Bérénice attend votre validation.');
    }
  });

  it('answers 409 once submitted, to a second submission and to a parent’s PUT; staff may still PUT', async () => {
    const { id, carnet } = await childWithDraft(parent);
    await expectStep(parent, id, 'soumettre');
    const twice = await step(coParent, id, 'soumettre');
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toEqual(
      error(409, 'Conflict', 'Dossier au statut « soumis » : cette étape demande brouillon ou a_completer'),
    );
    const changed = { ...completeDossier([carnet]), contacts_urgence: [] };
    for (const who of [parent, coParent]) {
      const put = await call('PUT', `/dossiers/${id}`, who, changed);
      expect(put.statusCode).toBe(409);
      expect(put.json()).toEqual(
        error(409, 'Conflict', 'Dossier en cours de validation : attendez la décision avant de le modifier'),
      );
    }
    const row = await dossierRow(id);
    expect(row.contacts_urgence).toHaveLength(1);
    expect(row.historique).toHaveLength(2);

    // Staff correct a submitted dossier without changing its state.
    const byStaff = await call('PUT', `/dossiers/${id}`, gestionnaire, changed);
    expect(byStaff.statusCode, byStaff.body).toBe(200);
    expect(byStaff.json()).toMatchObject({ statut: 'soumis', contacts_urgence: [] });
    expect(byStaff.json().historique).toEqual(row.historique);
  });
});

describe('PATCH /dossiers/:id_enfant/valider and /completer', () => {
  it('validates a submitted dossier (with or without a comment) and notifies both parents', async () => {
    const { id } = await childWithDraft(parent, 'Chloé');
    await expectStep(parent, id, 'soumettre');
    const res = await step(gestionnaire, id, 'valider', { commentaire: 'Tout est en ordre' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().statut).toBe('valide');
    expect(res.json().historique.at(-1)).toEqual({
      statut: 'valide',
      par: gestionnaire.id,
      le: expect.any(String),
      commentaire: 'Tout est en ordre',
    });
    expect(await recipients(id, 'dossier_valide')).toEqual([parent.id, coParent.id].sort());
    const note = (await notificationsAbout(id)).find((n) => n.type === 'dossier_valide');
    expect(note).toMatchObject({
      lien_type: 'dossier',
      lien_id: id,
      titre: 'Dossier validé',
      corps: 'Le dossier d’inscription pour Chloé est validé.',
    });

    const { id: other } = await childWithDraft(parent);
    await expectStep(parent, other, 'soumettre');
    const bare = await app.inject({
      method: 'PATCH',
      url: `/api/v1/dossiers/${other}/valider`,
      headers: admin.headers,
    });
    expect(bare.statusCode, bare.body).toBe(200);
    expect(bare.json().historique.at(-1)).toMatchObject({ statut: 'valide', par: admin.id, commentaire: null });
  });

  it('asks for more only with a commentaire (400 without), which the history keeps; parents notified', async () => {
    const { id } = await childWithDraft(parent, 'Denis');
    await expectStep(parent, id, 'soumettre');
    for (const payload of [undefined, {}, { commentaire: '' }, { commentaire: '   ' }]) {
      const res = await step(gestionnaire, id, 'completer', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    }
    expect((await dossierRow(id)).statut).toBe('soumis');
    expect(await recipients(id, 'dossier_a_completer')).toEqual([]);

    const res = await step(administrateur, id, 'completer', { commentaire: 'L’attestation d’assurance manque' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().statut).toBe('a_completer');
    expect(res.json().historique.at(-1)).toEqual({
      statut: 'a_completer',
      par: administrateur.id,
      le: expect.any(String),
      commentaire: 'L’attestation d’assurance manque',
    });
    expect(await recipients(id, 'dossier_a_completer')).toEqual([parent.id, coParent.id].sort());
    const note = (await notificationsAbout(id)).find((n) => n.type === 'dossier_a_completer');
    expect(note).toMatchObject({ titre: 'Dossier à compléter', lien_type: 'dossier', lien_id: id });
    // The comment is behind the link, not on a locked phone.
    expect(note?.corps).not.toContain('assurance');

    // From a_completer, the parents submit again.
    expect((await expectStep(coParent, id, 'soumettre')).statut).toBe('soumis');
  });

  it('answers 409 unless the dossier is soumis, 403 to a parent, 404 before the first PUT', async () => {
    const { id } = await childWithDraft(parent);
    for (const action of ['valider', 'completer'] as const) {
      const res = await step(gestionnaire, id, action, { commentaire: 'x' });
      expect(res.statusCode, action).toBe(409);
      expect(res.json()).toEqual(
        error(409, 'Conflict', 'Dossier au statut « brouillon » : cette étape demande soumis'),
      );
      const byParent = await step(parent, id, action, { commentaire: 'x' });
      expect(byParent.statusCode).toBe(403);
      expect(byParent.json()).toEqual(error(403, 'Forbidden', 'Accès refusé : rôle insuffisant'));
    }
    await expectStep(parent, id, 'soumettre');
    await expectStep(gestionnaire, id, 'valider');
    for (const action of ['valider', 'completer'] as const) {
      const res = await step(gestionnaire, id, action, { commentaire: 'x' });
      expect(res.statusCode, action).toBe(409);
      expect(res.json().message).toBe('Dossier au statut « valide » : cette étape demande soumis');
    }
    expect((await dossierRow(id)).historique.map((s: { statut: string }) => s.statut)).toEqual([
      'brouillon',
      'soumis',
      'valide',
    ]);
    const fresh = await newChild(parent);
    const none = await step(gestionnaire, fresh, 'valider');
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual(error(404, 'Not Found', 'Dossier non trouvé'));
  });

  it('a parent’s PUT on a decided dossier puts it back to brouillon with a step; staff’s does not', async () => {
    for (const decision of ['valider', 'completer'] as const) {
      const { id, carnet } = await childWithDraft(parent);
      await expectStep(parent, id, 'soumettre');
      await expectStep(gestionnaire, id, decision);
      const decided = (await dossierRow(id)).statut;

      const byStaff = await call('PUT', `/dossiers/${id}`, gestionnaire, completeDossier([carnet]));
      expect(byStaff.statusCode).toBe(200);
      expect(byStaff.json().statut).toBe(decided);
      expect(byStaff.json().historique).toHaveLength(3);

      const byParent = await call('PUT', `/dossiers/${id}`, coParent, completeDossier([carnet]));
      expect(byParent.statusCode, byParent.body).toBe(200);
      expect(byParent.json().statut).toBe('brouillon');
      expect(byParent.json().historique.map((s: { statut: string }) => s.statut)).toEqual([
        'brouillon',
        'soumis',
        decided,
        'brouillon',
      ]);
      expect(byParent.json().historique.at(-1)).toMatchObject({ par: coParent.id, commentaire: null });
      expect((await dossierRow(id)).statut).toBe('brouillon');
      expect((await expectStep(parent, id, 'soumettre')).statut).toBe('soumis');
    }
  });
});

describe('GET /dossiers', () => {
  const marker = `Liste${Date.now()}`;
  const names = ['Éloïse', 'Hugo', 'Inès', 'Jules'];
  let family: PtitsPasAccount;
  let ids: Map<string, string>;
  const idOf = (prenom: string) => ids.get(prenom)!;
  beforeAll(async () => {
    family = await ptitspasAccount(app, admin, 'parent');
    ids = new Map();
    // Created one after the other: cree_le orders them as listed.
    for (const prenom of names) ids.set(prenom, (await childWithDraft(family, prenom, marker)).id);
    await expectStep(family, idOf('Hugo'), 'soumettre');
    await expectStep(family, idOf('Inès'), 'soumettre');
    await expectStep(gestionnaire, idOf('Inès'), 'valider');
  });
  const list = (who: PtitsPasAccount, query: string) => call('GET', `/dossiers?${query}`, who);
  const prenoms = (body: Array<{ id_enfant: string }>) =>
    body.map((d) => [...ids].find(([, id]) => id === d.id_enfant)?.[0] ?? d.id_enfant);

  it('pages, with the total in X-Total-Count, newest first by default', async () => {
    const first = await list(admin, `search=${marker}&limit=3`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('4');
    // Written as UTF-8 bytes (routes/ptitspas/responses.ts): still JSON, its length in bytes.
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['content-length']).toBe(String(first.rawPayload.length));
    expect(prenoms(first.json())).toEqual(['Jules', 'Inès', 'Hugo']);
    const second = await list(admin, `search=${marker}&limit=3&page=2`);
    expect(second.headers['x-total-count']).toBe('4');
    expect(prenoms(second.json())).toEqual(['Éloïse']);
    expect(second.json()[0]).toEqual((await call('GET', `/dossiers/${idOf('Éloïse')}`, admin)).json());
    const beyond = await list(admin, `search=${marker}&page=5`);
    expect(beyond.json()).toEqual([]);
    expect(beyond.headers['x-total-count']).toBe('4');
  });

  it('filters by statut, searches the child’s name without accents, sorts', async () => {
    const soumis = await list(gestionnaire, `search=${marker}&statut=soumis`);
    expect(prenoms(soumis.json())).toEqual(['Hugo']);
    expect(soumis.headers['x-total-count']).toBe('1');
    const eloise = await list(gestionnaire, `search=ELOISE%20${marker}`);
    expect(prenoms(eloise.json())).toEqual(['Éloïse']);
    const ines = await list(gestionnaire, `search=in%C3%A8s`);
    expect(prenoms(ines.json())).toContain('Inès');
    expect(prenoms((await list(admin, `search=${marker}&sort=cree_le`)).json())).toEqual(names);
    expect(prenoms((await list(admin, `search=${marker}&sort=statut`)).json())).toEqual([
      expect.stringMatching(/Éloïse|Jules/),
      expect.stringMatching(/Éloïse|Jules/),
      'Hugo',
      'Inès',
    ]);
    expect(prenoms((await list(admin, `search=${marker}&sort=-modifie_le`)).json())[0]).toBe('Inès');
    const bad = await list(admin, 'statut=perdu');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect((await list(admin, 'sort=nom')).statusCode).toBe(400);
    expect((await list(admin, 'limit=101')).statusCode).toBe(400);
  });

  it('shows each parent only their children’s dossiers, a childminder without contract none', async () => {
    const own = await list(family, 'limit=100');
    expect(own.headers['x-total-count']).toBe('4');
    expect(prenoms(own.json()).sort()).toEqual([...names].sort());
    for (const who of [stranger, childminder]) {
      const res = await list(who, `search=${marker}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual([]);
      expect(res.headers['x-total-count']).toBe('0');
    }
    const parents = await list(parent, 'limit=100');
    const visible = (
      await owner.pool.query(
        `select d.id_enfant from ptitspas.dossiers d join ptitspas.enfants_parents ep using (id_enfant)
          where ep.id_parent in ($1, $2)`,
        [parent.id, coParent.id],
      )
    ).rows.map((r) => r.id_enfant as string);
    expect(parents.headers['x-total-count']).toBe(String(visible.length));
    expect(
      parents
        .json()
        .map((d: { id_enfant: string }) => d.id_enfant)
        .sort(),
    ).toEqual(visible.sort());
  });
});

describe('deleting the child', () => {
  it('takes its dossier, pieces and uploads with it, in whatever state (it answered 500 before)', async () => {
    for (const submit of [false, true]) {
      const { id, carnet } = await childWithDraft(parent);
      if (submit) await expectStep(parent, id, 'soumettre');
      const res = await call('DELETE', `/enfants/${id}`, admin);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ message: 'Enfant supprimé' });
      expect(await dossierRow(id)).toBeUndefined();
      const left = await owner.pool.query(
        `select (select count(*) from ptitspas.dossiers_pieces where id_enfant = $1)::int as pieces,
                (select count(*) from ptitspas.uploads where id = $2)::int as uploads`,
        [id, carnet],
      );
      expect(left.rows).toEqual([{ pieces: 0, uploads: 0 }]);
      expect((await call('GET', `/dossiers/${id}`, admin)).statusCode).toBe(404);
      expect((await call('DELETE', `/enfants/${id}`, admin)).statusCode).toBe(404);
    }
  });
});

describe('concurrency', () => {
  it('two first PUTs at once both succeed and make one dossier with one step', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await newChild(parent);
      const carnet = await uploaded(app, parent, { idEnfant: id });
      const [a, b] = await Promise.all([
        call('PUT', `/dossiers/${id}`, parent, completeDossier([carnet])),
        call('PUT', `/dossiers/${id}`, coParent, { ...completeDossier([carnet]), contacts_urgence: [] }),
      ]);
      expect([a.statusCode, b.statusCode], `${a.body} ${b.body}`).toEqual([200, 200]);
      const rows = await owner.pool.query('select historique from ptitspas.dossiers where id_enfant = $1', [id]);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0].historique).toHaveLength(1);
      const pieces = await owner.pool.query('select id_upload from ptitspas.dossiers_pieces where id_enfant = $1', [
        id,
      ]);
      expect(pieces.rows).toEqual([{ id_upload: carnet }]);
    }
  });

  it('two submissions at once: one 200, one 409, one step, one notification per gestionnaire', async () => {
    for (let round = 0; round < 5; round++) {
      const { id } = await childWithDraft(parent);
      const answers = await Promise.all([step(parent, id, 'soumettre'), step(coParent, id, 'soumettre')]);
      expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const row = await dossierRow(id);
      expect(row.historique.map((s: { statut: string }) => s.statut)).toEqual(['brouillon', 'soumis']);
      const notified = await recipients(id, 'dossier_soumis');
      expect(notified).toEqual([...new Set(notified)]);
      expect(notified).toContain(gestionnaire.id);
    }
  });
});
