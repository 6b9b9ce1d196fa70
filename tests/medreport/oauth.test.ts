import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OAuthProviderName } from '../../routes/medreport/oauth/provider-config.js';
import type { App } from '../../src/app.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { oauthProfiles as profiles, startOAuthProvider } from '../helpers/oauth.js';
import { bearer, registerUser, uniqueEmail } from '../helpers/users.js';

const oauth = await startOAuthProvider();
const providerConfig = oauth.config;
const nextUserinfo = oauth.nextUserinfo;
let app: App;
const handle = await testDb();

beforeAll(async () => {
  app = await buildTestApp({
    config: {
      publicUrl: 'http://api.test',
      oauth: {
        google: providerConfig('google'),
        facebook: providerConfig('facebook'),
        github: providerConfig('github'),
      },
    },
  });
});
afterAll(async () => {
  await app.close();
  await oauth.stop();
  await handle.db.destroy();
});

const authorize = (name: OAuthProviderName) => oauth.authorize(app, name);
const login = (name: OAuthProviderName, userinfo: Record<string, unknown>) => oauth.login(app, name, userinfo);

describe.each(['google', 'facebook', 'github'] as const)('%s login', (name) => {
  it('creates an account for a new verified e-mail and answers a working token', async () => {
    const email = uniqueEmail(name);
    const res = await login(name, profiles[name](email, `${name}-${email}`));
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ success: true, token: expect.any(String), user: { email } });
    expect(body.user.email_verified_at).not.toBeNull();
    const me = await app.inject({ method: 'GET', url: '/api/user', headers: bearer(body.token) });
    expect(me.json().email).toBe(email);

    // The same identity later: the same account, not a second one.
    const again = await login(name, profiles[name](email, `${name}-${email}`));
    expect(again.json().user.id).toBe(body.user.id);
  });

  it('links the identity to an existing account with the same e-mail', async () => {
    const existing = await registerUser(app);
    const res = await login(name, profiles[name](existing.email.toUpperCase(), `${name}-link-${existing.email}`));
    expect(res.statusCode).toBe(200);
    expect(res.json().user.id).toBe(existing.user.id);
    const identities = await handle.db
      .selectFrom('medreport.oauth_identities')
      .select(['provider', 'user_id'])
      .where('user_id', '=', existing.user.id)
      .execute();
    expect(identities).toEqual([{ provider: name, user_id: existing.user.id }]);
  });

  it('rejects a callback whose state does not match the cookie', async () => {
    const flow = await authorize(name);
    flow.callback.searchParams.set('state', 'forged-state');
    const res = await app.inject({
      method: 'GET',
      url: `${flow.callback.pathname}${flow.callback.search}`,
      headers: { cookie: flow.cookies },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, message: expect.stringContaining('Échec de la connexion') });
  });

  it('rejects a callback without the state cookie', async () => {
    const flow = await authorize(name);
    const res = await app.inject({ method: 'GET', url: flow.path });
    expect(res.statusCode).toBe(401);
  });
});

describe('OAuth edge cases', () => {
  it('refuses an e-mail the provider has not verified', async () => {
    const res = await login('google', { sub: 'unverified-1', email: uniqueEmail(), email_verified: false, name: 'X' });
    expect(res.statusCode).toBe(422);
    expect(res.json().message).toContain("pas fourni d'adresse e-mail vérifiée");
  });

  it('refuses a GitHub account whose address is private and cannot be read', async () => {
    const res = await login('github', { id: 424242, login: 'ghost', email: null });
    expect(res.statusCode).toBe(422);
  });

  it('answers 404 for an unknown provider', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/auth/twitter' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/auth/twitter/callback?code=x' })).statusCode).toBe(404);
  });

  it('answers 404 for a provider without credentials', async () => {
    const bare = await buildTestApp({ config: { oauth: { github: providerConfig('github') } } });
    try {
      for (const url of ['/api/auth/google', '/api/auth/google/callback?code=x&state=y']) {
        const res = await bare.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(404);
        expect(res.json(), url).toMatchObject({
          success: false,
          message: "La connexion avec Google n'est pas disponible sur ce serveur.",
        });
      }
      expect((await bare.inject({ method: 'GET', url: '/api/auth/github' })).statusCode).toBe(302);
    } finally {
      await bare.close();
    }
  });

  it('redirects to OAUTH_SUCCESS_REDIRECT with the token when configured', async () => {
    const mobile = await buildTestApp({
      config: {
        publicUrl: 'http://api.test',
        oauthSuccessRedirect: 'medreport://oauth/success',
        oauth: { google: providerConfig('google') },
      },
    });
    try {
      const flow = await (async () => {
        const start = await mobile.inject({ method: 'GET', url: '/api/auth/google' });
        const cookies = [start.headers['set-cookie']]
          .flat()
          .map((c) => String(c).split(';')[0])
          .join('; ');
        const atProvider = await fetch(start.headers.location as string, { redirect: 'manual' });
        const callback = new URL(atProvider.headers.get('location')!);
        return { path: `${callback.pathname}${callback.search}`, cookies };
      })();
      nextUserinfo({ sub: 'mobile-1', email: uniqueEmail('mobile'), email_verified: true, name: 'Mo Bile' });
      const res = await mobile.inject({ method: 'GET', url: flow.path, headers: { cookie: flow.cookies } });
      expect(res.statusCode).toBe(302);
      const target = new URL(res.headers.location as string);
      expect(`${target.protocol}//${target.host}${target.pathname}`).toBe('medreport://oauth/success');
      const token = target.searchParams.get('token')!;
      expect((await mobile.inject({ method: 'GET', url: '/api/user', headers: bearer(token) })).statusCode).toBe(200);
    } finally {
      await mobile.close();
    }
  });
});
