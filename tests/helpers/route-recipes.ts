import { randomUUID } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { expect } from 'vitest';
import type { PtitsPasRole } from '../../db/schema.js';
import { uuidv7 } from '../../db/uuid.js';
import { notify } from '../../domain/ptitspas/notifications/notify.js';
import { RESET_PASSWORD_PAGE } from '../../routes/medreport/auth/reset-page.js';
import { SET_PASSWORD_PAGE } from '../../routes/ptitspas/auth/set-password-page.js';
import type { App } from '../../src/app.js';
import { type FilePart, multipart } from './multipart.js';
import {
  PTITSPAS_PASSWORD,
  type PtitsPasAccount,
  ptitspasAccount,
  registration as ptitspasRegistration,
  ptitspasSuperAdmin,
  uniqueAgrement,
} from './ptitspas.js';
import { contratIn, contratTerms, parisToday } from './ptitspas-contrats.js';
import { childWithDossier, completeDossier, PDF, uploaded } from './ptitspas-files.js';
import { createOrganization, type Member, type TenantFixture } from './tenants.js';
import { bearer, createPlatformAdmin, PASSWORD, registerUser, registration, uniqueEmail } from './users.js';

/**
 * For every route of the route table, how an authorized caller sends it a valid request. The
 * route-table suites (tests/hostile-input.test.ts) derive their hostile requests from these, and
 * fail on any route that has no recipe: a new route joins them by adding one here.
 */
export interface Recipe {
  /** Who calls: headers of an authorized caller (none for public routes). */
  as?: (fx: RecipeFixture) => Promise<Record<string, string>> | Record<string, string>;
  /** The concrete URL when the route has parameters. */
  url?: (fx: RecipeFixture) => Promise<string> | string;
  /** A valid JSON body. */
  body?: (fx: RecipeFixture) => Promise<Record<string, unknown>> | Record<string, unknown>;
  /** A valid multipart body (fields and files), for routes that read multipart/form-data. */
  multipart?: (fx: RecipeFixture) => Promise<Record<string, string | FilePart>> | Record<string, string | FilePart>;
  /** A valid query string. */
  query?: Record<string, string>;
  /** Server-owned columns this operation legitimately changes (`table.column`; `table.*`: rows may go). */
  changes?: string[];
  /** The status the valid request answers when it is not a success (a recipe that cannot succeed here). */
  status?: number;
}

export interface RecipeFixture {
  app: App;
  /** The caller's organization. */
  a: TenantFixture;
  /** Another organization, whose rows nothing here may touch. */
  victim: TenantFixture;
  /** A platform administrator. */
  admin: { headers: Record<string, string>; id: number };
  /** A new account without an organization. */
  freshUser(): Promise<{ headers: Record<string, string>; email: string }>;
  /** A new doctor of the caller's organization. */
  freshDoctor(): Promise<Member>;
  /** The caller's organization's current invitation code. */
  code(): Promise<string>;
  patient(): Promise<string>;
  prescription(): Promise<string>;
  invoice(): Promise<string>;
  file(): Promise<string>;
  ptitspas: {
    /** The PtitsPas super admin every PtitsPas recipe calls as. */
    superAdmin: PtitsPasAccount;
    /** A new, active, logged-in account of the role. */
    account(role: PtitsPasRole): Promise<PtitsPasAccount>;
    /** The id of a new parent registration waiting for validation. */
    pending(): Promise<string>;
    /** The parent the children below belong to. */
    parent: PtitsPasAccount;
    /** A new child of `parent`. */
    enfant(): Promise<string>;
    /** A new upload by `parent` of a new child of theirs. */
    upload(): Promise<string>;
    /** A new child of `parent` whose complete dossier is in that state. */
    dossier(statut: 'brouillon' | 'soumis'): Promise<string>;
    /** A contract of `parent` for a new child with a new childminder, in that state. */
    contrat(
      statut: 'brouillon' | 'propose' | 'signe',
    ): Promise<{ id: string; code_verification: string; assistante: PtitsPasAccount }>;
    /** A new notification of `parent`. */
    notification(): Promise<string>;
    /** A new event (by the super admin) of a new child of `parent`. */
    evenement(): Promise<{ id: string; idEnfant: string }>;
    /** A new conversation of `parent` with the super admin, and its first message (by `parent`). */
    conversation(): Promise<{ id: string; idMessage: string }>;
  };
}

async function created(app: App, member: Member, url: string, payload: Record<string, unknown>): Promise<string> {
  const res = await app.inject({ method: 'POST', url, headers: member.headers, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().uuid as string;
}

export async function recipeFixture(app: App): Promise<RecipeFixture> {
  const a = await createOrganization(app, 'Caller');
  const victim = await createOrganization(app, 'Victim');
  const admin = await createPlatformAdmin(app);
  const superAdmin = await ptitspasSuperAdmin(app);
  const parent = await ptitspasAccount(app, superAdmin, 'parent');
  const fx: RecipeFixture = {
    app,
    a,
    victim,
    admin: { headers: admin.headers, id: admin.user.id },
    async freshUser() {
      const user = await registerUser(app);
      return { headers: bearer(user.token), email: user.email };
    },
    async freshDoctor() {
      const res = await app.inject({
        method: 'POST',
        url: '/api/register-doctor',
        payload: { ...registration(), organization_code: await fx.code() },
      });
      expect(res.statusCode, res.body).toBe(201);
      return { token: res.json().token, user: res.json().user, headers: bearer(res.json().token) };
    },
    async code() {
      const res = await app.inject({ method: 'GET', url: '/api/organization', headers: a.owner.headers });
      return res.json().organization.code as string;
    },
    patient: () => created(app, a.doctor, '/api/patients', { name: 'Patient Recette' }),
    prescription: async () =>
      created(app, a.doctor, '/api/prescriptions', { patient_uuid: await fx.patient(), medication: 'Paracétamol' }),
    invoice: async () =>
      created(app, a.doctor, '/api/invoices', {
        patient_uuid: await fx.patient(),
        designation: 'Consultation',
        unit_price: 15000,
        quantity: 1,
      }),
    async file() {
      const form = multipart({
        owner_type: 'patient',
        owner_uuid: await fx.patient(),
        file: { filename: 'note.txt', contentType: 'text/plain', data: Buffer.from('compte rendu') },
      });
      const res = await app.inject({
        method: 'POST',
        url: '/api/files',
        headers: { ...a.doctor.headers, ...form.headers },
        payload: form.payload,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().uuid as string;
    },
    ptitspas: {
      superAdmin,
      account: (role) => ptitspasAccount(app, superAdmin, role),
      async pending() {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/auth/register',
          payload: ptitspasRegistration('parent', { password: undefined }),
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().userId as string;
      },
      parent,
      async enfant() {
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/enfants',
          headers: parent.headers,
          payload: { prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2020-05-15' },
        });
        expect(res.statusCode, res.body).toBe(201);
        return res.json().id as string;
      },
      upload: async () => uploaded(app, parent, { idEnfant: await fx.ptitspas.enfant() }),
      dossier: (statut) => childWithDossier(app, parent, statut),
      async contrat(statut) {
        // A childminder of its own: signed contracts take her places, and recipes run many times.
        const assistante = await fx.ptitspas.account('assistante_maternelle');
        const idEnfant = await fx.ptitspas.enfant();
        return { ...(await contratIn(app, { parent, assistante, idEnfant }, statut)), assistante };
      },
      async evenement() {
        const idEnfant = await fx.ptitspas.enfant();
        const res = await app.inject({
          method: 'POST',
          url: '/api/v1/evenements',
          headers: superAdmin.headers,
          payload: { id_enfant: idEnfant, type: 'repas', details: { quantite: 'moitie' } },
        });
        expect(res.statusCode, res.body).toBe(201);
        return { id: res.json().id as string, idEnfant };
      },
      async conversation() {
        const opened = await app.inject({
          method: 'POST',
          url: '/api/v1/messages/conversations',
          headers: parent.headers,
          payload: { participants: [superAdmin.id], sujet: 'Rentrée' },
        });
        expect(opened.statusCode, opened.body).toBe(201);
        const id = opened.json().id as string;
        const posted = await app.inject({
          method: 'POST',
          url: `/api/v1/messages/conversations/${id}/messages`,
          headers: parent.headers,
          payload: { contenu: 'Bonjour' },
        });
        expect(posted.statusCode, posted.body).toBe(201);
        return { id, idMessage: posted.json().id as string };
      },
      async notification() {
        const id = await fx.ptitspas.enfant();
        const dossier = { type: 'dossier', id } as const;
        await notify(app.systemDb, [parent.id], {
          type: 'dossier_valide',
          titre: 'Dossier validé',
          corps: '…',
          lien: dossier,
        });
        const row = await app.systemDb
          .selectFrom('ptitspas.notifications')
          .select('id')
          .where('id_destinataire', '=', parent.id)
          .where('lien_id', '=', id)
          .executeTakeFirstOrThrow();
        return row.id;
      },
    },
  };
  return fx;
}

const doctor = (fx: RecipeFixture) => fx.a.doctor.headers;
const owner = (fx: RecipeFixture) => fx.a.owner.headers;
const freshUser = async (fx: RecipeFixture) => (await fx.freshUser()).headers;
const freshDoctor = async (fx: RecipeFixture) => (await fx.freshDoctor()).headers;
const platformAdmin = (fx: RecipeFixture) => fx.admin.headers;
/** An account of its own for an administrator's change: a new doctor of the caller's organization. */
const adminTarget = async (fx: RecipeFixture) => `/api/admin/users/${(await fx.freshDoctor()).user.id}`;

const patientFields = { name: 'Awa Ndiaye', birth_date: '1980-03-04', phone: '+221770000000', notes: 'RAS' };
const listQuery = { page: '1', limit: '5', search: 'a', sort: '-created_at' };

const superAdmin = (fx: RecipeFixture) => fx.ptitspas.superAdmin.headers;
const freshPtitsPas = (role: PtitsPasRole) => async (fx: RecipeFixture) => (await fx.ptitspas.account(role)).headers;
const ptitspasUser =
  (role: PtitsPasRole, suffix = '') =>
  async (fx: RecipeFixture) =>
    `/api/v1/users/${(await fx.ptitspas.account(role)).id}${suffix}`;
const staff = (role: string) => ({
  email: uniqueEmail(role),
  password: PTITSPAS_PASSWORD,
  role,
  prenom: 'Sophie',
  nom: 'Leroy',
  telephone: '0601020304',
  adresse: '1 rue de la Paix, 75001 Paris',
});
const ptitspasListQuery = { page: '1', limit: '5', sort: 'nom', statut: 'actif', search: 'a' };
const ptitspasAccountUrl = (base: string, role: PtitsPasRole) => async (fx: RecipeFixture) =>
  `${base}/${(await fx.ptitspas.account(role)).id}`;
const enfantUrl = async (fx: RecipeFixture) => `/api/v1/enfants/${await fx.ptitspas.enfant()}`;
const uploadUrl =
  (suffix = '') =>
  async (fx: RecipeFixture) =>
    `/api/v1/uploads/${await fx.ptitspas.upload()}${suffix}`;
const dossierUrl =
  (statut: 'brouillon' | 'soumis', suffix = '') =>
  async (fx: RecipeFixture) =>
    `/api/v1/dossiers/${await fx.ptitspas.dossier(statut)}${suffix}`;
const contratUrl =
  (statut: 'brouillon' | 'propose' | 'signe', suffix = '') =>
  async (fx: RecipeFixture) =>
    `/api/v1/contrats/${(await fx.ptitspas.contrat(statut)).id}${suffix}`;
const evenementUrl = async (fx: RecipeFixture) => `/api/v1/evenements/${(await fx.ptitspas.evenement()).id}`;
const conversationUrl = (suffix: string) => async (fx: RecipeFixture) =>
  `/api/v1/messages/conversations/${(await fx.ptitspas.conversation()).id}${suffix}`;
/** One conversation per fixture for the read-mark recipe: its url and body name the same one, in any order. */
const toRead = new WeakMap<RecipeFixture, Promise<{ id: string; idMessage: string }>>();
const conversationToRead = (fx: RecipeFixture) => {
  if (!toRead.has(fx)) toRead.set(fx, fx.ptitspas.conversation());
  return toRead.get(fx)!;
};
/** The proposed contract a signing recipe's caller (its childminder) signs. */
let toSign: { id: string; assistante: PtitsPasAccount } | undefined;
/** What a dossier step changes: its state and history (and the notifications it writes). */
const DOSSIER_STEP = ['dossiers.statut', 'dossiers.historique'];
/** A valid NIR: 13 digits and their key. */
export const VALID_NIR = '185077512345608';

/** One entry per `METHOD /url` of the route table (HEAD routes are covered by their GET). */
export const RECIPES: Record<string, Recipe> = {
  // Public
  'GET /api': {},
  // The page of the e-mailed reset link (served while PASSWORD_RESET_URL is unset, as here).
  [`GET ${RESET_PASSWORD_PAGE}`]: {},
  'POST /api/register': { body: () => registration() },
  'POST /api/login': { body: (fx) => ({ email: fx.a.doctor.user.email, password: PASSWORD }) },
  'POST /api/forgot-password': { body: (fx) => ({ email: fx.a.doctor.user.email }) },
  'POST /api/reset-password': {
    status: 422,
    body: (fx) => ({
      token: 'not-a-token',
      email: fx.a.doctor.user.email,
      password: 'x'.repeat(12),
      password_confirmation: 'x'.repeat(12),
    }),
  },
  'POST /api/register-owner': { body: () => ({ ...registration(), organization_name: 'Clinique Recette' }) },
  'POST /api/register-doctor': { body: async (fx) => ({ ...registration(), organization_code: await fx.code() }) },
  'GET /api/verify/:code': {
    url: async (fx) => {
      const url = `/api/prescriptions/${await fx.prescription()}`;
      const res = await fx.app.inject({ method: 'GET', url, headers: fx.a.doctor.headers });
      return `/api/verify/${res.json().verification_code}`;
    },
  },
  'GET /api/auth/google': {},
  'GET /api/auth/google/callback': { query: { code: 'abc', state: 'def' }, status: 401 },
  // Not configured in the route-table app: the routes exist and say so.
  'GET /api/auth/facebook': { status: 404 },
  'GET /api/auth/facebook/callback': { query: { code: 'abc', state: 'def' }, status: 404 },
  'GET /api/auth/github': { status: 404 },
  'GET /api/auth/github/callback': { query: { code: 'abc', state: 'def' }, status: 404 },

  // Authenticated, any account
  'POST /api/logout': { as: freshDoctor },
  'POST /api/auth/refresh': { as: freshDoctor },
  'GET /api/user': { as: doctor },
  'GET /api/me': { as: doctor },
  'GET /api/user/profile': { as: doctor },
  'PUT /api/user/profile': {
    as: doctor,
    body: () => ({ name: 'Dr Recette', phone: '+33600000000', birth_date: '1979-12-31' }),
    multipart: () => ({ name: 'Dr Recette', speciality: 'Pédiatrie' }),
  },
  'PUT /api/user/profile/email': {
    as: freshUser,
    body: () => ({ email: uniqueEmail('moved'), current_password: PASSWORD }),
    changes: ['users.email'],
  },
  'PUT /api/user/profile/password': {
    as: freshUser,
    body: () => ({
      current_password: PASSWORD,
      password: 'another long passphrase',
      password_confirmation: 'another long passphrase',
    }),
    changes: ['users.password_hash'],
  },
  'DELETE /api/user/profile/avatar': { as: doctor, changes: ['users.avatar'] },
  'GET /api/user/avatar/:name': {
    as: doctor,
    url: () => '/api/user/avatar/AAAAAAAAAAAAAAAAAAAAAA.png',
    status: 404,
  },
  'POST /api/user/profile/join-organization': {
    as: freshUser,
    body: async (fx) => ({ organization_code: await fx.code() }),
    changes: ['users.organization_id', 'users.role'],
  },

  // Platform administration
  'GET /api/admin/dashboard/stats': { as: platformAdmin },
  'GET /api/admin/users': {
    as: platformAdmin,
    query: { page: '1', limit: '5', search: 'doc', status: 'active' },
  },
  'GET /api/admin/users/:id': { as: platformAdmin, url: (fx) => `/api/admin/users/${fx.a.doctor.user.id}` },
  'PUT /api/admin/users/:id': {
    as: platformAdmin,
    url: adminTarget,
    body: () => ({ name: 'Nom Vérifié', speciality: 'Pédiatrie', phone: null, roles: ['doctor'] }),
  },
  'PATCH /api/admin/users/:id/status': {
    as: platformAdmin,
    url: async (fx) => `${await adminTarget(fx)}/status`,
    body: () => ({ status: 'active' }),
  },
  'DELETE /api/admin/users/:id': {
    as: platformAdmin,
    url: adminTarget,
    changes: ['users.email', 'users.role', 'users.organization_id', 'users.password_hash', 'users.deleted_at'],
  },

  // Tenant
  'GET /api/organization': { as: doctor },
  'PUT /api/organization': { as: owner, body: () => ({ name: 'Clinique Renommée' }) },
  'POST /api/organization/rotate-code': { as: owner, changes: ['organizations.code'] },
  'GET /api/patients': { as: doctor, query: listQuery },
  'GET /api/patients/export': { as: doctor, query: { format: 'csv' } },
  'POST /api/patients': { as: doctor, body: () => patientFields },
  'GET /api/patients/:uuid': { as: doctor, url: async (fx) => `/api/patients/${await fx.patient()}` },
  'PATCH /api/patients/:uuid': {
    as: doctor,
    url: async (fx) => `/api/patients/${await fx.patient()}`,
    body: () => ({ name: 'Nom Modifié', notes: 'Suivi' }),
  },
  'DELETE /api/patients/:uuid': {
    as: doctor,
    url: async (fx) => `/api/patients/${await fx.patient()}`,
    changes: ['patients.deleted_at'],
  },
  'GET /api/prescriptions': { as: doctor, query: listQuery },
  'GET /api/prescriptions/export': { as: doctor, query: { format: 'csv' } },
  'POST /api/prescriptions': {
    as: doctor,
    body: async (fx) => ({ patient_uuid: await fx.patient(), medication: 'Amoxicilline', validity_period: 30 }),
  },
  'GET /api/prescriptions/:uuid': { as: doctor, url: async (fx) => `/api/prescriptions/${await fx.prescription()}` },
  'PATCH /api/prescriptions/:uuid': {
    as: doctor,
    url: async (fx) => `/api/prescriptions/${await fx.prescription()}`,
    body: () => ({ dosage: '2x/jour', validity_period: 10 }),
  },
  'GET /api/prescriptions/:uuid/pdf': {
    as: doctor,
    url: async (fx) => `/api/prescriptions/${await fx.prescription()}/pdf`,
  },
  'DELETE /api/prescriptions/:uuid': {
    as: doctor,
    url: async (fx) => `/api/prescriptions/${await fx.prescription()}`,
    changes: ['prescriptions.deleted_at'],
  },
  'GET /api/invoices': { as: doctor, query: listQuery },
  'POST /api/invoices': {
    as: doctor,
    body: async (fx) => ({
      patient_uuid: await fx.patient(),
      designation: 'Consultation',
      unit_price: 15000,
      quantity: 2,
    }),
  },
  'GET /api/invoices/:uuid': { as: doctor, url: async (fx) => `/api/invoices/${await fx.invoice()}` },
  'PATCH /api/invoices/:uuid': {
    as: doctor,
    url: async (fx) => `/api/invoices/${await fx.invoice()}`,
    body: () => ({ quantity: 3 }),
  },
  'GET /api/invoices/:uuid/pdf': { as: doctor, url: async (fx) => `/api/invoices/${await fx.invoice()}/pdf` },
  'DELETE /api/invoices/:uuid': {
    as: doctor,
    url: async (fx) => `/api/invoices/${await fx.invoice()}`,
    changes: ['invoices.deleted_at'],
  },
  'POST /api/files': {
    as: doctor,
    multipart: async (fx) => ({
      owner_type: 'patient',
      owner_uuid: await fx.patient(),
      file: { filename: 'scan.pdf', contentType: 'application/pdf', data: Buffer.from('%PDF-1.4\n% scan\n') },
    }),
  },
  'GET /api/files/:uuid': { as: doctor, url: async (fx) => `/api/files/${await fx.file()}` },
  'GET /api/activity-log': {
    as: doctor,
    query: { page: '1', limit: '5', from: '2020-01-01', to: '2999-01-01', action_type: 'created', search: 'a' },
  },
  'GET /api/reports/overview': { as: doctor },
  'GET /api/sync/changes': { as: doctor, query: { limit: '50' } },
  'POST /api/sync/batch': {
    as: doctor,
    body: () => ({ patients: [{ uuid: randomUUID(), name: 'Patient Synchro', updated_at: new Date().toISOString() }] }),
  },
  'GET /api/sync/status': { as: doctor },

  // PtitsPas (/api/v1)
  'GET /api/v1': {},
  'GET /api/v1/': {},
  'GET /api/v1/hello': {},
  'POST /api/v1/auth/login': {
    body: (fx) => ({ email: fx.ptitspas.superAdmin.email, password: PTITSPAS_PASSWORD }),
  },
  'POST /api/v1/auth/register': { body: () => ptitspasRegistration('assistante_maternelle') },
  'POST /api/v1/auth/refresh': {
    body: async (fx) => ({ refresh_token: (await fx.ptitspas.account('parent')).refresh }),
  },
  'POST /api/v1/auth/set-password': { status: 400, body: () => ({ token: 'not-a-token', password: 'x'.repeat(12) }) },
  // The page of the e-mailed set-password link (served while PTITSPAS_SET_PASSWORD_URL is unset, as here).
  [`GET ${SET_PASSWORD_PAGE}`]: {},
  'GET /api/v1/auth/me': { as: superAdmin },
  'POST /api/v1/auth/logout': { as: freshPtitsPas('parent'), changes: ['refresh_families.revoque_le'] },
  'GET /api/v1/users': { as: superAdmin, query: { ...ptitspasListQuery, role: 'parent' } },
  'GET /api/v1/users/:id': { as: superAdmin, url: ptitspasUser('parent') },
  'POST /api/v1/users': { as: superAdmin, body: () => staff('administrateur') },
  'PATCH /api/v1/users/:id': {
    as: superAdmin,
    url: ptitspasUser('parent'),
    body: () => ({ prenom: 'Jean-Claude', telephone: '0612345678', adresse: '2 rue du Bac, Paris' }),
  },
  'PATCH /api/v1/users/:id/valider': {
    as: superAdmin,
    url: async (fx) => `/api/v1/users/${await fx.ptitspas.pending()}/valider`,
    body: () => ({ comment: 'Documents vérifiés' }),
    changes: ['utilisateurs.statut'],
  },
  'PATCH /api/v1/users/:id/suspendre': {
    as: superAdmin,
    url: ptitspasUser('parent', '/suspendre'),
    body: () => ({ comment: 'Non-respect des conditions' }),
    changes: ['utilisateurs.statut', 'refresh_families.revoque_le'],
  },
  'DELETE /api/v1/users/:id': {
    as: superAdmin,
    url: ptitspasUser('parent'),
    // The account's own notifications (its compte_valide) go with it.
    changes: ['utilisateurs.*', 'parents.*', 'refresh_families.*', 'historique_statuts.*', 'notifications.*'],
  },
  'GET /api/v1/gestionnaires': { as: superAdmin, query: ptitspasListQuery },
  'GET /api/v1/gestionnaires/:id': {
    as: superAdmin,
    url: async (fx) => `/api/v1/gestionnaires/${(await fx.ptitspas.account('gestionnaire')).id}`,
  },
  'POST /api/v1/gestionnaires': {
    as: superAdmin,
    body: () => {
      const { role: _role, ...body } = staff('gestionnaire');
      return body;
    },
  },
  'PATCH /api/v1/gestionnaires/:id': {
    as: superAdmin,
    url: async (fx) => `/api/v1/gestionnaires/${(await fx.ptitspas.account('gestionnaire')).id}`,
    body: () => ({ nom: 'Bernard', telephone: null }),
  },
  'GET /api/v1/parents': { as: superAdmin, query: ptitspasListQuery },
  'GET /api/v1/parents/:id': { as: superAdmin, url: ptitspasAccountUrl('/api/v1/parents', 'parent') },
  'POST /api/v1/parents': {
    as: superAdmin,
    body: () => {
      const { role: _role, password: _password, ...body } = staff('parent');
      return body;
    },
  },
  'PATCH /api/v1/parents/:id': {
    as: superAdmin,
    url: ptitspasAccountUrl('/api/v1/parents', 'parent'),
    body: async (fx) => ({ id_co_parent: (await fx.ptitspas.account('parent')).id, telephone: '0611223344' }),
  },
  'GET /api/v1/enfants': { as: superAdmin, query: ptitspasListQuery },
  'GET /api/v1/enfants/:id': { as: superAdmin, url: enfantUrl },
  'POST /api/v1/enfants': {
    as: (fx) => fx.ptitspas.parent.headers,
    body: () => ({ prenom: 'Alice', nom: 'Dupont', genre: 'F', date_naissance: '2020-05-15', statut: 'actif' }),
  },
  'PATCH /api/v1/enfants/:id': {
    as: superAdmin,
    url: enfantUrl,
    body: () => ({ statut: 'scolarise', consentement_photo: true }),
  },
  'DELETE /api/v1/enfants/:id': { as: superAdmin, url: enfantUrl, changes: ['enfants.*'] },
  'GET /api/v1/assistantes-maternelles': {
    as: superAdmin,
    query: { ...ptitspasListQuery, ville_residence: 'Paris', disponible: 'true' },
  },
  'GET /api/v1/assistantes-maternelles/:id': {
    as: superAdmin,
    url: ptitspasAccountUrl('/api/v1/assistantes-maternelles', 'assistante_maternelle'),
  },
  'POST /api/v1/assistantes-maternelles': {
    as: superAdmin,
    body: () => {
      const { role: _role, password: _password, ...account } = staff('am');
      return {
        ...account,
        numero_agrement: uniqueAgrement(),
        date_agrement: '2015-06-01',
        nb_max_enfants: 4,
        place_disponible: 2,
        ville_residence: 'Paris',
        nir_chiffre: VALID_NIR,
        biographie: 'Assistante maternelle depuis 10 ans',
        annee_experience: 10,
        specialite: 'Pédagogie Montessori',
        disponible: true,
      };
    },
  },
  'PATCH /api/v1/assistantes-maternelles/:id': {
    as: superAdmin,
    url: ptitspasAccountUrl('/api/v1/assistantes-maternelles', 'assistante_maternelle'),
    body: () => ({ place_disponible: 1, disponible: true, biographie: 'Nouvelle bio' }),
  },
  'POST /api/v1/uploads': {
    as: superAdmin,
    multipart: () => ({
      categorie: 'attestation_assurance',
      fichier: { filename: 'attestation.pdf', contentType: 'application/pdf', data: PDF },
    }),
  },
  'GET /api/v1/uploads/:id': { as: superAdmin, url: uploadUrl() },
  'GET /api/v1/uploads/:id/contenu': { as: superAdmin, url: uploadUrl('/contenu') },
  'DELETE /api/v1/uploads/:id': { as: superAdmin, url: uploadUrl(), changes: ['uploads.*'] },
  'GET /api/v1/dossiers': {
    as: superAdmin,
    query: { page: '1', limit: '5', sort: '-modifie_le', statut: 'brouillon', search: 'a' },
  },
  'GET /api/v1/dossiers/:id_enfant': { as: superAdmin, url: dossierUrl('brouillon') },
  'PUT /api/v1/dossiers/:id_enfant': {
    as: superAdmin,
    url: async (fx) => `/api/v1/dossiers/${await fx.ptitspas.enfant()}`,
    body: () => completeDossier(),
  },
  'PATCH /api/v1/dossiers/:id_enfant/soumettre': {
    as: (fx) => fx.ptitspas.parent.headers,
    url: dossierUrl('brouillon', '/soumettre'),
    changes: DOSSIER_STEP,
  },
  'PATCH /api/v1/dossiers/:id_enfant/valider': {
    as: superAdmin,
    url: dossierUrl('soumis', '/valider'),
    body: () => ({ commentaire: 'Dossier complet' }),
    changes: DOSSIER_STEP,
  },
  'PATCH /api/v1/dossiers/:id_enfant/completer': {
    as: superAdmin,
    url: dossierUrl('soumis', '/completer'),
    body: () => ({ commentaire: 'Il manque l’attestation d’assurance' }),
    changes: DOSSIER_STEP,
  },
  'POST /api/v1/contrats': {
    as: superAdmin,
    body: async (fx) => ({
      ...contratTerms(await fx.ptitspas.enfant(), (await fx.ptitspas.account('assistante_maternelle')).id),
      id_parent_employeur: fx.ptitspas.parent.id,
    }),
  },
  'GET /api/v1/contrats': {
    as: superAdmin,
    query: { page: '1', limit: '5', sort: '-date_debut', statut: 'brouillon' },
  },
  'GET /api/v1/contrats/:id': { as: superAdmin, url: contratUrl('brouillon') },
  'GET /api/v1/contrats/:id/pdf': { as: superAdmin, url: contratUrl('brouillon', '/pdf') },
  'PATCH /api/v1/contrats/:id': {
    as: superAdmin,
    url: contratUrl('brouillon'),
    body: () => ({ taux_horaire_brut: 4.5, jour_paiement: 10 }),
    changes: ['contrats.modifie_le'],
  },
  'PATCH /api/v1/contrats/:id/proposer': {
    as: superAdmin,
    url: contratUrl('brouillon', '/proposer'),
    changes: ['contrats.statut', 'contrats.modifie_le'],
  },
  'PATCH /api/v1/contrats/:id/signer': {
    // Her signature, the first: the contract stays `propose` (the last one is in tests/ptitspas/contrats.test.ts).
    as: async (fx) => {
      toSign = await fx.ptitspas.contrat('propose');
      return toSign.assistante.headers;
    },
    url: async (fx) => {
      const { id } = toSign ?? (await fx.ptitspas.contrat('propose'));
      toSign = undefined;
      return `/api/v1/contrats/${id}/signer`;
    },
    changes: ['contrats.signatures', 'contrats.modifie_le'],
  },
  'PATCH /api/v1/contrats/:id/terminer': {
    as: superAdmin,
    url: contratUrl('signe', '/terminer'),
    body: () => ({ date_fin: parisToday(), motif: 'Fin de l’accueil' }),
    changes: ['contrats.statut', 'contrats.modifie_le', 'assistantes_maternelles.place_disponible'],
  },
  'POST /api/v1/evenements': {
    as: superAdmin,
    body: async (fx) => ({ id_enfant: await fx.ptitspas.enfant(), type: 'biberon', details: { quantite_ml: 120 } }),
  },
  'GET /api/v1/evenements': {
    as: superAdmin,
    // Parents and childminders must name the child: in the URL, as the query is static.
    url: async (fx) => `/api/v1/evenements?id_enfant=${(await fx.ptitspas.evenement()).idEnfant}`,
    query: { page: '1', limit: '5', type: 'repas' },
  },
  'GET /api/v1/evenements/:id': { as: superAdmin, url: evenementUrl },
  'PATCH /api/v1/evenements/:id': {
    as: superAdmin,
    url: evenementUrl,
    body: () => ({ details: { quantite: 'tout' }, note: 'A tout mangé' }),
  },
  'DELETE /api/v1/evenements/:id': { as: superAdmin, url: evenementUrl, changes: ['evenements.*'] },
  'GET /api/v1/enfants/:id/journal': {
    as: superAdmin,
    url: async (fx) => `/api/v1/enfants/${(await fx.ptitspas.evenement()).idEnfant}/journal`,
    query: { date: parisToday() },
  },
  'POST /api/v1/messages/conversations': {
    as: superAdmin,
    // With a gestionnaire: staff talk with anyone, so the recipe holds for every caller.
    body: async (fx) => ({ participants: [(await fx.ptitspas.account('gestionnaire')).id], sujet: 'Adaptation' }),
  },
  'GET /api/v1/messages/conversations': { as: superAdmin },
  'GET /api/v1/messages/conversations/:id/messages': {
    as: superAdmin,
    url: conversationUrl('/messages'),
    query: { limit: '5' },
  },
  'POST /api/v1/messages/conversations/:id/messages': {
    as: superAdmin,
    url: conversationUrl('/messages'),
    body: () => ({ contenu: 'Merci, à demain.' }),
  },
  'PATCH /api/v1/messages/conversations/:id/lu': {
    as: superAdmin,
    url: async (fx) => `/api/v1/messages/conversations/${(await conversationToRead(fx)).id}/lu`,
    body: async (fx) => ({ jusqua: (await conversationToRead(fx)).idMessage }),
    changes: ['conversations_participants.lu_jusqua'],
  },
  'GET /api/v1/notifications': {
    as: (fx) => fx.ptitspas.parent.headers,
    query: { page: '1', limit: '5', non_lues: 'true' },
  },
  'GET /api/v1/notifications/compteur': { as: (fx) => fx.ptitspas.parent.headers },
  'PATCH /api/v1/notifications/:id/lue': {
    as: (fx) => fx.ptitspas.parent.headers,
    url: async (fx) => `/api/v1/notifications/${await fx.ptitspas.notification()}/lue`,
    changes: ['notifications.lue_le'],
  },
  'PATCH /api/v1/notifications/lues': { as: (fx) => fx.ptitspas.parent.headers, changes: ['notifications.lue_le'] },
  'POST /api/v1/notifications/ticket': { as: (fx) => fx.ptitspas.parent.headers, changes: ['tickets_ws.*'] },
  // app.inject cannot upgrade: a plain GET is told to (426); tests/ptitspas/live.test.ts opens real sockets.
  'GET /api/v1/notifications/ws': { as: (fx) => fx.ptitspas.parent.headers, query: { depuis: uuidv7() }, status: 426 },
  'GET /api/v1/verification/:code': {
    url: async (fx) => `/api/v1/verification/${(await fx.ptitspas.contrat('brouillon')).code_verification}`,
  },
  'DELETE /api/v1/assistantes-maternelles/:id': {
    as: superAdmin,
    url: ptitspasAccountUrl('/api/v1/assistantes-maternelles', 'assistante_maternelle'),
    changes: [
      'utilisateurs.*',
      'assistantes_maternelles.*',
      'refresh_families.*',
      'historique_statuts.*',
      'notifications.*',
    ],
  },
};

export interface ApiRoute {
  key: string;
  method: string;
  url: string;
  api: 'medreport' | 'ptitspas';
  schema: RouteOptions['schema'];
}

/** The pages of each API outside its tree: those its e-mailed password links open. */
const API_PAGES: Record<string, ApiRoute['api']> = {
  [RESET_PASSWORD_PAGE]: 'medreport',
  [SET_PASSWORD_PAGE]: 'ptitspas',
};

const apiOf = (url: string): ApiRoute['api'] =>
  API_PAGES[url] ?? (/^\/api\/v1(\/|$)/.test(url) ? 'ptitspas' : 'medreport');

/**
 * Every route of the route table under /api (the documentation aside) and each API's pages, of
 * one API or both; HEAD goes with its GET.
 */
export function apiRoutes(app: App, only?: ApiRoute['api']): ApiRoute[] {
  return app.routeTable
    .filter(
      (r) =>
        ((r.url === '/api' || r.url.startsWith('/api/')) && !r.url.startsWith('/api/docs')) ||
        Object.hasOwn(API_PAGES, r.url),
    )
    .flatMap((r) =>
      [r.method]
        .flat()
        .filter((m) => m !== 'HEAD')
        .map((method) => ({
          key: `${method} ${r.url}`,
          method,
          url: r.url,
          api: apiOf(r.url),
          schema: r.schema,
        })),
    )
    .filter((r) => !only || r.api === only);
}

/**
 * The routes each API serves without a token, on purpose. A route added later without
 * authentication fails the route-auth suites until it is listed here; the OpenAPI contract test
 * checks that exactly these have no security requirement.
 */
export const PUBLIC_ROUTES = {
  medreport: new Set([
    'GET /api',
    'POST /api/register',
    'POST /api/register-owner',
    'POST /api/register-doctor',
    'POST /api/login',
    'POST /api/forgot-password',
    'POST /api/reset-password',
    `GET ${RESET_PASSWORD_PAGE}`,
    'GET /api/verify/:code',
    ...['google', 'facebook', 'github'].flatMap((p) => [`GET /api/auth/${p}`, `GET /api/auth/${p}/callback`]),
  ]),
  ptitspas: new Set([
    'GET /api/v1',
    'GET /api/v1/',
    'GET /api/v1/hello',
    'POST /api/v1/auth/login',
    'POST /api/v1/auth/register',
    'POST /api/v1/auth/refresh',
    'POST /api/v1/auth/set-password',
    `GET ${SET_PASSWORD_PAGE}`,
    'GET /api/v1/verification/:code',
  ]),
};
