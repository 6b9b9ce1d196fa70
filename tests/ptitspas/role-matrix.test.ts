import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PtitsPasRole } from '../../db/schema.js';
import { PTITSPAS_ROLES } from '../../domain/ptitspas/caller.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';
import { type PtitsPasAccount, ptitspasLogin } from '../helpers/ptitspas.js';
import { apiRoutes, RECIPES, type RecipeFixture, recipeFixture } from '../helpers/route-recipes.js';

// Who may call each PtitsPas route, copied from the document (shared/spec/ptitspas-api.md,
// "Rôles autorisés" / "Public"), not from the code: the code is checked against it. Every route
// of /api/v1 (and the PtitsPas page outside it) must be in this table and every entry must be a route.
const DOCUMENT: Record<string, 'public' | 'any' | readonly PtitsPasRole[]> = {
  'GET /api/v1': 'public',
  'GET /api/v1/': 'public',
  'GET /api/v1/hello': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/register': 'public',
  'POST /api/v1/auth/refresh': 'public',
  'POST /api/v1/auth/set-password': 'public',
  // Not in the document: the page its e-mailed link opens when no app page is configured.
  'GET /ptitspas/definir-mot-de-passe': 'public',
  'GET /api/v1/auth/me': 'any',
  'POST /api/v1/auth/logout': 'any',
  'GET /api/v1/users': ['super_admin'],
  'GET /api/v1/users/:id': ['super_admin', 'gestionnaire'],
  'POST /api/v1/users': ['super_admin'],
  'PATCH /api/v1/users/:id': ['super_admin'],
  'PATCH /api/v1/users/:id/valider': ['super_admin', 'gestionnaire', 'administrateur'],
  'PATCH /api/v1/users/:id/suspendre': ['super_admin', 'gestionnaire', 'administrateur'],
  'DELETE /api/v1/users/:id': ['super_admin'],
  'GET /api/v1/gestionnaires': ['super_admin', 'gestionnaire'],
  'GET /api/v1/gestionnaires/:id': ['super_admin', 'gestionnaire'],
  'POST /api/v1/gestionnaires': ['super_admin'],
  'PATCH /api/v1/gestionnaires/:id': ['super_admin'],
  'GET /api/v1/parents': ['super_admin', 'gestionnaire'],
  'GET /api/v1/parents/:id': ['super_admin', 'gestionnaire'],
  'POST /api/v1/parents': ['super_admin', 'gestionnaire'],
  'PATCH /api/v1/parents/:id': ['super_admin', 'gestionnaire'],
  'GET /api/v1/enfants': ['super_admin', 'gestionnaire', 'administrateur'],
  // "parent (si c'est son enfant)": the recipes' children are the fixture parent's, who calls as parent.
  // v1.4 (ptitspas-evolutions.md): a childminder reads the children of her current contracts here.
  'GET /api/v1/enfants/:id': ['super_admin', 'gestionnaire', 'administrateur', 'parent', 'assistante_maternelle'],
  'POST /api/v1/enfants': ['parent'],
  'PATCH /api/v1/enfants/:id': ['super_admin', 'administrateur', 'parent'],
  'DELETE /api/v1/enfants/:id': ['super_admin'],
  'GET /api/v1/assistantes-maternelles': ['super_admin', 'gestionnaire'],
  'GET /api/v1/assistantes-maternelles/:id': ['super_admin', 'gestionnaire'],
  'POST /api/v1/assistantes-maternelles': ['super_admin', 'gestionnaire'],
  'PATCH /api/v1/assistantes-maternelles/:id': ['super_admin', 'gestionnaire'],
  'DELETE /api/v1/assistantes-maternelles/:id': ['super_admin', 'gestionnaire', 'administrateur'],
  // ptitspas-evolutions.md (v1.4), "Uploads" and "Dossiers".
  'POST /api/v1/uploads': 'any',
  'GET /api/v1/uploads/:id': 'any',
  'GET /api/v1/uploads/:id/contenu': 'any',
  'DELETE /api/v1/uploads/:id': 'any',
  'GET /api/v1/dossiers': 'any',
  'GET /api/v1/dossiers/:id_enfant': 'any',
  'PUT /api/v1/dossiers/:id_enfant': ['super_admin', 'administrateur', 'gestionnaire', 'parent'],
  'PATCH /api/v1/dossiers/:id_enfant/soumettre': ['parent'],
  'PATCH /api/v1/dossiers/:id_enfant/valider': ['super_admin', 'administrateur', 'gestionnaire'],
  'PATCH /api/v1/dossiers/:id_enfant/completer': ['super_admin', 'administrateur', 'gestionnaire'],
  // "Contrats": the recipes' contracts are the fixture parent's (the employer and author).
  'POST /api/v1/contrats': ['super_admin', 'administrateur', 'gestionnaire', 'parent'],
  'GET /api/v1/contrats': 'any',
  'GET /api/v1/contrats/:id': 'any',
  'PATCH /api/v1/contrats/:id': ['super_admin', 'administrateur', 'gestionnaire', 'parent'],
  'PATCH /api/v1/contrats/:id/proposer': ['super_admin', 'administrateur', 'gestionnaire', 'parent'],
  'PATCH /api/v1/contrats/:id/signer': ['parent', 'assistante_maternelle'],
  'PATCH /api/v1/contrats/:id/terminer': 'any',
  'GET /api/v1/contrats/:id/pdf': 'any',
  'GET /api/v1/verification/:code': 'public',
  // "Événements": the recipes' children are the fixture parent's; written by staff.
  'POST /api/v1/evenements': ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle'],
  'GET /api/v1/evenements': 'any',
  'GET /api/v1/evenements/:id': 'any',
  'PATCH /api/v1/evenements/:id': ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle'],
  'DELETE /api/v1/evenements/:id': ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle'],
  'GET /api/v1/enfants/:id/journal': 'any',
  // "Messages": staff talk with anyone, so every role may write to the super admin.
  'POST /api/v1/messages/conversations': 'any',
  'GET /api/v1/messages/conversations': 'any',
  'GET /api/v1/messages/conversations/:id/messages': 'any',
  'POST /api/v1/messages/conversations/:id/messages': 'any',
  'PATCH /api/v1/messages/conversations/:id/lu': 'any',
  // "Notifications": each account its own.
  'GET /api/v1/notifications': 'any',
  'GET /api/v1/notifications/compteur': 'any',
  'PATCH /api/v1/notifications/:id/lue': 'any',
  'PATCH /api/v1/notifications/lues': 'any',
  'POST /api/v1/notifications/ticket': 'any',
  'GET /api/v1/notifications/ws': 'any',
};

// Roles the role guard lets through but to whom the recipe's object is not theirs: the rule of
// "who sees a child" answers 404 (a childminder sees only the children of her current contracts,
// and the recipes' children have none).
const NON_MEMBERS = ['administrateur', 'gestionnaire', 'assistante_maternelle'] as const;
const NOT_THEIRS: Record<string, readonly PtitsPasRole[]> = {
  'GET /api/v1/enfants/:id': ['assistante_maternelle'],
  'GET /api/v1/uploads/:id': ['assistante_maternelle'],
  'GET /api/v1/uploads/:id/contenu': ['assistante_maternelle'],
  'DELETE /api/v1/uploads/:id': ['assistante_maternelle'],
  'GET /api/v1/dossiers/:id_enfant': ['assistante_maternelle'],
  // A childminder reads her own contracts only; the recipes' are another's.
  'GET /api/v1/contrats/:id': ['assistante_maternelle'],
  'GET /api/v1/contrats/:id/pdf': ['assistante_maternelle'],
  'PATCH /api/v1/contrats/:id/signer': ['assistante_maternelle'],
  'PATCH /api/v1/contrats/:id/terminer': ['assistante_maternelle'],
  // A childminder without a contract does not see the recipes' children.
  'POST /api/v1/evenements': ['assistante_maternelle'],
  'GET /api/v1/evenements': ['assistante_maternelle'],
  'GET /api/v1/evenements/:id': ['assistante_maternelle'],
  'PATCH /api/v1/evenements/:id': ['assistante_maternelle'],
  'DELETE /api/v1/evenements/:id': ['assistante_maternelle'],
  'GET /api/v1/enfants/:id/journal': ['assistante_maternelle'],
  // The recipes' conversations are between the fixture parent and the super admin.
  'GET /api/v1/messages/conversations/:id/messages': NON_MEMBERS,
  'POST /api/v1/messages/conversations/:id/messages': NON_MEMBERS,
  'PATCH /api/v1/messages/conversations/:id/lu': NON_MEMBERS,
  // The recipe's notification is the fixture parent's: anyone else's is not found.
  'PATCH /api/v1/notifications/:id/lue': ['super_admin', 'administrateur', 'gestionnaire', 'assistante_maternelle'],
};

let app: App;
let fx: RecipeFixture;
const accounts = {} as Record<PtitsPasRole, PtitsPasAccount>;

beforeAll(async () => {
  app = await buildTestApp();
  fx = await recipeFixture(app);
  accounts.super_admin = fx.ptitspas.superAdmin;
  accounts.parent = fx.ptitspas.parent;
  for (const role of PTITSPAS_ROLES.filter((r) => r !== 'super_admin' && r !== 'parent')) {
    accounts[role] = await fx.ptitspas.account(role);
  }
});
afterAll(() => app.close());

const ptitspasRoutes = () => apiRoutes(app, 'ptitspas').map((r) => r.key);

/** The route's recipe request (tests/helpers/route-recipes.ts), sent with `headers`. */
async function send(key: string, headers: Record<string, string>) {
  const recipe = RECIPES[key]!;
  const [method, route] = key.split(' ') as [string, string];
  const url = (await recipe.url?.(fx)) ?? route;
  const query = recipe.query ? `${url.includes('?') ? '&' : '?'}${new URLSearchParams(recipe.query).toString()}` : '';
  if (recipe.multipart) {
    const form = multipart(await recipe.multipart(fx));
    return app.inject({
      method: method as 'POST',
      url: url + query,
      headers: { ...headers, ...form.headers },
      payload: form.payload,
    });
  }
  const body = recipe.body ? await recipe.body(fx) : undefined;
  return app.inject({ method: method as 'GET', url: url + query, headers, ...(body ? { payload: body } : {}) });
}

/** A new login of the role's account for each request: logout and the like spend their own session. */
const as = async (role: PtitsPasRole) => (await ptitspasLogin(app, accounts[role].email)).headers;

describe('the document’s role table over the PtitsPas route table', () => {
  it('names every route of /api/v1, and only routes that exist', () => {
    const routes = ptitspasRoutes();
    expect(routes.filter((k) => !(k in DOCUMENT))).toEqual([]);
    expect(Object.keys(DOCUMENT).filter((k) => !routes.includes(k))).toEqual([]);
  });

  it.each(Object.keys(DOCUMENT))('%s: each role allowed succeeds, each other role gets 403', async (key) => {
    const rule = DOCUMENT[key]!;
    const expected = RECIPES[key]!.status;
    for (const role of PTITSPAS_ROLES) {
      const allowed = rule === 'public' || rule === 'any' || rule.includes(role);
      const res = await send(key, await as(role));
      if (allowed && NOT_THEIRS[key]?.includes(role)) {
        expect(res.statusCode, `${role}: ${res.body}`).toBe(404);
      } else if (allowed) {
        if (expected) expect(res.statusCode, `${role}: ${res.body}`).toBe(expected);
        else expect(res.statusCode, `${role}: ${res.body}`).toBeLessThan(300);
      } else {
        expect(res.statusCode, `${role}: ${res.body}`).toBe(403);
        expect(res.json()).toEqual({ statusCode: 403, message: 'Accès refusé : rôle insuffisant', error: 'Forbidden' });
      }
    }
  });
});
