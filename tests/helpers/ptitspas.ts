import { randomBytes } from 'node:crypto';
import type { PtitsPasRole } from '../../db/schema.js';
import { createSuperAdmin } from '../../domain/ptitspas/users/admin.js';
import type { App } from '../../src/app.js';
import { bearer, uniqueEmail } from './users.js';

/** The password every PtitsPas test account is given. */
export const PTITSPAS_PASSWORD = 'mot de passe de recette';

export interface PtitsPasAccount {
  id: string;
  email: string;
  role: PtitsPasRole;
  access: string;
  refresh: string;
  headers: Record<string, string>;
}

/** A childminder's agreement number no other test uses. */
export const uniqueAgrement = () => `AM-${randomBytes(5).toString('hex').toUpperCase()}`;

/** A valid /auth/register body for the role (with a password unless `password: undefined`). */
export function registration(
  role: 'parent' | 'assistante_maternelle',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    email: uniqueEmail(role === 'parent' ? 'parent' : 'am'),
    password: PTITSPAS_PASSWORD,
    prenom: 'Léa',
    nom: 'Dupont',
    role,
    telephone: '0601020304',
    ...(role === 'assistante_maternelle' ? { numero_agrement: uniqueAgrement(), date_agrement: '2015-06-01' } : {}),
    ...extra,
  };
}

async function expectStatus(res: { statusCode: number; body: string }, status: number, what: string) {
  if (res.statusCode !== status) throw new Error(`${what}: ${res.statusCode} ${res.body}`);
}

export async function ptitspasLogin(app: App, email: string, password = PTITSPAS_PASSWORD): Promise<PtitsPasAccount> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  await expectStatus(res, 200, `login ${email}`);
  const { access_token: access, refresh_token: refresh, user } = res.json();
  return { id: user.id, email, role: user.role, access, refresh, headers: bearer(access) };
}

/** A super admin, as `npm run cli -- ptitspas:create-admin` makes one, logged in. */
export async function ptitspasSuperAdmin(app: App): Promise<PtitsPasAccount> {
  const email = uniqueEmail('super');
  await createSuperAdmin(
    app.systemDb,
    { email, prenom: 'Admin', nom: 'Système', password: async () => PTITSPAS_PASSWORD },
    app.passwords.internal,
  );
  return ptitspasLogin(app, email);
}

/**
 * A logged-in account of any role, made through the API: staff by a super admin (POST /users),
 * parents and childminders by registration then validation by `admin`.
 */
export async function ptitspasAccount(app: App, admin: PtitsPasAccount, role: PtitsPasRole): Promise<PtitsPasAccount> {
  let email: string;
  if (role === 'parent' || role === 'assistante_maternelle') {
    const body = registration(role);
    email = body.email as string;
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: body });
    await expectStatus(res, 201, `register ${role}`);
    const valid = await app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${res.json().userId}/valider`,
      headers: admin.headers,
      payload: { comment: 'Dossier complet' },
    });
    await expectStatus(valid, 200, `validate ${role}`);
  } else {
    email = uniqueEmail(role);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: admin.headers,
      payload: { email, password: PTITSPAS_PASSWORD, role, prenom: 'Marie', nom: 'Martin' },
    });
    await expectStatus(res, 201, `create ${role}`);
  }
  return ptitspasLogin(app, email);
}
