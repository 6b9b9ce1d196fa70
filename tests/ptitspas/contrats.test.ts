import { createHash } from 'node:crypto';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PtitsPasRole } from '../../db/schema.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { contratTerms, parisToday, WEEK } from '../helpers/ptitspas-contrats.js';

// /api/v1/contrats and /api/v1/verification (ptitspas-evolutions.md, "Contrats"): terms and their
// refusals, computed pay, states and signatures, capacity, who sees what, the PDF and its
// verification.

const owner = await testDb();
let app: App;
let admin: PtitsPasAccount;
let parent: PtitsPasAccount;
let coParent: PtitsPasAccount;
let stranger: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
let childminder: PtitsPasAccount;
let otherChildminder: PtitsPasAccount;

const today = parisToday();

beforeAll(async () => {
  app = await buildTestApp();
  admin = await ptitspasSuperAdmin(app);
  const account = (role: PtitsPasRole) => ptitspasAccount(app, admin, role);
  parent = await account('parent');
  coParent = await account('parent');
  stranger = await account('parent');
  gestionnaire = await account('gestionnaire');
  childminder = await account('assistante_maternelle');
  otherChildminder = await account('assistante_maternelle');
  const linked = await call('PATCH', `/parents/${parent.id}`, admin, { id_co_parent: coParent.id });
  expect(linked.statusCode, linked.body).toBe(200);
  await owner.db
    .updateTable('ptitspas.utilisateurs')
    .set({ prenom: 'Françoise', nom: 'Lefèvre-Œuvray', adresse: '12 rue de l’Église, 69003 Lyon' })
    .where('id', '=', childminder.id)
    .execute();
});
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const call = (method: Method, url: string, who: PtitsPasAccount | undefined, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who?.headers ?? {}, ...(payload ? { payload } : {}) });

async function newChild(who: PtitsPasAccount, prenom = 'Zoé', nom = 'Dupont'): Promise<string> {
  const res = await call('POST', '/enfants', who, { prenom, nom, genre: 'F', date_naissance: '2024-03-15' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

const terms = (idEnfant: string, extra: Record<string, unknown> = {}) => contratTerms(idEnfant, childminder.id, extra);

async function created(who: PtitsPasAccount, body: object) {
  const res = await call('POST', '/contrats', who, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function expectOk(method: Method, url: string, who: PtitsPasAccount, payload?: object) {
  const res = await call(method, url, who, payload);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const pdfText = async (body: Buffer) => (await new PDFParse({ data: body }).getText()).text;
const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');
const notifications = (who: string, type: string) =>
  owner.db
    .selectFrom('ptitspas.notifications')
    .select(['lien_id', 'titre', 'corps'])
    .where('id_destinataire', '=', who)
    .where('type', '=', type as never)
    .execute();
const places = async (id: string) =>
  owner.db
    .selectFrom('ptitspas.assistantes_maternelles')
    .select(['place_disponible', 'nb_max_enfants'])
    .where('id_utilisateur', '=', id)
    .executeTakeFirstOrThrow();

describe('creating a contract', () => {
  it('computes the pay from the planning: 45 h × 52 / 12 at 4,00 € = 780,00 €', async () => {
    const idEnfant = await newChild(parent);
    const contrat = await created(parent, terms(idEnfant, { semaines_programmees: 30 }));
    expect(contrat).toMatchObject({
      statut: 'brouillon',
      id_enfant: idEnfant,
      id_parent_employeur: parent.id,
      id_assistante_maternelle: childminder.id,
      semaines_programmees: 52, // sent 30, ignored in a full year
      heures_hebdo: 45,
      heures_majorees_hebdo: 0,
      heures_mensualisees: 195,
      salaire_mensuel_brut: 780,
      versement_conges_payes: null,
      majoration_heures_majorees: null,
      signatures: [],
      date_fin: null,
    });
    expect(contrat.code_verification).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    expect(Object.keys(contrat).sort()).toEqual(
      [
        'id',
        'statut',
        'id_enfant',
        'id_parent_employeur',
        'id_assistante_maternelle',
        'type_contrat',
        'date_debut',
        'date_fin',
        'periode_essai_jours',
        'annee_complete',
        'semaines_programmees',
        'versement_conges_payes',
        'planning',
        'taux_horaire_brut',
        'majoration_heures_majorees',
        'indemnite_entretien_jour',
        'indemnite_repas_jour',
        'jour_paiement',
        'lieu_accueil',
        'heures_hebdo',
        'heures_mensualisees',
        'salaire_mensuel_brut',
        'heures_majorees_hebdo',
        'signatures',
        'code_verification',
        'cree_le',
        'modifie_le',
      ].sort(),
    );
    const row = await owner.db
      .selectFrom('ptitspas.contrats')
      .select(['id_auteur', 'salaire_mensuel_centimes', 'taux_horaire_centimes'])
      .where('id', '=', contrat.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ id_auteur: parent.id, salaire_mensuel_centimes: 78_000, taux_horaire_centimes: 400 });
  });

  it('an incomplete year: hours beyond 45 at the majoration, mensualised over the programmed weeks', async () => {
    const idEnfant = await newChild(parent);
    // 5 × 10 h = 50 h: 45 at 4,00 € and 5 at 4,40 €, over 40 weeks: (180 + 22) × 40 / 12 = 673,33 €.
    const long = WEEK.map((c) => ({ ...c, debut: '07:30', fin: '17:30' }));
    const contrat = await created(
      parent,
      terms(idEnfant, {
        planning: long,
        annee_complete: false,
        semaines_programmees: 40,
        versement_conges_payes: 'juin',
        majoration_heures_majorees: 10,
        indemnite_entretien_jour: 4.25,
      }),
    );
    expect(contrat).toMatchObject({
      heures_hebdo: 50,
      heures_majorees_hebdo: 5,
      heures_mensualisees: 166.67,
      salaire_mensuel_brut: 673.33,
      semaines_programmees: 40,
      versement_conges_payes: 'juin',
    });
  });

  it.each([
    ['a rate below the minimum in force (3,64 € in 2026)', { taux_horaire_brut: 3.5 }, 'taux_horaire_brut', '3,64 €'],
    [
      'a maintenance allowance below its floor for the longest day (3,83 € for 9 h)',
      { indemnite_entretien_jour: 3.8 },
      'indemnite_entretien_jour',
      '3,83 €',
    ],
    ['a cdd without date_fin', { type_contrat: 'cdd' }, 'date_fin', 'CDD'],
    ['a date_fin before date_debut', { date_fin: '2025-12-31', date_debut: '2026-01-05' }, 'date_fin', 'précéder'],
    ['a trial beyond 2 months for 5 days a week', { periode_essai_jours: 70 }, 'periode_essai_jours', '2 mois'],
    [
      'more than 45 hours without a majoration',
      { planning: WEEK.map((c) => ({ ...c, fin: '18:00' })), indemnite_entretien_jour: 4.5 },
      'majoration_heures_majorees',
      '45 heures',
    ],
    [
      'an incomplete year without weeks or paid-leave mode',
      { annee_complete: false },
      'semaines_programmees',
      'semaines',
    ],
    [
      'an incomplete year of more than 46 weeks',
      { annee_complete: false, semaines_programmees: 47, versement_conges_payes: 'juin' },
      'semaines_programmees',
      '46',
    ],
    [
      'overlapping times in a day',
      { planning: [...WEEK, { jour: 'lundi', debut: '16:00', fin: '18:00' }] },
      'planning',
      'chevauchent',
    ],
    ['a rate with three decimals', { taux_horaire_brut: 4.125 }, 'taux_horaire_brut', 'décimales'],
    ['a start before the table of minimums', { date_debut: '2023-06-01' }, 'date_debut', '2024'],
  ])('refuses %s with 400 naming it', async (_what, extra, _field, words) => {
    const idEnfant = await newChild(parent);
    const before = await owner.db
      .selectFrom('ptitspas.contrats')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const res = await call('POST', '/contrats', parent, terms(idEnfant, extra));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.json().message).toContain(words);
    const after = await owner.db
      .selectFrom('ptitspas.contrats')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    expect(after).toEqual(before);
  });

  it('a trial of 3 months is allowed for 3 days a week, not for 4', async () => {
    const idEnfant = await newChild(parent);
    const three = WEEK.slice(0, 3);
    const ok = await call(
      'POST',
      '/contrats',
      parent,
      terms(idEnfant, { planning: three, periode_essai_jours: 85, date_debut: '2026-01-05' }),
    );
    expect(ok.statusCode, ok.body).toBe(201);
    const refused = await call(
      'POST',
      '/contrats',
      parent,
      terms(idEnfant, { planning: WEEK.slice(0, 4), periode_essai_jours: 85, date_debut: '2026-01-05' }),
    );
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().message).toContain('2 mois');
  });

  it('refuses an employer who is not a parent of the child, and a childminder who is not one', async () => {
    const idEnfant = await newChild(parent);
    const notParent = await call(
      'POST',
      '/contrats',
      gestionnaire,
      terms(idEnfant, { id_parent_employeur: stranger.id }),
    );
    expect(notParent.statusCode, notParent.body).toBe(400);
    expect(notParent.json().message).toContain("parent de l'enfant");
    const notChildminder = await call(
      'POST',
      '/contrats',
      parent,
      terms(idEnfant, { id_assistante_maternelle: stranger.id }),
    );
    expect(notChildminder.statusCode, notChildminder.body).toBe(400);
    expect(notChildminder.json().message).toContain('assistante maternelle active');
    // Staff must name the employer; the co-parent may be it.
    const unnamed = await call('POST', '/contrats', gestionnaire, terms(idEnfant));
    expect(unnamed.statusCode, unnamed.body).toBe(400);
    const byStaff = await created(gestionnaire, terms(idEnfant, { id_parent_employeur: coParent.id }));
    expect(byStaff.id_parent_employeur).toBe(coParent.id);
  });

  it('a child the caller does not see is 404; fields the server computes or owns, sent along, change nothing', async () => {
    const idEnfant = await newChild(parent);
    const foreign = await call('POST', '/contrats', stranger, terms(idEnfant));
    expect(foreign.statusCode, foreign.body).toBe(404);
    const computed = await call('POST', '/contrats', parent, {
      ...terms(idEnfant),
      salaire_mensuel_brut: 9999,
      heures_hebdo: 1,
      statut: 'signe',
      signatures: [{ par: parent.id, role: 'parent', le: new Date().toISOString() }],
      code_verification: 'AAAAAAAAAAAAAAAAAAAA',
    });
    expect(computed.statusCode, computed.body).toBe(201);
    expect(computed.json()).toMatchObject({
      salaire_mensuel_brut: 780,
      heures_hebdo: 45,
      statut: 'brouillon',
      signatures: [],
    });
    expect(computed.json().code_verification).not.toBe('AAAAAAAAAAAAAAAAAAAA');
    const other = await newChild(parent);
    const byChildminder = await call('POST', '/contrats', childminder, terms(other));
    expect(byChildminder.statusCode, byChildminder.body).toBe(403);
    const rows = await owner.db.selectFrom('ptitspas.contrats').select('id').where('id_enfant', '=', other).execute();
    expect(rows).toEqual([]);
  });
});

describe('draft, proposal, signatures', () => {
  it('only the author and staff change a draft; a proposed contract is frozen (409)', async () => {
    const idEnfant = await newChild(parent);
    const contrat = await created(parent, terms(idEnfant));
    const changed = await expectOk('PATCH', `/contrats/${contrat.id}`, parent, { taux_horaire_brut: 5 });
    expect(changed).toMatchObject({ taux_horaire_brut: 5, salaire_mensuel_brut: 975 });
    const byCoParent = await call('PATCH', `/contrats/${contrat.id}`, coParent, { taux_horaire_brut: 6 });
    expect(byCoParent.statusCode, byCoParent.body).toBe(403);
    const byChildminder = await call('PATCH', `/contrats/${contrat.id}`, childminder, { taux_horaire_brut: 6 });
    expect(byChildminder.statusCode, byChildminder.body).toBe(403);
    const invalid = await call('PATCH', `/contrats/${contrat.id}`, parent, { taux_horaire_brut: 1 });
    expect(invalid.statusCode, invalid.body).toBe(400);
    const byStaff = await expectOk('PATCH', `/contrats/${contrat.id}`, gestionnaire, { jour_paiement: 10 });
    expect(byStaff).toMatchObject({ jour_paiement: 10, taux_horaire_brut: 5 });

    const sign = await call('PATCH', `/contrats/${contrat.id}/signer`, childminder);
    expect(sign.statusCode, sign.body).toBe(409);
    const proposed = await expectOk('PATCH', `/contrats/${contrat.id}/proposer`, parent);
    expect(proposed.statut).toBe('propose');
    expect(await notifications(childminder.id, 'contrat_propose')).toContainEqual(
      expect.objectContaining({ lien_id: contrat.id }),
    );
    expect((await notifications(parent.id, 'contrat_propose')).map((n) => n.lien_id)).not.toContain(contrat.id);
    const again = await call('PATCH', `/contrats/${contrat.id}/proposer`, parent);
    expect(again.statusCode, again.body).toBe(409);
    const late = await call('PATCH', `/contrats/${contrat.id}`, parent, { jour_paiement: 12 });
    expect(late.statusCode, late.body).toBe(409);
  });

  it('both parties sign once each; the last signature makes it signe, takes a place, archives the document and notifies both', async () => {
    const idEnfant = await newChild(parent);
    const contrat = await created(parent, terms(idEnfant));
    await expectOk('PATCH', `/contrats/${contrat.id}/proposer`, parent);
    const placesBefore = await places(childminder.id);

    // The childminder reads the contract and its draft before she sees the child.
    expect((await call('GET', `/enfants/${idEnfant}`, childminder)).statusCode).toBe(404);
    await expectOk('GET', `/contrats/${contrat.id}`, childminder);
    const draft = await call('GET', `/contrats/${contrat.id}/pdf`, childminder);
    expect(draft.statusCode).toBe(200);
    expect(draft.headers['content-type']).toBe('application/pdf');
    expect(await pdfText(draft.rawPayload)).toContain('BROUILLON');

    const bySecondParent = await call('PATCH', `/contrats/${contrat.id}/signer`, coParent);
    expect(bySecondParent.statusCode, bySecondParent.body).toBe(403);
    const first = await expectOk('PATCH', `/contrats/${contrat.id}/signer`, childminder);
    expect(first.statut).toBe('propose');
    expect(first.signatures).toEqual([{ par: childminder.id, role: 'assistante_maternelle', le: expect.any(String) }]);
    const twice = await call('PATCH', `/contrats/${contrat.id}/signer`, childminder);
    expect(twice.statusCode, twice.body).toBe(409);
    const signed = await expectOk('PATCH', `/contrats/${contrat.id}/signer`, parent);
    expect(signed.statut).toBe('signe');
    expect(signed.signatures.map((s: { role: string }) => s.role)).toEqual(['assistante_maternelle', 'parent']);
    expect((await places(childminder.id)).place_disponible).toBe(placesBefore.place_disponible - 1);
    for (const party of [parent.id, childminder.id]) {
      expect((await notifications(party, 'contrat_signe')).map((n) => n.lien_id)).toContain(contrat.id);
    }

    // Signing gave her the child, at once.
    expect((await call('GET', `/enfants/${idEnfant}`, childminder)).statusCode).toBe(200);

    // The signed document: the same bytes every time, the ones verification names.
    const one = await call('GET', `/contrats/${contrat.id}/pdf`, parent);
    const two = await call('GET', `/contrats/${contrat.id}/pdf`, childminder);
    expect(one.statusCode).toBe(200);
    expect(Buffer.compare(one.rawPayload, two.rawPayload)).toBe(0);
    expect(one.headers.etag).toBe(`"${sha256(one.rawPayload)}"`);
    const verified = await call('GET', `/verification/${contrat.code_verification}`, undefined);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({
      type: 'contrat',
      statut: 'signe',
      signe_le: expect.any(String),
      sha256: sha256(one.rawPayload),
    });

    const text = await pdfText(one.rawPayload);
    expect(text).not.toContain('BROUILLON');
    for (const mention of [
      'Françoise Lefèvre-Œuvray',
      '12 rue de l’Église, 69003 Lyon',
      'Zoé Dupont',
      'Léa Dupont',
      'Agrément : n° AM-',
      '1er juin 2015',
      'Heures par semaine : 45,00 h',
      'Heures mensualisées : 195,00 h',
      'Taux horaire brut : 4,00 €',
      'Salaire mensuel brut : 780,00 €',
      'Indemnité d’entretien : 4,00 € par jour',
      'Indemnité de repas : 3,50 € par jour',
      'Période d’essai : 30 jours',
      'Année complète',
      'Signé électroniquement par l’assistante maternelle',
      'Signé électroniquement par le parent employeur',
      contrat.code_verification.slice(0, 5),
      `/api/v1/verification/${contrat.code_verification}`,
    ]) {
      expect(text).toContain(mention);
    }

    // Ending it takes the child back at once and gives the place back; the document stays.
    const early = await call('PATCH', `/contrats/${contrat.id}/terminer`, parent, {
      date_fin: '2020-01-01',
      motif: 'Déménagement',
    });
    expect(early.statusCode, early.body).toBe(400);
    const ended = await expectOk('PATCH', `/contrats/${contrat.id}/terminer`, childminder, {
      date_fin: today,
      motif: 'Déménagement',
    });
    expect(ended).toMatchObject({ statut: 'termine', date_fin: today });
    expect((await call('GET', `/enfants/${idEnfant}`, childminder)).statusCode).toBe(404);
    expect(await places(childminder.id)).toEqual(placesBefore);
    const after = await call('GET', `/verification/${contrat.code_verification.toLowerCase()}`, undefined);
    expect(after.json()).toEqual({ ...verified.json(), statut: 'termine' });
    const kept = await call('GET', `/contrats/${contrat.id}/pdf`, parent);
    expect(sha256(kept.rawPayload)).toBe(verified.json().sha256);
    const twiceEnded = await call('PATCH', `/contrats/${contrat.id}/terminer`, parent, { date_fin: today, motif: 'x' });
    expect(twiceEnded.statusCode, twiceEnded.body).toBe(409);
  });

  it('of two parents signing at once for her last place, exactly one wins; the other is 409 and nothing of it is stored', async () => {
    const busy = await ptitspasAccount(app, admin, 'assistante_maternelle');
    await expectOk('PATCH', `/assistantes-maternelles/${busy.id}`, admin, { nb_max_enfants: 1, place_disponible: 1 });
    const otherParent = await ptitspasAccount(app, admin, 'parent');
    const contracts = [];
    for (const who of [parent, otherParent]) {
      const idEnfant = await newChild(who);
      const contrat = await created(who, terms(idEnfant, { id_assistante_maternelle: busy.id }));
      await expectOk('PATCH', `/contrats/${contrat.id}/proposer`, who);
      await expectOk('PATCH', `/contrats/${contrat.id}/signer`, busy);
      contracts.push({ who, contrat });
    }
    const answers = await Promise.all(
      contracts.map(({ who, contrat }) => call('PATCH', `/contrats/${contrat.id}/signer`, who)),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
    const loser = contracts[answers.findIndex((a) => a.statusCode === 409)]!;
    expect(answers.find((a) => a.statusCode === 409)!.json().message).toContain('maximum');
    const stored = await owner.db
      .selectFrom('ptitspas.contrats')
      .select(['statut', 'document_cle', 'signatures'])
      .where('id', '=', loser.contrat.id)
      .executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ statut: 'propose', document_cle: null });
    expect(stored.signatures).toHaveLength(1);
    expect(await places(busy.id)).toEqual({ place_disponible: 0, nb_max_enfants: 1 });
    const stored2 = await app.storage.list('ptitspas/contrats/');
    const keys = [];
    for await (const object of stored2) keys.push(object.key);
    expect(keys.some((key) => key.includes(loser.contrat.id))).toBe(false);
  });
});

describe('who reads contracts', () => {
  it('a signed contract that starts tomorrow does not show her the child yet', async () => {
    const idEnfant = await newChild(parent);
    const tomorrow = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const contrat = await created(parent, terms(idEnfant, { date_debut: tomorrow }));
    await expectOk('PATCH', `/contrats/${contrat.id}/proposer`, parent);
    await expectOk('PATCH', `/contrats/${contrat.id}/signer`, childminder);
    expect((await expectOk('PATCH', `/contrats/${contrat.id}/signer`, parent)).statut).toBe('signe');
    expect((await call('GET', `/enfants/${idEnfant}`, childminder)).statusCode).toBe(404);
    // Her contracts are hers to read all the same.
    await expectOk('GET', `/contrats/${contrat.id}`, childminder);
    await expectOk('PATCH', `/contrats/${contrat.id}/terminer`, parent, { date_fin: tomorrow, motif: 'Annulé' });
  });

  it('parties and staff read a contract and its PDF; anyone else gets 404; lists show each their own', async () => {
    const idEnfant = await newChild(parent);
    const contrat = await created(parent, terms(idEnfant));
    for (const who of [parent, coParent, childminder, gestionnaire, admin]) {
      expect((await call('GET', `/contrats/${contrat.id}`, who)).statusCode).toBe(200);
    }
    for (const who of [stranger, otherChildminder]) {
      const res = await call('GET', `/contrats/${contrat.id}`, who);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Contrat non trouvé' });
      expect((await call('GET', `/contrats/${contrat.id}/pdf`, who)).statusCode).toBe(404);
      expect(
        (await call('PATCH', `/contrats/${contrat.id}/terminer`, who, { date_fin: today, motif: 'x' })).statusCode,
      ).toBe(404);
    }
    const strangers = await call('GET', '/contrats', stranger);
    expect(strangers.statusCode).toBe(200);
    expect(strangers.json()).toEqual([]);
    expect(strangers.headers['x-total-count']).toBe('0');
    const mine = await call('GET', `/contrats?id_enfant=${idEnfant}`, coParent);
    expect(mine.json().map((c: { id: string }) => c.id)).toEqual([contrat.id]);
    const hers = await call(
      'GET',
      `/contrats?id_assistante_maternelle=${childminder.id}&statut=brouillon&limit=100`,
      childminder,
    );
    expect(hers.json().map((c: { id: string }) => c.id)).toContain(contrat.id);
    expect(
      hers.json().every((c: { id_assistante_maternelle: string }) => c.id_assistante_maternelle === childminder.id),
    ).toBe(true);
  });

  it('verification: unknown and malformed codes are 404; the answer names nothing personal', async () => {
    for (const code of ['ABCDEFGHJKMNPQRSTVWX', 'nope', 'A'.repeat(64)]) {
      const res = await call('GET', `/verification/${code}`, undefined);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'Code de vérification inconnu' });
    }
    const idEnfant = await newChild(parent);
    const contrat = await created(parent, terms(idEnfant));
    const res = await call('GET', `/verification/${contrat.code_verification}`, undefined);
    expect(res.json()).toEqual({ type: 'contrat', statut: 'brouillon', signe_le: null, sha256: null });
  });
});

describe('a contract is an employment record', () => {
  it('deleting its child or one of its parties is 409 and deletes nothing; deleting its author leaves it to staff', async () => {
    const idEnfant = await newChild(parent);
    const author = await ptitspasAccount(app, admin, 'gestionnaire');
    const contrat = await created(author, terms(idEnfant, { id_parent_employeur: parent.id }));
    for (const url of [`/enfants/${idEnfant}`, `/users/${parent.id}`, `/assistantes-maternelles/${childminder.id}`]) {
      const res = await call('DELETE', url, admin);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(409);
      expect(res.json().message).toContain('contrat');
    }
    expect((await call('GET', `/enfants/${idEnfant}`, parent)).statusCode).toBe(200);
    const deleted = await call('DELETE', `/users/${author.id}`, admin);
    expect(deleted.statusCode, deleted.body).toBe(200);
    const row = await owner.db
      .selectFrom('ptitspas.contrats')
      .select('id_auteur')
      .where('id', '=', contrat.id)
      .executeTakeFirstOrThrow();
    expect(row.id_auteur).toBeNull();
    await expectOk('PATCH', `/contrats/${contrat.id}/proposer`, gestionnaire);
  });
});
