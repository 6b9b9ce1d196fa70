import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { type FilePart, multipart } from '../helpers/multipart.js';
import { type PtitsPasAccount, ptitspasAccount, ptitspasSuperAdmin } from '../helpers/ptitspas.js';
import { completeDossier, PDF, uploaded } from '../helpers/ptitspas-files.js';
import { apiRoutes } from '../helpers/route-recipes.js';

// Object-level access to the objects of one family (A) on every /uploads and /dossiers route:
// a parent of another family, a childminder without contract (she sees no child) and A's own
// co-parent once suspended. The routes come from the route table: a route added under these
// paths fails here until its case is written below.

const owner = await testDb();
const app: App = await buildTestApp();
afterAll(async () => {
  await app.close();
  await owner.db.destroy();
});

const ROUTES = apiRoutes(app, 'ptitspas').filter((r) => /^\/api\/v1\/(uploads|dossiers)(\/|$)/.test(r.url));

let admin: PtitsPasAccount;
let gestionnaire: PtitsPasAccount;
/** Family A: its parent, who keeps access, and the co-parent an admin suspends. */
let parentA: PtitsPasAccount;
let suspendedA: PtitsPasAccount;
let otherParent: PtitsPasAccount;
let childminder: PtitsPasAccount;

beforeAll(async () => {
  admin = await ptitspasSuperAdmin(app);
  // One after the other: password hashing admits only a few at once from one address.
  gestionnaire = await ptitspasAccount(app, admin, 'gestionnaire');
  parentA = await ptitspasAccount(app, admin, 'parent');
  suspendedA = await ptitspasAccount(app, admin, 'parent');
  otherParent = await ptitspasAccount(app, admin, 'parent');
  childminder = await ptitspasAccount(app, admin, 'assistante_maternelle');
  const linked = await call('PATCH', `/parents/${parentA.id}`, admin, { id_co_parent: suspendedA.id });
  expect(linked.statusCode, linked.body).toBe(200);
  // The other family has a child and a dossier of its own: it sees something, just not A's.
  const theirs = await newChild(otherParent);
  const put = await call('PUT', `/dossiers/${theirs}`, otherParent, completeDossier());
  expect(put.statusCode, put.body).toBe(200);
  // Suspended while holding a live login: the access token it has is no longer honoured.
  const suspended = await call('PATCH', `/users/${suspendedA.id}/suspendre`, admin, { comment: 'Suspension' });
  expect(suspended.statusCode, suspended.body).toBe(200);
});

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const call = (method: Method, url: string, who: PtitsPasAccount, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: who.headers, ...(payload ? { payload } : {}) });
const error = (statusCode: number, error: string, message: string) => ({ statusCode, error, message });

async function newChild(who: PtitsPasAccount): Promise<string> {
  const res = await call('POST', '/enfants', who, {
    prenom: 'Alice',
    nom: 'Dupont',
    genre: 'F',
    date_naissance: '2021-01-15',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

/** A new child of family A: its dossier (in `statut`, when given) and a carnet piece of it. */
async function familyChild(statut?: 'brouillon' | 'soumis') {
  const enfant = await newChild(parentA);
  const carnet = await uploaded(app, parentA, { idEnfant: enfant });
  if (statut) {
    const put = await call('PUT', `/dossiers/${enfant}`, parentA, completeDossier([carnet]));
    expect(put.statusCode, put.body).toBe(200);
  }
  if (statut === 'soumis') {
    const submitted = await call('PATCH', `/dossiers/${enfant}/soumettre`, parentA);
    expect(submitted.statusCode, submitted.body).toBe(200);
  }
  return { enfant, carnet };
}

/** One request on an object of family A. */
interface Target {
  enfant: string;
  url: string;
  payload?: object;
  form?: Record<string, string | FilePart>;
}

interface AccessCase {
  /** Makes a fresh object of family A and the request addressing it. */
  target(): Promise<Target>;
  /** Who may make that request (it must succeed for them, after the intruders): its status. */
  allowed: () => [PtitsPasAccount, number];
  /**
   * What the intruders get: 404 (they cannot see it) or 403 (the role guard refuses their role
   * outright); for a list, 200 without A's object.
   */
  intruders: { otherParent: 404 | 403; childminder: 404 | 403 } | 'list';
}

const carnetForm = (enfant: string): Record<string, string | FilePart> => ({
  categorie: 'carnet_vaccination',
  id_enfant: enfant,
  fichier: { filename: 'carnet.pdf', contentType: 'application/pdf', data: PDF },
});
const onUpload =
  (suffix = '') =>
  async (): Promise<Target> => {
    const { enfant, carnet } = await familyChild();
    return { enfant, url: `/uploads/${carnet}${suffix}` };
  };
const onDossier =
  (statut: 'brouillon' | 'soumis', suffix = '', payload?: (carnet: string) => object) =>
  async (): Promise<Target> => {
    const { enfant, carnet } = await familyChild(statut);
    return { enfant, url: `/dossiers/${enfant}${suffix}`, payload: payload?.(carnet) };
  };

const CASES: Record<string, AccessCase> = {
  'POST /api/v1/uploads': {
    target: async () => {
      const { enfant } = await familyChild();
      return { enfant, url: '/uploads', form: carnetForm(enfant) };
    },
    allowed: () => [parentA, 201],
    intruders: { otherParent: 404, childminder: 404 },
  },
  'GET /api/v1/uploads/:id': {
    target: onUpload(),
    allowed: () => [parentA, 200],
    intruders: { otherParent: 404, childminder: 404 },
  },
  'GET /api/v1/uploads/:id/contenu': {
    target: onUpload('/contenu'),
    allowed: () => [parentA, 200],
    intruders: { otherParent: 404, childminder: 404 },
  },
  'DELETE /api/v1/uploads/:id': {
    target: onUpload(),
    allowed: () => [parentA, 200],
    intruders: { otherParent: 404, childminder: 404 },
  },
  'GET /api/v1/dossiers': {
    target: async () => {
      const { enfant } = await familyChild('brouillon');
      return { enfant, url: '/dossiers?limit=100' };
    },
    allowed: () => [parentA, 200],
    intruders: 'list',
  },
  'GET /api/v1/dossiers/:id_enfant': {
    target: onDossier('brouillon'),
    allowed: () => [parentA, 200],
    intruders: { otherParent: 404, childminder: 404 },
  },
  'PUT /api/v1/dossiers/:id_enfant': {
    target: onDossier('brouillon', '', (carnet) => ({ ...completeDossier([carnet]), contacts_urgence: [] })),
    allowed: () => [parentA, 200],
    // She never writes a dossier: the role guard refuses her before the child is looked up.
    intruders: { otherParent: 404, childminder: 403 },
  },
  'PATCH /api/v1/dossiers/:id_enfant/soumettre': {
    target: onDossier('brouillon', '/soumettre'),
    allowed: () => [parentA, 200],
    intruders: { otherParent: 404, childminder: 403 },
  },
  'PATCH /api/v1/dossiers/:id_enfant/valider': {
    target: onDossier('soumis', '/valider', () => ({ commentaire: 'Complet' })),
    allowed: () => [gestionnaire, 200],
    intruders: { otherParent: 403, childminder: 403 },
  },
  'PATCH /api/v1/dossiers/:id_enfant/completer': {
    target: onDossier('soumis', '/completer', () => ({ commentaire: 'Il manque une pièce' })),
    allowed: () => [gestionnaire, 200],
    intruders: { otherParent: 403, childminder: 403 },
  },
};

function send(method: string, who: PtitsPasAccount, target: Target) {
  const url = `/api/v1${target.url}`;
  if (target.form) {
    const form = multipart(target.form);
    return app.inject({
      method: method as Method,
      url,
      headers: { ...who.headers, ...form.headers },
      payload: form.payload,
    });
  }
  return app.inject({
    method: method as Method,
    url,
    headers: who.headers,
    ...(target.payload ? { payload: target.payload } : {}),
  });
}

/** Everything attached to the child `enfant`: what no refused request may change. */
async function stateOf(enfant: string) {
  const [dossier, uploads, pieces, notifications, objects] = await Promise.all([
    owner.pool.query('select * from ptitspas.dossiers where id_enfant = $1', [enfant]),
    owner.pool.query('select * from ptitspas.uploads where id_enfant = $1 order by id', [enfant]),
    owner.pool.query('select * from ptitspas.dossiers_pieces where id_enfant = $1 order by position', [enfant]),
    owner.pool.query('select * from ptitspas.notifications where lien_id = $1 order by id', [enfant]),
    (async () => {
      const keys: string[] = [];
      for await (const object of app.storage.list()) keys.push(object.key);
      return keys.sort();
    })(),
  ]);
  return {
    dossier: dossier.rows,
    uploads: uploads.rows,
    pieces: pieces.rows,
    notifications: notifications.rows,
    objects,
  };
}

const EXPECTED_ERRORS = {
  403: error(403, 'Forbidden', 'Accès refusé : rôle insuffisant'),
  404: { statusCode: 404, error: 'Not Found' },
};

it('covers exactly the /uploads and /dossiers routes of the route table', () => {
  expect(ROUTES.length).toBeGreaterThanOrEqual(10);
  expect(Object.keys(CASES).sort()).toEqual(ROUTES.map((r) => r.key).sort());
});

describe.each(ROUTES.map((r) => [r.key, r] as const))('%s on an object of family A', (key, route) => {
  it('answers 404 (or 403 from the role guard) to intruders, 401 to a suspended parent, and changes nothing', async () => {
    const access = CASES[key];
    if (!access) throw new Error(`no access case for ${key}: add one to CASES`);
    const target = await access.target();
    const before = await stateOf(target.enfant);

    const { intruders } = access;
    for (const [who, status] of [
      [otherParent, intruders === 'list' ? 200 : intruders.otherParent],
      [childminder, intruders === 'list' ? 200 : intruders.childminder],
    ] as const) {
      const res = await send(route.method, who, target);
      if (status === 200) {
        expect(res.statusCode, `${key} by ${who.role}`).toBe(200);
        expect(res.json().map((d: { id_enfant: string }) => d.id_enfant)).not.toContain(target.enfant);
        continue;
      }
      expect(res.statusCode, `${key} by ${who.role}: ${res.body}`).toBe(status);
      expect(res.json(), `${key} by ${who.role}`).toMatchObject(EXPECTED_ERRORS[status]);
      if (status === 404) expect(res.json().message).toMatch(/^(Fichier|Dossier|Enfant) non trouvé$/);
    }

    const suspended = await send(route.method, suspendedA, target);
    expect(suspended.statusCode, `${key} by the suspended co-parent`).toBe(401);
    expect(suspended.json()).toEqual(error(401, 'Unauthorized', 'Session expirée ou révoquée.'));

    expect(await stateOf(target.enfant)).toEqual(before);

    // The same request is a good one: the refusals above were about the caller.
    const [who, status] = access.allowed();
    const res = await send(route.method, who, target);
    expect(res.statusCode, `${key} by ${who.role}: ${res.body}`).toBe(status);
    if (intruders === 'list')
      expect(res.json().map((d: { id_enfant: string }) => d.id_enfant)).toContain(target.enfant);
  });
});

describe('a childminder without contract', () => {
  it('sees no child of family A, an empty dossier list, and never its decision_justice', async () => {
    const { enfant } = await familyChild('brouillon');
    const child = await call('GET', `/enfants/${enfant}`, childminder);
    expect(child.statusCode).toBe(404);
    expect(child.json()).toEqual(error(404, 'Not Found', 'Enfant non trouvé'));
    expect((await call('GET', `/enfants/${enfant}`, parentA)).statusCode).toBe(200);

    const list = await call('GET', '/dossiers', childminder);
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([]);
    expect(list.headers['x-total-count']).toBe('0');

    const court = await uploaded(app, gestionnaire, { idEnfant: enfant, categorie: 'decision_justice' });
    for (const suffix of ['', '/contenu']) {
      const res = await call('GET', `/uploads/${court}${suffix}`, childminder);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual(error(404, 'Not Found', 'Fichier non trouvé'));
      expect((await call('GET', `/uploads/${court}${suffix}`, parentA)).statusCode).toBe(200);
    }
  });
});
