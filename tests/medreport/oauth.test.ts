import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { OAuthProviderConfig, OAuthProviderName } from '../../src/config.js';
import { buildTestApp } from '../helpers/app.js';
import { testDb } from '../helpers/database.js';
import { bearer, registerUser, uniqueEmail } from '../helpers/users.js';

// A real OAuth2/OIDC server on a local port stands in for Google, Facebook and GitHub: the app
// redirects to it, the "browser" (fetch) follows, and the app trades the code at its token endpoint.
const provider = new OAuth2Server();
let app: App;
const handle = await testDb();

function providerConfig(name: string): OAuthProviderConfig {
  const base = provider.issuer.url!;
  return {
    clientId: `${name}-client`,
    clientSecret: `${name}-secret`,
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    userinfoUrl: `${base}/userinfo`,
  };
}

beforeAll(async () => {
  await provider.issuer.keys.generate('RS256');
  await provider.start(0, '127.0.0.1');
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
  await provider.stop();
  await handle.db.destroy();
});

/** What the provider's userinfo endpoint answers for the next login. */
function nextUserinfo(body: Record<string, unknown>) {
  provider.service.once('beforeUserinfo', (response) => {
    response.body = body;
  });
}

/** Runs the browser part of the flow; returns the callback request the provider sends back. */
async function authorize(name: OAuthProviderName) {
  const start = await app.inject({ method: 'GET', url: `/api/auth/${name}` });
  expect(start.statusCode).toBe(302);
  const authorizeUrl = new URL(start.headers.location as string);
  expect(authorizeUrl.origin).toBe(provider.issuer.url);
  expect(authorizeUrl.searchParams.get('client_id')).toBe(`${name}-client`);
  expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`http://api.test/api/auth/${name}/callback`);
  expect(authorizeUrl.searchParams.get('state')).toBeTruthy();
  expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');

  const cookies = [start.headers['set-cookie']]
    .flat()
    .filter(Boolean)
    .map((c) => String(c).split(';')[0])
    .join('; ');
  const atProvider = await fetch(authorizeUrl, { redirect: 'manual' });
  expect(atProvider.status).toBe(302);
  const callback = new URL(atProvider.headers.get('location')!);
  expect(callback.pathname).toBe(`/api/auth/${name}/callback`);
  return { path: `${callback.pathname}${callback.search}`, callback, cookies };
}

async function login(name: OAuthProviderName, userinfo: Record<string, unknown>, target: App = app) {
  const flow = await authorize(name);
  nextUserinfo(userinfo);
  return target.inject({ method: 'GET', url: flow.path, headers: { cookie: flow.cookies } });
}

const profiles: Record<OAuthProviderName, (email: string, id: string) => Record<string, unknown>> = {
  google: (email, id) => ({ sub: id, email, email_verified: true, name: 'Gina Google' }),
  facebook: (email, id) => ({ id, email, name: 'Fabien Facebook' }),
  github: (email, id) => ({ id: Number(id.replace(/\D/g, '').slice(0, 9) || 1), login: 'octo', email, name: null }),
};

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
      const res = await bare.inject({ method: 'GET', url: '/api/auth/google' });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ success: false });
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
